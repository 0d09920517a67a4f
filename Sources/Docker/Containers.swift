import CurlHTTP
import Foundation
import Synchronization

/// The part of Docker's container create body fnrt uses.
public struct ContainerConfig: Encodable, Sendable {
    public var Image: String
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var Env: [String]
    public var User: String?
    public var WorkingDir: String?
    public var Labels: [String: String]
    public var HostConfig: Host
    public var NetworkDisabled: Bool? = true

    public init(image: String, entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String], user: String?,
                labels: [String: String], hostConfig: Host) {
        Image = image
        Entrypoint = entrypoint
        Cmd = cmd
        Env = env
        User = user
        Labels = labels
        HostConfig = hostConfig
    }

    /// `HostConfig`: the limits and mounts.
    public struct Host: Encodable, Sendable {
        public struct LogConfiguration: Encodable, Sendable {
            public var `Type`: String
            public var Config: [String: String]
            public init(Type: String, Config: [String: String]) { self.Type = Type; self.Config = Config }
        }
        public struct Ulimit: Encodable, Sendable {
            public var Name: String
            public var Soft: Int
            public var Hard: Int
            public init(Name: String, Soft: Int, Hard: Int) { self.Name = Name; self.Soft = Soft; self.Hard = Hard }
        }
        public var NetworkMode = "none"
        public var Binds: [String] = []
        public var ReadonlyRootfs = true
        public var Tmpfs: [String: String] = [:]
        public var CapDrop = ["ALL"]
        public var SecurityOpt = ["no-new-privileges"]
        public var PidsLimit: Int?
        public var Ulimits: [Ulimit] = []
        public var Memory: Int64?
        public var MemorySwap: Int64?
        public var CpuQuota: Int?
        public var CpuPeriod: Int?
        public var Init = true
        /// Where the container's output goes. The default keeps at most two files of 1 MiB
        /// (the engine's own default, with no `max-size`, kept all of it until the container went).
        public var LogConfig = LogConfiguration(Type: "json-file", Config: ["max-size": "1m", "max-file": "2"])

        public init() {}
    }
}

/// A container as Docker lists it.
public struct ContainerSummary: Decodable, Sendable {
    public var Id: String
    public var Names: [String]?
    public var State: String?
    public var Labels: [String: String]?
}

extension DockerClient {
    /// Creates a container; returns its ID.
    public func createContainer(name: String?, _ config: ContainerConfig) async throws -> String {
        struct Created: Decodable { var Id: String }
        let body = try await call("POST", "/containers/create", query: name.map { ["name": $0] } ?? [:], json: config, expect: [201])
        guard let created = try? JSONDecoder().decode(Created.self, from: body) else {
            throw DockerError.invalidResponse(path: "/containers/create", reason: "no Id in the answer")
        }
        return created.Id
    }

    public func startContainer(_ id: String) async throws {
        try await call("POST", "/containers/\(id)/start", expect: [204, 304])
    }

    /// Stops with SIGTERM, then SIGKILL after `timeout` seconds.
    public func stopContainer(_ id: String, timeout: Int = 5) async throws {
        try await call("POST", "/containers/\(id)/stop", query: ["t": "\(timeout)"], expect: [204, 304])
    }

    public func killContainer(_ id: String, signal: String = "KILL") async throws {
        try await call("POST", "/containers/\(id)/kill", query: ["signal": signal], expect: [204, 409])
    }

    /// Removes a container, running or not; a missing one is not an error.
    public func removeContainer(_ id: String) async throws {
        do { try await call("DELETE", "/containers/\(id)", query: ["force": "true", "v": "true"], expect: [204]) } catch let error as DockerError where error.isNotFound {}
    }

