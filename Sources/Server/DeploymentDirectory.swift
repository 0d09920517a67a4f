import Foundation
import Gateway
import Logging

/// Deployments kept as one JSON file each in a directory: loaded at start,
/// reloaded when a file changes (checked every second), and written by the
/// management API (`PUT /v2/deployments/{id}`). A file's name without
/// `.json` is the deployment's id.
actor DeploymentDirectory {
    let path: String
    let gateway: Gateway
    let logger: Logger
    /// What each file looked like when last deployed (size and modification time).
    private var seen: [String: FileStamp] = [:]

    struct FileStamp: Equatable {
        var size: Int
        var modified: Date
    }

    init(path: String, gateway: Gateway, logger: Logger) throws {
        self.path = path
        self.gateway = gateway
        self.logger = logger
        guard access(path, F_OK) != 0 else { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // A mistyped --specs would otherwise serve no deployment without a word.
        logger.notice("created the deployments directory, which did not exist", metadata: ["directory": "\(path)"])
    }

    /// Deploys every file that is new or changed since the last look and
    /// removes deployments whose file is gone. Returns the problems of files
    /// that were refused (their previous version, if any, stays served).
    @discardableResult
    func sync() async -> [String: SpecValidationError] {
        (try? await serialized { await self.syncNow() }) ?? [:]
    }

    private func syncNow() async -> [String: SpecValidationError] {
        var refused: [String: SpecValidationError] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        var present = Set<String>()
        for name in names {
            let id = String(name.dropLast(".json".count))
            present.insert(id)
            let file = "\(path)/\(name)"
            guard let stamp = Self.stamp(file), seen[id] != stamp else { continue }
            seen[id] = stamp
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            do {
                try await gateway.deploy(Array(data), id: id)
                logger.info("deployed", metadata: ["deployment": "\(id)", "file": "\(file)"])
            } catch {
                refused[id] = error
                logger.error("deployment refused; the one served before stays", metadata: ["deployment": "\(id)", "problems": "\(error.problems.map(\.description))"])
            }
        }
        for id in Set(seen.keys).subtracting(present) {
            seen[id] = nil
            _ = gateway.remove(id: id)
            logger.info("deployment removed", metadata: ["deployment": "\(id)"])
        }
        return refused
    }

    /// Validates and deploys `data` as `id`, then writes it (atomically) so
    /// it survives restarts. A refused spec writes nothing. (An actor: a
    /// reload of the directory never interleaves with a write.)
    func put(id: String, data: [UInt8]) async throws {
        try await serialized { try await self.putNow(id: id, data: data) }
    }

    private func putNow(id: String, data: [UInt8]) async throws {
        try await gateway.deploy(data, id: id)
        let file = "\(path)/\(id).json"
        try Data(data).write(to: URL(fileURLWithPath: file), options: .atomic)
        if let stamp = Self.stamp(file) { seen[id] = stamp }
    }

    /// Removes `id`; false when there is no such deployment.
    func delete(id: String) async -> Bool {
        (try? await serialized { await self.deleteNow(id: id) }) ?? false
    }

    private func deleteNow(id: String) -> Bool {
        let file = "\(path)/\(id).json"
        guard FileManager.default.fileExists(atPath: file) else { return false }
        try? FileManager.default.removeItem(atPath: file)
        seen[id] = nil
        _ = gateway.remove(id: id)
        return true
    }

    func contents(id: String) -> Data? {
        FileManager.default.contents(atPath: "\(path)/\(id).json")
    }

    /// The last operation queued: each waits for it, so a reload and an API
    /// write never interleave across their suspension points.
    private var tail: Task<Void, Never> = Task {}

    private func serialized<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task {
            await previous.value
            return try await body()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }

    /// Looks again every `interval` until cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await sync()
        }
    }

    static func stamp(_ file: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { return nil }
        return FileStamp(size: (attributes[.size] as? Int) ?? 0, modified: (attributes[.modificationDate] as? Date) ?? .distantPast)
    }

    /// A deployment id: a file name we are willing to write.
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 255 && !id.hasPrefix(".") && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
