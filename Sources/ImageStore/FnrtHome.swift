import Foundation

/// Where fnrt keeps its state: `$FNRT_HOME`, else `~/.fnrt`.
public struct FnrtHome: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$FNRT_HOME`, or `~/.fnrt`, created if missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FnrtHome {
        let path = environment["FNRT_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.fnrt")
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw StoreError.io(path: path, operation: "create", errno: errno)
        }
        return FnrtHome(path: path)
    }
}