    /// `docker inspect` as JSON.
    public func inspectContainer(_ id: String) async throws -> [String: Any] {
        let body = try await call("GET", "/containers/\(id)/json")
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw DockerError.invalidResponse(path: "/containers/\(id)/json", reason: "not a JSON object")
        }
        return object
    }

    /// Containers (running or not) carrying every label in `labels` (`key=value` or `key`).
    public func listContainers(labels: [String]) async throws -> [ContainerSummary] {
        let filters = try JSONSerialization.data(withJSONObject: ["label": labels])
        let body = try await call("GET", "/containers/json", query: ["all": "true", "filters": String(decoding: filters, as: UTF8.self)])
        return try JSONDecoder().decode([ContainerSummary].self, from: body)
    }

    /// Waits until the container stops; returns its exit code.
    public func waitContainer(_ id: String) async throws -> Int {
        struct Wait: Decodable { var StatusCode: Int }
        let body = try await call("POST", "/containers/\(id)/wait", streaming: true)
        return (try? JSONDecoder().decode(Wait.self, from: body))?.StatusCode ?? -1
    }

    /// The last `tail` lines of the container's output, stdout and stderr
    /// merged, decoded from Docker's multiplexed stream.
    public func logs(_ id: String, tail: Int = 20) async throws -> [String] {
        let body = try await call("GET", "/containers/\(id)/logs", query: ["stdout": "1", "stderr": "1", "tail": "\(tail)"])
        return Self.decodeLogFrames(body).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }

    /// Decodes Docker's log frames: 8-byte header (stream, 0, 0, 0, big-endian
    /// length) then the payload; text without frames (a TTY) passes through.
    public static func decodeLogFrames(_ data: Data) -> String {
        let bytes = [UInt8](data)
        var output: [UInt8] = []
        var i = 0
        while i + 8 <= bytes.count, [0, 1, 2].contains(bytes[i]), bytes[i + 1] == 0, bytes[i + 2] == 0, bytes[i + 3] == 0 {
            let length = Int(bytes[i + 4]) << 24 | Int(bytes[i + 5]) << 16 | Int(bytes[i + 6]) << 8 | Int(bytes[i + 7])
            let end = min(bytes.count, i + 8 + length)
            output += bytes[(i + 8)..<end]
            i = end
        }
        if i < bytes.count { output += bytes[i...] }
        return String(decoding: output, as: UTF8.self)
    }
}

extension DockerClient {
    /// True when the engine has an image with this ID (`sha256:<config digest>`) or name.
    public func imageExists(_ idOrName: String) async throws -> Bool {
        let (status, body) = try await send("GET", "/images/\(idOrName)/json")
        if status == 404 { return false }
        guard status == 200 else { throw Self.error(status: status, method: "GET", path: "/images/\(idOrName)/json", body: body) }
        return true
    }

    /// What `removeImage` did.
    public enum ImageRemoval: Sendable, Equatable {
        case removed
        /// The engine has no such image.
        case notFound
        /// A container uses it (Docker's 409 message).
        case inUse(String)
    }

    /// Removes the image with this ID or name, unless a container uses it
    /// (`DELETE /images/{id}`, not forced).
    public func removeImage(_ idOrName: String) async throws -> ImageRemoval {
        let path = "/images/\(idOrName)"
        let (status, body) = try await send("DELETE", path)
        switch status {
        case 200: return .removed
        case 404: return .notFound
        case 409: return .inUse(Self.error(status: status, method: "DELETE", path: path, body: body).description)
        default: throw Self.error(status: status, method: "DELETE", path: path, body: body)
        }
    }

    /// Loads a `docker save` archive read from `fileDescriptor` (`/images/load`);
    /// returns Docker's messages ("Loaded image ID: ..."). With `progress`,
    /// Docker's progress (per layer: bytes loaded of total) reaches it as it
    /// streams in. An error Docker reports mid-stream is thrown.
    public func loadImage(from fileDescriptor: Int32, progress: (@Sendable (ImageLoadProgress) -> Void)? = nil) async throws -> [String] {
        struct Detail: Decodable { var current: Int64?; var total: Int64? }
        struct Message: Decodable { var stream: String?; var error: String?; var status: String?; var id: String?; var progressDetail: Detail? }
        let collected = Mutex<(messages: [String], error: String?)>(([], nil))
        let sink = LineSink { line in
            guard let message = try? JSONDecoder().decode(Message.self, from: line) else { return }
            if let error = message.error { collected.withLock { $0.error = $0.error ?? error } }
            if let stream = message.stream { collected.withLock { $0.messages.append(stream.trimmingCharacters(in: .whitespacesAndNewlines)) } }
            if let status = message.status, let progress {
                progress(ImageLoadProgress(layer: message.id, status: status, current: message.progressDetail?.current, total: message.progressDetail?.total))
            }
        }
        let head = try await send("POST", "/images/load", query: ["quiet": progress == nil ? "1" : "0"], body: .stream(descriptor: fileDescriptor),
                                  contentType: "application/x-tar", streaming: true, into: sink)
        guard head.status == 200 else { throw Self.error(status: head.status, method: "POST", path: "/images/load", body: sink.errorBody) }
        sink.finish()
        // An error arrives as {"errorDetail":..., "error": "..."} with status 200.
        let (messages, error) = collected.withLock { ($0.messages, $0.error) }
        if let error { throw DockerError.api(status: 200, method: "POST", path: "/images/load", message: error) }
        return messages
    }
}

/// One progress message of `/images/load`: a layer's bytes loaded so far.
public struct ImageLoadProgress: Sendable, Equatable {
    /// Docker's short layer ID.
    public var layer: String?
    /// "Loading layer", ...
    public var status: String
    /// Bytes of the layer loaded so far, of `total` (the layer's tar size).
    public var current: Int64?
    public var total: Int64?

    /// True for the message that says a layer is wholly loaded.
    public var isLayerLoaded: Bool {
        guard let total, total > 0 else { return false }
        return current == total
    }
}
