import CurlHTTP
import Foundation
import Logging
import OCI
import Synchronization

/// Limits and retry settings of a `RegistryClient`.
public struct RegistryClientOptions: Sendable {
    /// The largest manifest, index or token response read into memory.
    public var maxDocumentSize = 4 << 20
    /// The largest config blob read into memory.
    public var maxConfigSize = 16 << 20
    /// How many times a transient failure (network, 5xx, 429) is retried.
    public var retries = 5
    /// The first retry's delay; each next one doubles it.
    public var retryDelay: Duration = .milliseconds(200)
    /// Registries reached over plain HTTP besides loopback ones (`host:port`).
    public var insecureRegistries: Set<String> = []

    public init() {}
}

/// A client of the OCI distribution API: pulls manifests and blobs, pushes
/// them, and answers auth challenges (Basic, Bearer tokens cached per scope).
public final class RegistryClient: Sendable {
    let transport: any HTTPTransport
    let credentials: CredentialStore
    public let options: RegistryClientOptions
    let logger: Logger
    /// `Authorization` values by `registry|scope` (Bearer) or `registry|basic`.
    private let authorizations = Mutex<[String: String]>([:])

    public init(transport: any HTTPTransport = CurlTransport.shared, credentials: CredentialStore = CredentialStore(),
                options: RegistryClientOptions = RegistryClientOptions(), logger: Logger = Logger(label: "fnrt.registry")) {
        self.transport = transport
        self.credentials = credentials
        self.options = options
        self.logger = logger
    }

    // MARK: URLs

    /// The API base URL of `registry`: plain HTTP for loopback and listed
    /// insecure registries, HTTPS otherwise; Docker Hub's API host for docker.io.
    public func baseURL(_ registry: String) -> String {
        let host = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        let plain = Self.isLoopback(registry) || options.insecureRegistries.contains(registry)
        return (plain ? "http://" : "https://") + host
    }

    /// True for `localhost`, `127.x.y.z` and `[::1]`, with or without a port.
    public static func isLoopback(_ registry: String) -> Bool {
        var host = Substring(registry)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            return host[host.index(after: host.startIndex)..<close] == "::1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func url(_ ref: ImageReference, _ path: String) throws -> URL {
        let string = "\(baseURL(ref.registry))/v2/\(ref.repository)/\(path)"
        guard let url = URL(string: string) else { throw RegistryError.invalidResponse(url: string, reason: "not a valid URL") }
        return url
    }

    static func scope(_ ref: ImageReference, push: Bool) -> String {
        "repository:\(ref.repository):" + (push ? "pull,push" : "pull")
    }

    // MARK: Manifests

    /// A manifest or index exactly as the registry sent it.
    public struct FetchedManifest: Sendable {
        public var data: Data
        public var mediaType: String
        public var digest: Digest
        public var document: ManifestDocument
    }

    static let manifestAccept = [
        MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
        MediaType.dockerSchema1Signed, MediaType.dockerSchema1,
    ].joined(separator: ", ")

