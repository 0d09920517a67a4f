/// Errors in OCI data: references, digests, platforms and documents.
public enum OCIError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidReference(String, reason: String)
    case invalidDigest(String, reason: String)
    case invalidPlatform(String, reason: String)
    case invalidDocument(what: String, reason: String)

    public var description: String {
        switch self {
        case .invalidReference(let ref, let reason): "invalid image reference '\(ref)': \(reason)"
        case .invalidDigest(let digest, let reason): "invalid digest '\(digest)': \(reason)"
        case .invalidPlatform(let platform, let reason): "invalid platform '\(platform)': \(reason)"
        case .invalidDocument(let what, let reason): "invalid \(what): \(reason)"
        }
    }
}
