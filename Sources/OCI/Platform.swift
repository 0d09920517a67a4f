/// An operating system and CPU architecture an image is built for.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`, normalizing architecture aliases
    /// (`x86_64` -> `amd64`, `aarch64` -> `arm64`).
    public init(parsing string: String) throws(OCIError) {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidPlatform(string, reason: "expected os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7")
        }
        self.init(os: parts[0].lowercased(), architecture: parts[1].lowercased(), variant: parts.count == 3 ? parts[2].lowercased() : nil)
        self = normalized
    }

    /// This machine's platform.
    public static var current: Platform {
        #if arch(x86_64)
        Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        Platform(os: "linux", architecture: "arm64", variant: "v8")
        #else
        Platform(os: "linux", architecture: "unknown")
        #endif
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// Aliases folded the way containerd's platforms package does.
    public var normalized: Platform {
        var p = self
        switch p.architecture {
        case "x86_64", "x86-64": p.architecture = "amd64"
        case "aarch64": p.architecture = "arm64"
        case "i386", "i686": p.architecture = "386"
        case "armhf": p.architecture = "arm"; p.variant = p.variant ?? "v7"
        case "armel": p.architecture = "arm"; p.variant = p.variant ?? "v6"
        default: break
        }
        if p.architecture == "arm64", p.variant == "8" { p.variant = "v8" }
        return p
    }

    /// 0 when `candidate` cannot run here; higher is a better match.
    func matchScore(_ candidate: Platform) -> Int {
        let want = normalized, have = candidate.normalized
        guard want.os == have.os, want.architecture == have.architecture else { return 0 }
        let defaultVariant: String? = want.architecture == "arm64" ? "v8" : nil
        switch (want.variant, have.variant) {
        case let (w, h) where w == h: return 3
        case let (w, h) where (w ?? defaultVariant) == (h ?? defaultVariant): return 3
        case (nil, _): return 1
        default: return 0
        }
    }
}