    /// Fetches the manifest or index `ref` names, verifying it against the
    /// reference's digest (or the registry's `Docker-Content-Digest`).
    public func manifest(_ ref: ImageReference, reference: String? = nil) async throws -> FetchedManifest {
        let which = reference ?? ref.manifestReference
        var request = HTTPRequest(url: try url(ref, "manifests/\(which)"))
        request.setHeader("Accept", Self.manifestAccept)
        let what = "manifest \(ref.name)\(which.hasPrefix("sha256:") ? "@" : ":")\(which)"
        let (head, body) = try await fetch(request, ref: ref, what: what, limit: options.maxDocumentSize)
        let actual = Digest.sha256(of: body)
        let expected: Digest? = {
            if which.hasPrefix("sha") { return try? Digest(parsing: which) }
            return head.header("Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        }()
        if let expected, expected.algorithm == "sha256", expected != actual {
            throw RegistryError.digestMismatch(what: what, expected: expected, actual: actual)
        }
        let (document, type): (ManifestDocument, String)
        do { (document, type) = try ManifestDocument.decode(body, mediaType: head.header("Content-Type")) } catch {
            throw RegistryError.invalidDocument(error)
        }
        return FetchedManifest(data: body, mediaType: type, digest: actual, document: document)
    }

    /// Reads a small blob (a config) into memory and verifies it.
    public func blob(_ ref: ImageReference, _ descriptor: Descriptor) async throws -> Data {
        guard descriptor.size <= options.maxConfigSize else {
            throw RegistryError.responseTooLarge(url: "blob \(descriptor.digest)", limit: options.maxConfigSize)
        }
        let request = HTTPRequest(url: try url(ref, "blobs/\(descriptor.digest)"))
        let what = "blob \(descriptor.digest) of \(ref.name)"
        let (_, body) = try await fetch(request, ref: ref, what: what, limit: Int(descriptor.size))
        let actual = Digest.sha256(of: body)
        guard Int64(body.count) == descriptor.size else {
            throw RegistryError.sizeMismatch(what: what, expected: descriptor.size, actual: Int64(body.count))
        }
        guard actual == descriptor.digest else { throw RegistryError.digestMismatch(what: what, expected: descriptor.digest, actual: actual) }
        return body
    }

    /// Streams a blob into `writer`, verifying size and digest as it arrives.
    /// A transfer cut short resumes with `Range` from the bytes already
    /// written; redirects are followed without carrying `Authorization` to
    /// another origin. On any failure the caller discards the writer's file.
    public func download(_ ref: ImageReference, _ descriptor: Descriptor, into writer: BlobWriter, what: String,
                         progress: @escaping @Sendable (Int64) -> Void = { _ in }) async throws {
        let sink = BlobSink(writer: writer, expectedSize: descriptor.size, progress: progress)
        let request = HTTPRequest(url: try url(ref, "blobs/\(descriptor.digest)"))
        let (head, _) = try await execute(request, ref: ref, push: false, sink: { sink }) { request in
            sink.prepareAttempt()
            request.setHeader("Range", writer.count > 0 ? "bytes=\(writer.count)-" : nil)
        } retryIf: { error in
            // The sink's own verdicts (too large, disk full) are final.
            !sink.failedForGood
        }
        if case .sizeMismatch(_, let expected, let actual)? = sink.error {
            throw RegistryError.sizeMismatch(what: what, expected: expected, actual: actual)
        }
        if case .io(_, let reason)? = sink.error { throw RegistryError.io(path: what, reason: "writing it to the store: \(reason)") }
        if let error = sink.error { throw error }
        guard head.isSuccess else { throw failure(head, sink.errorBody, method: "GET", url: request.url, what: what) }
        guard writer.count == descriptor.size else {
            throw RegistryError.sizeMismatch(what: what, expected: descriptor.size, actual: writer.count)
        }
        do { try writer.flush() } catch { throw RegistryError.io(path: what, reason: "writing it to the store: \(BlobSink.reason(error))") }
        let actual = writer.digest
        guard actual == descriptor.digest else { throw RegistryError.digestMismatch(what: what, expected: descriptor.digest, actual: actual) }
    }

    // MARK: Push

    /// True when the repository already has the blob.
    public func blobExists(_ ref: ImageReference, _ digest: Digest) async throws -> Bool {
        let request = HTTPRequest(method: "HEAD", url: try url(ref, "blobs/\(digest)"))
        let (head, body) = try await exchange(request, ref: ref, push: true, limit: 0)
        if head.status == 404 { return false }
        guard head.isSuccess else { throw failure(head, body, method: "HEAD", url: request.url, what: "blob \(digest)") }
        return true
    }

    /// Uploads a blob from an open file: in one `PUT`, or in `PATCH` chunks of
    /// `chunkSize` bytes when the blob is larger than that.
    public func uploadBlob(_ ref: ImageReference, _ descriptor: Descriptor, fileDescriptor fd: Int32, chunkSize: Int64? = nil) async throws {
        let what = "upload of blob \(descriptor.digest) to \(ref.name)"
        let start = HTTPRequest(method: "POST", url: try url(ref, "blobs/uploads/"))
        var (head, body) = try await exchange(start, ref: ref, push: true, limit: 64 << 10)
        guard head.status == 202, var location = head.header("Location") else {
            throw failure(head, body, method: "POST", url: start.url, what: what)
        }
        if let chunkSize, chunkSize > 0, descriptor.size > chunkSize {
            var offset: Int64 = 0
            while offset < descriptor.size {
                let length = min(chunkSize, descriptor.size - offset)
                var patch = HTTPRequest(method: "PATCH", url: try resolve(location, against: start.url),
                                        body: .file(descriptor: fd, offset: offset, length: length))
                patch.setHeader("Content-Type", "application/octet-stream")
                patch.setHeader("Content-Range", "\(offset)-\(offset + length - 1)")
                (head, body) = try await exchange(patch, ref: ref, push: true, limit: 64 << 10, retry: false)
                guard head.status == 202, let next = head.header("Location") else {
                    throw failure(head, body, method: "PATCH", url: patch.url, what: what)
                }
                location = next
                offset += length
            }
            var put = HTTPRequest(method: "PUT", url: try resolve(location, against: start.url, digest: descriptor.digest))
            put.setHeader("Content-Type", "application/octet-stream")
            (head, body) = try await exchange(put, ref: ref, push: true, limit: 64 << 10, retry: false)
        } else {
            var put = HTTPRequest(method: "PUT", url: try resolve(location, against: start.url, digest: descriptor.digest),
                                  body: .file(descriptor: fd, offset: 0, length: descriptor.size))
            put.setHeader("Content-Type", "application/octet-stream")
            (head, body) = try await exchange(put, ref: ref, push: true, limit: 64 << 10, retry: false)
        }
        guard head.status == 201 else { throw failure(head, body, method: "PUT", url: start.url, what: what) }
    }

    /// Puts a manifest or index under `reference` (a tag or digest).
    public func putManifest(_ ref: ImageReference, reference: String, data: Data, mediaType: String) async throws {
        var request = HTTPRequest(method: "PUT", url: try url(ref, "manifests/\(reference)"), body: .data(data))
        request.setHeader("Content-Type", mediaType)
        let (head, body) = try await exchange(request, ref: ref, push: true, limit: 64 << 10)
        guard head.status == 201 else {
            throw failure(head, body, method: "PUT", url: request.url, what: "manifest \(ref.name):\(reference)")
        }
    }

    func resolve(_ location: String, against base: URL, digest: Digest? = nil) throws -> URL {
        var string = location
        if let digest {
            string += (location.contains("?") ? "&" : "?") + "digest=" + digest.description.replacingOccurrences(of: ":", with: "%3A")
        }
        guard let url = URL(string: string, relativeTo: base)?.absoluteURL else {
            throw RegistryError.invalidResponse(url: base.absoluteString, reason: "bad Location header '\(location)'")
        }
        return url
    }

    // MARK: Requests

    /// A buffered request whose success body is returned; errors mapped.
    func fetch(_ request: HTTPRequest, ref: ImageReference, what: String, limit: Int) async throws -> (HTTPResponseHead, Data) {
        let (head, body) = try await exchange(request, ref: ref, push: false, limit: limit)
        guard head.isSuccess else { throw failure(head, body, method: request.method, url: request.url, what: what) }
        return (head, body)
    }

    /// A buffered request: the head and body of the final response, whatever its status.
    func exchange(_ request: HTTPRequest, ref: ImageReference, push: Bool, limit: Int, retry: Bool = true) async throws -> (HTTPResponseHead, Data) {
        var sink = BufferSink(limit: 0)
        let (head, _) = try await execute(request, ref: ref, push: push, sink: {
            sink = BufferSink(limit: max(limit, 64 << 10))
            return sink
        }, prepare: { _ in }, retryIf: { _ in retry && !sink.exceeded })
        if sink.exceeded { throw RegistryError.responseTooLarge(url: request.url.absoluteString, limit: limit) }
        if head.isSuccess, sink.data.count > limit, request.method != "HEAD" {
            throw RegistryError.responseTooLarge(url: request.url.absoluteString, limit: limit)
        }
        return (head, sink.data)
    }

    /// The request loop: authorization (answering one 401 challenge),
    /// redirects (Authorization kept to the registry's own origin), and
    /// retries of transient failures with exponential backoff.
    func execute(_ original: HTTPRequest, ref: ImageReference, push: Bool, sink makeSink: () -> any ResponseSink,
                 prepare: (inout HTTPRequest) -> Void, retryIf: (any Error) -> Bool) async throws -> (HTTPResponseHead, any ResponseSink) {
        let scope = Self.scope(ref, push: push)
        let origin = Self.origin(original.url)
        var request = original
        var attempt = 0, redirects = 0
        var authenticated = false
        while true {
            prepare(&request)
            let sameOrigin = Self.origin(request.url) == origin
            request.setHeader("Authorization", sameOrigin ? authorization(registry: ref.registry, scope: scope) : nil)
            let sink = makeSink()
            let head: HTTPResponseHead
            do {
                head = try await transport.perform(request, sink: sink)
            } catch let error as TransportError {
                if error.abortedBySink || error.isTransient, attempt < options.retries, retryIf(error) {
                    logger.debug("retrying after transport error", metadata: ["url": "\(request.url)", "error": "\(error)"])
                    try await backoff(&attempt)
                    continue
                }
                if error.abortedBySink { return (HTTPResponseHead(status: -1, headers: []), sink) }
                throw RegistryError.transport(error)
            }
            if head.status == 401, sameOrigin, !authenticated {
                authenticated = true
                try await authenticate(head, registry: ref.registry, scope: scope)
                continue
            }
            if [301, 302, 303, 307, 308].contains(head.status), let location = head.header("Location") {
                redirects += 1
                guard redirects <= 10 else { throw RegistryError.invalidResponse(url: request.url.absoluteString, reason: "too many redirects") }
                request.url = try resolve(location, against: request.url)
                if head.status == 303 { request.method = "GET"; request.body = nil }
                continue
            }
            if head.status == 429 || head.status >= 500, attempt < options.retries, retryIf(RegistryError.http(status: head.status, method: "", url: "", errors: [], body: "")) {
                try await backoff(&attempt)
                continue
            }
            return (head, sink)
        }
    }

    private func backoff(_ attempt: inout Int) async throws {
        let delay = options.retryDelay * (1 << attempt)
        attempt += 1
        try await Task.sleep(for: delay)
    }

    static func origin(_ url: URL) -> String {
        "\(url.scheme ?? "")://\(url.host ?? ""):\(url.port ?? (url.scheme == "https" ? 443 : 80))"
    }

    // MARK: Auth

    private func authorization(registry: String, scope: String) -> String? {
        authorizations.withLock { $0["\(registry)|\(scope)"] ?? $0["\(registry)|basic"] }
    }

    /// Answers a 401: Basic with the registry's credentials, or a Bearer token
    /// fetched from the challenge's realm (with credentials when there are some).
    private func authenticate(_ head: HTTPResponseHead, registry: String, scope: String) async throws {
        let challenges = head.headers("WWW-Authenticate").flatMap(AuthChallenge.parse)
        let credentials = credentials.credentials(for: registry)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            guard let realm = bearer.parameters["realm"], var components = URLComponents(string: realm) else {
                throw RegistryError.unauthorized(registry: registry, detail: "Bearer challenge without a usable realm")
            }
            var query = components.queryItems ?? []
            if let service = bearer.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            for s in Set([scope] + (bearer.parameters["scope"].map { [$0] } ?? [])) { query.append(URLQueryItem(name: "scope", value: s)) }
            components.queryItems = query
            guard let url = components.url else {
                throw RegistryError.unauthorized(registry: registry, detail: "bad token realm '\(realm)'")
            }
            var request = HTTPRequest(url: url)
            if let credentials { request.setHeader("Authorization", credentials.basicAuthorization) }
            let sink = BufferSink(limit: options.maxDocumentSize)
            let response: HTTPResponseHead
            do { response = try await transport.perform(request, sink: sink) } catch let error as TransportError {
                throw RegistryError.transport(error)
            }
            guard response.isSuccess else {
                let detail = String(decoding: sink.data.prefix(300), as: UTF8.self)
                throw RegistryError.unauthorized(registry: registry, detail:
                    "token server \(realm) answered \(response.status) for \(scope)\(credentials == nil ? " (no credentials given)" : ""): \(detail)")
            }
            struct TokenResponse: Decodable { var token: String?; var access_token: String? }
            guard let token = (try? JSONDecoder().decode(TokenResponse.self, from: sink.data)).flatMap({ $0.token ?? $0.access_token }),
                !token.isEmpty
            else {
                throw RegistryError.unauthorized(registry: registry, detail: "token server \(realm) sent no token")
            }
            authorizations.withLock { $0["\(registry)|\(scope)"] = "Bearer \(token)" }
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials else {
                throw RegistryError.unauthorized(registry: registry, detail:
                    "the registry requires a user name and password (--username/--password-stdin, FNRT_REGISTRY_USERNAME/FNRT_REGISTRY_PASSWORD, or docker login)")
            }
            authorizations.withLock { $0["\(registry)|basic"] = credentials.basicAuthorization }
        } else {
            throw RegistryError.unauthorized(registry: registry, detail: "401 without a supported WWW-Authenticate challenge")
        }
    }

    /// Maps a final error response to a `RegistryError`, with the registry's JSON errors.
    func failure(_ head: HTTPResponseHead, _ body: Data, method: String, url: URL, what: String) -> RegistryError {
        struct Errors: Decodable { var errors: [RegistryAPIError]? }
        let errors = (try? JSONDecoder().decode(Errors.self, from: body))?.errors ?? []
        switch head.status {
        case 404: return .notFound(what: what, errors: errors)
        case 401, 403:
            let detail = errors.isEmpty ? "HTTP \(head.status)" : RegistryError.describe(errors)
            return .unauthorized(registry: url.host.map { h in url.port.map { "\(h):\($0)" } ?? h } ?? url.absoluteString,
                                 detail: "\(detail) (\(what))")
        default:
            return .http(status: head.status, method: method, url: url.absoluteString, errors: errors,
                         body: String(decoding: body.prefix(1000), as: UTF8.self))
        }
    }

}
