import CurlHTTP
import Foundation
import OCI

/// One entry of the distribution API's JSON error body `{"errors": [...]}`.
public struct RegistryAPIError: Codable, Equatable, Sendable {
    public var code: String
    public var message: String?
}

/// Why a registry operation failed, with what the registry or libcurl said.
public enum RegistryError: Error, Sendable, CustomStringConvertible {
    /// The connection failed (libcurl's message), after retries when transient.
    case transport(TransportError)
    /// The registry answered with an error status and, usually, a JSON error body.
    case http(status: Int, method: String, url: String, errors: [RegistryAPIError], body: String)
    /// The manifest or blob does not exist.
    case notFound(what: String, errors: [RegistryAPIError])
    /// Credentials were missing or refused.
    case unauthorized(registry: String, detail: String)
    /// Content did not match its digest: the download is discarded.
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    /// Content did not have the size its descriptor promised.
    case sizeMismatch(what: String, expected: Int64, actual: Int64)
    /// A response read into memory was larger than allowed.
    case responseTooLarge(url: String, limit: Int)
    /// No manifest in the index runs on the requested platform.
    case noMatchingPlatform(reference: String, wanted: Platform, available: [Platform])
    /// The registry sent something fnrt cannot use.
    case invalidResponse(url: String, reason: String)
    /// Credentials could not be read.
    case invalidCredentials(source: String, reason: String)
    /// The document was not valid OCI data.
    case invalidDocument(OCIError)
    /// A local file could not be read or written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .transport(let error): return "cannot reach registry: \(error)"
        case .http(let status, let method, let url, let errors, let body):
            let detail = errors.isEmpty ? body.prefix(300).trimmingCharacters(in: .whitespacesAndNewlines) : Self.describe(errors)
            return "\(method) \(url): HTTP \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        case .notFound(let what, let errors):
            return "\(what) not found" + (errors.isEmpty ? "" : " (\(Self.describe(errors)))")
        case .unauthorized(let registry, let detail): return "not authorized by \(registry): \(detail)"
        case .digestMismatch(let what, let expected, let actual):
            return "\(what): content does not match its digest (expected \(expected), got \(actual)); the download was discarded"
        case .sizeMismatch(let what, let expected, let actual):
            return "\(what): expected \(expected) bytes, got \(actual)\(actual > expected ? " or more" : ""); the download was discarded"
        case .responseTooLarge(let url, let limit): return "\(url): response larger than the \(limit)-byte limit"
        case .noMatchingPlatform(let reference, let wanted, let available):
            return "\(reference) has no image for \(wanted); it has: \(available.map(\.description).joined(separator: ", "))"
        case .invalidResponse(let url, let reason): return "\(url): \(reason)"
        case .invalidCredentials(let source, let reason): return "\(source): \(reason)"
        case .invalidDocument(let error): return error.description
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }

    static func describe(_ errors: [RegistryAPIError]) -> String {
        errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
    }

    /// True when the same request may succeed later (network faults, 5xx, 429).
    public var isTransient: Bool {
        switch self {
        case .transport(let e): e.isTransient
        case .http(let status, _, _, _, _): status == 429 || status >= 500
        default: false
        }
    }
}
