import CurlHTTP
import Foundation
import OCI
import Synchronization
import TestSupport
import Testing
@testable import Registry

/// A fake transport, for what the local registry cannot be made to do:
/// redirect a blob to another origin (object storage) and fail on cue.
final class ScriptedTransport: HTTPTransport {
    struct Seen: Sendable { var url: String; var headers: [String: String] }
    typealias Responder = @Sendable (HTTPRequest, Int) -> (status: Int, headers: [(String, String)], body: Data, cutAfter: Int?)
    let responder: Responder
    let seen = Mutex<[Seen]>([])

    init(_ responder: @escaping Responder) { self.responder = responder }

    func perform(_ request: HTTPRequest, sink: any ResponseSink) async throws -> HTTPResponseHead {
        let n = seen.withLock { s in
            s.append(Seen(url: request.url.absoluteString, headers: Dictionary(request.headers.map { ($0.name.lowercased(), $0.value) }) { $1 }))
            return s.count
        }
        let r = responder(request, n)
        let head = HTTPResponseHead(status: r.status, headers: r.headers.map { (name: $0.0, value: $0.1) })
        guard sink.begin(head) else { throw TransportError(code: -1, message: "aborted", url: "", isTransient: false, abortedBySink: true) }
        let body = r.cutAfter.map { r.body.prefix($0) } ?? r.body
        let ok = body.withUnsafeBytes { sink.write($0) }
        guard ok else { throw TransportError(code: -1, message: "aborted", url: "", isTransient: false, abortedBySink: true) }
        if r.cutAfter != nil { throw TransportError(code: 18, message: "transfer closed with bytes remaining", url: request.url.absoluteString, isTransient: true) }
        return head
    }
}

@Suite struct BlobDownloadTests {
    let content = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    var descriptor: Descriptor { Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(of: content), size: Int64(content.count)) }
    let ref = try! ImageReference(parsing: "registry.example/app:1")

    func tempWriter() throws -> (BlobWriter, String) {
        let path = Scratch.path("blob")
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        return (try BlobWriter(fileDescriptor: fd), path)
    }

    func client(_ transport: ScriptedTransport) -> RegistryClient {
        var options = RegistryClientOptions()
        options.retryDelay = .milliseconds(1)
        return RegistryClient(transport: transport, credentials: CredentialStore(explicit: Credentials(username: "u", password: "p")), options: options)
    }

    @Test func redirectToAnotherOriginDropsAuthorization() async throws {
        let content = self.content
        let transport = ScriptedTransport { request, _ in
            if request.url.host == "registry.example" {
                if request.header("Authorization") == nil {
                    return (401, [("WWW-Authenticate", #"Basic realm="r""#)], Data(), nil)
                }
                return (307, [("Location", "https://storage.example/blob?sig=1")], Data(), nil)
            }
            return (200, [], content, nil)
        }
        let (writer, path) = try tempWriter()
        defer { unlink(path) }
        try await client(transport).download(ref, descriptor, into: writer, what: "layer")
        let seen = transport.seen.withLock { $0 }
        #expect(seen.map(\.url) == [
            "https://registry.example/v2/app/blobs/\(descriptor.digest)", "https://registry.example/v2/app/blobs/\(descriptor.digest)",
            "https://storage.example/blob?sig=1",
        ])
        #expect(seen[1].headers["authorization"] == "Basic " + Data("u:p".utf8).base64EncodedString())
        #expect(seen[2].headers["authorization"] == nil)
        #expect(FileManager.default.contents(atPath: path) == content)
    }

    @Test func cutTransferResumesWithRange() async throws {
        let content = self.content
        let transport = ScriptedTransport { request, n in
            if let range = request.header("Range") {
                let start = Int(range.dropFirst("bytes=".count).dropLast())!
                return (206, [("Content-Range", "bytes \(start)-\(content.count - 1)/\(content.count)")], content[start...], nil)
            }
            return (200, [], content, n == 1 ? 30_000 : nil)
        }
        let (writer, path) = try tempWriter()
        defer { unlink(path) }
        try await client(transport).download(ref, descriptor, into: writer, what: "layer")
        let seen = transport.seen.withLock { $0 }
        #expect(seen.count == 2)
        #expect(seen[1].headers["range"] == "bytes=30000-")
        #expect(FileManager.default.contents(atPath: path) == content)
    }

    @Test func oversizeBodyIsRefused() async throws {
        let content = self.content
        let transport = ScriptedTransport { _, _ in (200, [], content + Data([1, 2, 3]), nil) }
        let (writer, path) = try tempWriter()
        defer { unlink(path) }
        await #expect {
            try await client(transport).download(ref, descriptor, into: writer, what: "layer 2/3")
        } throws: { error in
            guard case RegistryError.sizeMismatch(let what, _, _) = error else { return false }
            return what == "layer 2/3"
        }
        #expect(transport.seen.withLock { $0.count } == 1)  // a wrong size is not retried
    }

    @Test func serverErrorsAreRetriedThenReported() async throws {
        let transport = ScriptedTransport { _, _ in (503, [], Data(#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#.utf8), nil) }
        let (writer, path) = try tempWriter()
        defer { unlink(path) }
        await #expect {
            try await client(transport).download(ref, descriptor, into: writer, what: "layer")
        } throws: { "\($0)".contains("HTTP 503") && "\($0)".contains("try later") }
        #expect(transport.seen.withLock { $0.count } == 6)
    }
}
