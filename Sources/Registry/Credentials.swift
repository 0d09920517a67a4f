import CurlHTTP
import Foundation

/// A user name and password (or identity token) for a registry.
public struct Credentials: Hashable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The value of a Basic `Authorization` header.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// Where the registry client finds credentials: given ones first (flags or
/// environment), then Docker's `config.json` `auths` entries.
public struct CredentialStore: Sendable {
    private var byRegistry: [String: Credentials]
    private var fallback: Credentials?

    /// - Parameters:
    ///   - explicit: credentials for every registry (from flags or environment).
    ///   - dockerConfig: parsed Docker `config.json` entries, by registry host.
    public init(explicit: Credentials? = nil, byRegistry: [String: Credentials] = [:]) {
        self.fallback = explicit
        self.byRegistry = byRegistry
    }

    /// Credentials for `registry` (a host with an optional port).
    public func credentials(for registry: String) -> Credentials? {
        if let fallback { return fallback }
        if let c = byRegistry[registry] { return c }
        if registry == "docker.io" {
            return byRegistry["https://index.docker.io/v1/"] ?? byRegistry["index.docker.io"] ?? byRegistry["registry-1.docker.io"]
        }
        return nil
    }

    /// Reads Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`. A missing file gives no credentials; a broken
    /// one is an error naming the file.
    public static func dockerConfig(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: Credentials] {
        let directory = environment["DOCKER_CONFIG"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return try parseDockerConfig(data, path: path)
    }

    /// Parses the `auths` map of a Docker `config.json`: base64 `user:password`
    /// in `auth`, or `username` and `password` fields. Keys are normalized to
    /// hosts (`https://host/v1/` -> `host`), Docker Hub's legacy key kept.
    static func parseDockerConfig(_ data: Data, path: String) throws -> [String: Credentials] {
        struct Config: Decodable {
            struct Entry: Decodable { var auth: String?; var username: String?; var password: String?; var identitytoken: String? }
            var auths: [String: Entry]?
        }
        let config: Config
        do { config = try JSONDecoder().decode(Config.self, from: data) } catch {
            throw RegistryError.invalidCredentials(source: path, reason: "not a Docker config file: \(error)")
        }
        var result: [String: Credentials] = [:]
        for (key, entry) in config.auths ?? [:] {
            var credentials: Credentials?
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw RegistryError.invalidCredentials(source: path, reason: "auths[\"\(key)\"].auth is not base64 of user:password")
                }
                credentials = Credentials(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let user = entry.username, let password = entry.password {
                credentials = Credentials(username: user, password: password)
            }
            guard let credentials else { continue }
            result[key] = credentials
            result[normalizeHost(key)] = credentials
        }
        return result
    }

    static func normalizeHost(_ key: String) -> String {
        var host = Substring(key)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = host.dropFirst(scheme.count) }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        if host == "index.docker.io" || host == "registry-1.docker.io" { return "docker.io" }
        return String(host)
    }
}
