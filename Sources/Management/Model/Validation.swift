import Foundation

/// Fn's field rules. Every message names the JSON field it is about.
enum Validate {
    /// A resource name: present, at most 255 characters, ASCII letters, digits, `_` and `-`.
    /// `resource` is how Fn names the resource in messages: "app", "Fn" or "Trigger".
    static func name(_ name: String?, resource: String) throws -> String {
        guard let name, !name.isEmpty else {
            throw ManagementError.invalid("name", "Missing \(resource) name")
        }
        guard name.utf8.count <= 255 else {
            throw ManagementError.invalid("name", "Invalid \(resource) name: name must be 255 characters or less")
        }
        guard name.utf8.allSatisfy({ isNameByte($0) }) else {
            throw ManagementError.invalid(
                "name", "Invalid \(resource) name: name may contain only letters, digits, '_' and '-'")
        }
        return name
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    static func memory(_ value: Int) throws {
        guard (1...Function.maxMemory).contains(value) else {
            throw ManagementError.invalid(
                "memory", "memory value is out of range. It should be between 1 and \(Function.maxMemory) (MB)")
        }
    }

    static func timeout(_ value: Int) throws {
        guard (1...Function.maxTimeout).contains(value) else {
            throw ManagementError.invalid(
                "timeout", "timeout value is out of range, must be between 1 and \(Function.maxTimeout) (seconds)")
        }
    }

    static func idleTimeout(_ value: Int) throws {
        guard (1...Function.maxIdleTimeout).contains(value) else {
            throw ManagementError.invalid(
                "idle_timeout",
                "idle_timeout value is out of range, must be between 1 and \(Function.maxIdleTimeout) (seconds)")
        }
    }

    /// Fn's annotation rules: at most 100 keys of 1-128 printable non-space ASCII bytes,
    /// values neither `""` nor `null` and at most 512 bytes of compact JSON.
    static func annotations(_ annotations: [String: JSONValue]) throws {
        guard annotations.count <= 100 else {
            throw ManagementError.invalid("annotations", "Invalid annotations: at most 100 keys are allowed")
        }
        let encoder = JSONEncoder()
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw ManagementError.invalid(
                    "annotations",
                    "Invalid annotation key \(quoted(key)): annotation keys must be non-empty ascii strings excluding whitespace")
            }
            guard key.utf8.count <= 128 else {
                throw ManagementError.invalid(
                    "annotations", "Invalid annotation key length: annotation keys may not be larger than 128 bytes")
            }
            guard !value.isEmptyAnnotation else {
                throw ManagementError.invalid(
                    "annotations",
                    "Invalid annotation value for \(quoted(key)): annotation values may only be non-empty strings, numbers, objects, or arrays")
            }
            guard let data = try? encoder.encode(value), data.count <= 512 else {
                throw ManagementError.invalid(
                    "annotations",
                    "Invalid annotation value length for \(quoted(key)): annotation values may not be larger than 512 bytes when serialized as JSON")
            }
        }
    }

    /// A function's annotations: `annotations`' rules, and fnrt's own
    /// provisioned concurrency, a whole number from 0 to 100.
    static func functionAnnotations(_ annotations: [String: JSONValue]) throws {
        try self.annotations(annotations)
        guard let value = annotations[Function.provisionedConcurrencyAnnotation] else { return }
        guard Function.provisionedCount(value) != nil else {
            throw ManagementError.invalid(
                "annotations",
                "Invalid annotation value for \(quoted(Function.provisionedConcurrencyAnnotation)): a whole number of containers from 0 to \(Function.maxProvisionedConcurrency)")
        }
    }

    /// Config entries become the function's environment variables (`KEY=value`):
    /// a key is non-empty and has no `=`, and neither key nor value has a NUL
    /// byte. Such a key would have reached the function renamed (`A=B` as `A`)
    /// or failed every start of its container.
    static func config(_ config: [String: String]) throws {
        for (key, value) in config.sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, !key.utf8.contains(UInt8(ascii: "=")), !key.utf8.contains(0) else {
                throw ManagementError.invalid(
                    "config",
                    "Invalid config key \(quoted(key)): config keys are environment variable names: non-empty, without '=' or NUL")
            }
            guard !value.utf8.contains(0) else {
                throw ManagementError.invalid("config", "Invalid config value for \(quoted(key)): config values may not contain NUL")
            }
        }
    }

    /// A config patch onto `stored`: each entry follows `config`'s rules,
    /// but for the removal of a stored key (so that a key stored before such
    /// keys were refused can still be removed).
    static func configPatch(_ patch: [String: String]?, onto stored: [String: String]) throws {
        try config((patch ?? [:]).filter { !($0.value.isEmpty && stored[$0.key] != nil) })
    }

    /// A comma-separated list of `udp`, `tcp`, `unix`, `unixgram` or `tcp+tls` URLs
    /// (the OpenAPI pattern `^(scheme)://[^,]+(, *(scheme)://[^,]+)*$`).
    static func syslogURL(_ value: String) throws {
        let schemes = ["tcp+tls", "unixgram", "unix", "udp", "tcp"]
        for (index, part) in value.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let scalars = part.unicodeScalars
            let url = index == 0 ? scalars[...] : scalars.drop(while: { $0 == " " })
            let valid = schemes.contains { scheme in
                let prefix = (scheme + "://").unicodeScalars
                return url.starts(with: prefix) && url.count > prefix.count
            }
            guard valid else {
                throw ManagementError.invalid(
                    "syslog_url",
                    "Invalid syslog_url \(quoted(String(url))): only comma-separated [tcp, udp, unix, unixgram, tcp+tls] URLs are supported")
            }
        }
    }

    static func shape(_ value: String) throws {
        guard App.shapes.contains(value) else {
            throw ManagementError.invalid(
                "shape", "Invalid app shape: shape must be one of \(App.shapes.joined(separator: ", "))")
        }
    }

    static func triggerType(_ value: String?) throws -> String {
        guard let value, !value.isEmpty else {
            throw ManagementError.invalid("type", "Missing type on Trigger: type must be \"http\"")
        }
        guard Trigger.types.contains(value) else {
            throw ManagementError.invalid("type", "Trigger type \(quoted(value)) not supported: type must be \"http\"")
        }
        return value
    }

    /// An HTTP trigger's path: starts with `/`, no whitespace, `?` or `#`.
    static func source(_ value: String?) throws -> String {
        guard let value, !value.isEmpty else {
            throw ManagementError.invalid("source", "Missing Trigger source")
        }
        guard value.unicodeScalars.first == "/" else {  // not hasPrefix: "/" may start a longer grapheme
            throw ManagementError.invalid("source", "Invalid Trigger source \(quoted(value)): source must start with '/'")
        }
        guard value.unicodeScalars.count <= Trigger.maxSourceLength else {
            throw ManagementError.invalid(
                "source", "Invalid Trigger source: source must be \(Trigger.maxSourceLength) characters or less")
        }
        guard value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "?" && $0 != "#" }) else {
            throw ManagementError.invalid(
                "source", "Invalid Trigger source \(quoted(value)): source may not contain whitespace, '?' or '#'")
        }
        return value
    }

    private static func quoted(_ s: String) -> String {
        "\"" + String(s.prefix(64)) + "\""
    }
}

/// Fn's update semantics for maps.
enum Merge {
    /// Sets each key of `patch`; a key whose value is empty is removed.
    static func config(_ base: [String: String], _ patch: [String: String]?) -> [String: String] {
        guard let patch else { return base }
        var result = base
        for (key, value) in patch {
            result[key] = value.isEmpty ? nil : value
        }
        return result
    }

    /// Sets each key of `patch`; a key whose value is `""` or `null` is removed.
    static func annotations(_ base: [String: JSONValue], _ patch: [String: JSONValue]?) -> [String: JSONValue] {
        guard let patch else { return base }
        var result = base
        for (key, value) in patch {
            result[key] = value.isEmptyAnnotation ? nil : value
        }
        return result
    }
}
