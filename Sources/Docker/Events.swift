import CurlHTTP
import Foundation

/// One event from Docker's `/events` stream.
public struct DockerEvent: Decodable, Sendable {
    public struct Actor: Decodable, Sendable {
        public var ID: String
        public var Attributes: [String: String]?
    }
    /// `container`, `image`, `network`...
    public var `Type`: String
    /// `create`, `start`, `die`, `destroy`, `oom`...
    public var Action: String
    public var Actor: Actor
    public var time: Int?
}

/// Splits a streamed response into lines and hands each to `onLine`.
final class LineSink: ResponseSink, @unchecked Sendable {
    // Unchecked: driven by one transfer thread at a time (see ResponseSink).
    private var pending = Data()
    private var status = 0
    private(set) var errorBody = Data()
    let onLine: @Sendable (Data) -> Void

    init(onLine: @escaping @Sendable (Data) -> Void) { self.onLine = onLine }

    func begin(_ head: HTTPResponseHead) -> Bool {
        status = head.status
        return true
    }

    func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard status == 200 else {
            if errorBody.count < 64 << 10 { errorBody.append(contentsOf: chunk) }
            return true
        }
        pending.append(contentsOf: chunk)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            if !line.isEmpty { onLine(Data(line)) }
            pending.removeSubrange(pending.startIndex...newline)
        }
        return true
    }

    /// Hands on a last line that had no newline (call once the transfer ended).
    func finish() {
        guard status == 200, !pending.isEmpty else { return }
        onLine(pending)
        pending = Data()
    }
}

extension DockerClient {
    /// Docker's events as they happen, filtered as `/events` filters them
    /// (`["type": ["container"], "label": ["fnrt.home=/x"], "event": ["die"]]`).
    /// The stream ends when the engine closes it (it stopped) or the
    /// consumer stops iterating; an unreachable engine ends it with an error.
    public func events(filters: [String: [String]]) -> AsyncThrowingStream<DockerEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let encoded = String(decoding: try JSONSerialization.data(withJSONObject: filters, options: [.sortedKeys]), as: UTF8.self)
                    let version = try await apiVersion()
                    var components = URLComponents(string: endpoint.baseURL + "/v\(version)/events")!
                    components.queryItems = [URLQueryItem(name: "filters", value: encoded)]
                    let sink = LineSink { line in
                        if let event = try? JSONDecoder().decode(DockerEvent.self, from: line) { continuation.yield(event) }
                    }
                    let head = try await streamingTransport.perform(HTTPRequest(url: components.url!), sink: sink)
                    if head.status != 200 {
                        throw Self.error(status: head.status, method: "GET", path: "/events", body: sink.errorBody)
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch let error as TransportError {
                    continuation.finish(throwing: DockerError.unreachable(endpoint: endpoint.description, reason: error.message))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
