import Foundation
import Tuning

/// A function's runtime settings: what to run and within which limits.
/// Two calls with equal specs may share a container.
public struct FunctionSpec: Hashable, Sendable {
    public var app: String
    public var name: String
    /// The image, as named in the content store.
    public var image: String
    /// Memory in MB (Fn's default 128), also the container's memory+swap.
    public var memoryMB: Int = 128
    /// The longest a call may run (Fn: default 30 s, at most 300 s).
    public var timeout: Duration = .seconds(30)
    /// The longest a container may take to listen (Fn's 5 s by default).
    public var startupTimeout: Duration = .seconds(5)
    /// App config then function config: plain environment variables for the function.
    public var config: [String: String] = [:]
    /// The user the function runs as; nil: the image's, or 1000:1000 when that is root or unset.
    public var user: String?
    /// Size of the tmpfs at /tmp, in MB.
    public var tmpMB: Int = 32
    public var pidsLimit: Int = 64
    public var openFiles: Int = 1024
    /// CPU limit in cores (nil: none).
    public var cpus: Double?
    /// A hot container idle this long is stopped and removed (Fn: default 30 s, 1 s to 3600 s).
    public var idleTimeout: Duration = .seconds(30)
    /// At most this many containers of this function at once.
    public var maxContainers: Int = 10
    /// Containers kept hot at all times (provisioned concurrency).
    public var provisioned: Int = 0
    /// `idle_timeout: auto`: the hybrid histogram policy (the code `fnrt tune`
    /// simulates) learns this function's idle times and sets each container's
    /// keep-alive, unloading it after a call and pre-warming one before the
    /// next when that saves memory; `idleTimeout` serves until it has learned.
    public var adaptiveKeepAlive: HybridHistogram?
    /// The app's and function's ids (`FN_APP_ID`, `FN_FN_ID`); nil: the names.
    public var appID: String?
    public var functionID: String?

    public init(app: String, name: String, image: String) {
        self.app = app
        self.name = name
        self.image = image
    }

    /// The function and its image only: equal specs hash alike, and the
    /// scheduler's pools (one dictionary lookup per call) do not hash every
    /// setting, the config map included, on every call; specs that differ
    /// in other settings (a function's old and new pools) are few per bucket.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(app)
        hasher.combine(name)
        hasher.combine(image)
    }

    /// The deadline of a call to this function that starts at `now`: its
    /// timeout later (in whole seconds, as Fn's timeouts are given).
    public func callDeadline(from now: Date = Date()) -> Date {
        now + Double(timeout.components.seconds)
    }

    /// The environment of the function container contract (shared/contracts/fn-fdk.md).
    public var environment: [String] { environment(appID: appID ?? app, functionID: functionID ?? "\(app)/\(name)") }

    func environment(appID: String, functionID: String) -> [String] {
        var variables = config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        variables += [
            "FN_LISTENER=unix:/tmp/iofs/lsnr.sock", "FN_FORMAT=http-stream", "FN_TYPE=sync",
            "FN_APP_ID=\(appID)", "FN_FN_ID=\(functionID)", "FN_APP_NAME=\(app)", "FN_FN_NAME=\(name)", "FN_MEMORY=\(memoryMB)",
        ]
        return variables
    }
}
