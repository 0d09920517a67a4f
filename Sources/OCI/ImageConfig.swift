/// The image configuration blob: what a container runs and how.
public struct ImageConfig: Codable, Hashable, Sendable {
    /// The runtime part of the configuration (`config` in the JSON).
    public struct Execution: Codable, Hashable, Sendable {
        public var User: String?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?

        public init(User: String? = nil, Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil,
                    WorkingDir: String? = nil, Labels: [String: String]? = nil) {
            self.User = User
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
            self.Labels = Labels
        }
    }

    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String
        public var diff_ids: [Digest]

        public init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diff_ids = diffIDs
        }
    }

    public var architecture: String
    public var os: String
    public var variant: String?
    public var created: String?
    public var config: Execution?
    public var rootfs: RootFS

    public init(platform: Platform, config: Execution?, diffIDs: [Digest], created: String? = nil) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
        self.created = created
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}
