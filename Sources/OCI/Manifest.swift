import Foundation

/// A single-platform image manifest (OCI, or Docker schema 2: the same shape).
public struct Manifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociManifest, config: Descriptor, layers: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// A multi-platform image index (OCI) or manifest list (Docker).
public struct Index: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String? = MediaType.ociIndex, manifests: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// The manifest for `platform`, the best match first: exact variant, then
    /// the platform's default variant, then any variant of the same os/arch.
    public func manifest(for platform: Platform) -> Descriptor? {
        let candidates = manifests.filter { MediaType.manifests.contains($0.mediaType) && $0.platform != nil }
        return candidates.max { a, b in
            platform.matchScore(a.platform!) < platform.matchScore(b.platform!)
        }.flatMap { platform.matchScore($0.platform!) > 0 ? $0 : nil }
    }
}

/// A manifest or index as fetched, with the bytes its digest is computed from.
public enum ManifestDocument: Sendable {
    case manifest(Manifest)
    case index(Index)

    /// Decodes `data` according to `mediaType` (the Content-Type, or the
    /// document's own `mediaType` field when the header is generic).
    public static func decode(_ data: Data, mediaType declared: String?) throws(OCIError) -> (ManifestDocument, String) {
        struct Probe: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
            var manifests: [Descriptor]?
            var layers: [Descriptor]?
            var fsLayers: [[String: String]]?
        }
        let probe: Probe
        do { probe = try JSONDecoder().decode(Probe.self, from: data) } catch {
            throw .invalidDocument(what: "manifest", reason: "not JSON: \(error)")
        }
        let generic: Set<String> = ["", "application/json", "text/plain", "application/octet-stream"]
        var type = declared.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) } ?? ""
        if generic.contains(type) { type = probe.mediaType ?? "" }
        if type.isEmpty {
            if probe.schemaVersion == 1 || probe.fsLayers != nil { type = MediaType.dockerSchema1 }
            else if probe.manifests != nil { type = MediaType.ociIndex }
            else if probe.layers != nil { type = MediaType.ociManifest }
        }
        if MediaType.schema1.contains(type) || probe.schemaVersion == 1 {
            throw .invalidDocument(what: "manifest", reason:
                "Docker image manifest schema 1 is deprecated and not supported; push the image again with a current Docker or skopeo to convert it to schema 2 or OCI")
        }
        do {
            if MediaType.indexes.contains(type) {
                return (.index(try JSONDecoder().decode(Index.self, from: data)), type)
            }
            if MediaType.manifests.contains(type) {
                return (.manifest(try JSONDecoder().decode(Manifest.self, from: data)), type)
            }
        } catch {
            throw .invalidDocument(what: "manifest of type \(type)", reason: "\(error)")
        }
        throw .invalidDocument(what: "manifest", reason: "unsupported media type '\(type)'")
    }
}
