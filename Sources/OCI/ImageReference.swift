/// An image reference, `[registry[:port]/]repository[:tag][@digest]`, parsed
/// and normalized the way Docker does: `busybox` is
/// `docker.io/library/busybox:latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry host, with its port when one was given (`docker.io`, `localhost:5000`).
    public let registry: String
    /// The repository path within the registry (`library/busybox`).
    public let repository: String
    /// The tag; `latest` when neither tag nor digest was given.
    public let tag: String?
    /// The digest, which wins over the tag when pulling.
    public let digest: Digest?

    public static let dockerHub = "docker.io"

    public init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalizes `string`; the error says which rule was broken.
    public init(parsing string: String) throws(OCIError) {
        func fail(_ reason: String) -> OCIError { .invalidReference(string, reason: reason) }
        guard !string.isEmpty else { throw fail("empty reference") }
        if string.utf8.count == 64, string.utf8.allSatisfy(Self.isLowerHex) {
            throw fail("cannot specify 64-byte hexadecimal strings; use sha256:<hex> after '@'")
        }
        var rest = Substring(string)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(rest[rest.index(after: at)...])) } catch {
                throw fail(error.description)
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let t = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(t) else {
                throw fail("invalid tag '\(t)': up to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'")
            }
            tag = t
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw fail("missing repository name") }

        var registry = Self.dockerHub
        var path = rest
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                registry = String(first)
                path = rest[rest.index(after: slash)...]
            }
        }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = Self.dockerHub }
        guard Self.isValidDomain(registry) else { throw fail("invalid registry host '\(registry)'") }
        if path.lowercased() != path { throw fail("repository name must be lowercase") }
        var repository = String(path)
        if registry == Self.dockerHub, !repository.contains("/") { repository = "library/" + repository }
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) {
            guard Self.isValidPathComponent(component) else {
                throw fail("invalid repository path component '\(component)': lowercase letters and digits, separated by '.', '_', '__' or dashes")
            }
        }
        guard registry.utf8.count + 1 + repository.utf8.count <= 255 else {
            throw fail("repository name must not be longer than 255 characters")
        }
        if tag == nil, digest == nil { tag = "latest" }
        self.init(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// `registry/repository`.
    public var name: String { "\(registry)/\(repository)" }

    /// The normalized form: `registry/repository[:tag][@digest]`.
    public var description: String {
        var s = name
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// What to ask the registry's manifest endpoint for: the digest when known, else the tag.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// The same repository with another tag or digest.
    public func with(tag: String?, digest: Digest?) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    // MARK: grammar

    private static func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }
    private static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.first, tag.count <= 128 else { return false }
        func word(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        return word(first) && tag.allSatisfy { word($0) || $0 == "." || $0 == "-" }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    static func isValidPathComponent(_ s: Substring) -> Bool {
        var chars = Array(s)[...]
        func alnumRun() -> Bool {
            var n = 0
            while let c = chars.first, isAlnum(c) { chars = chars.dropFirst(); n += 1 }
            return n > 0
        }
        guard alnumRun() else { return false }
        while let c = chars.first {
            if c == "." { chars = chars.dropFirst() }
            else if c == "_" {
                chars = chars.dropFirst()
                if chars.first == "_" { chars = chars.dropFirst() }
            } else if c == "-" {
                while chars.first == "-" { chars = chars.dropFirst() }
            } else { return false }
            guard alnumRun() else { return false }
        }
        return true
    }

    /// A host name, IPv4 address or bracketed IPv6 address, with an optional port.
    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.first == ":" else { return false }
            let port = host.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isNumber)
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let f = label.first, let l = label.last else { return false }
            func ok(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
            return ok(f) && ok(l) && label.allSatisfy { ok($0) || $0 == "-" }
        }
    }
}
