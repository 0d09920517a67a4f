/// A route's `path`: literal segments, `{name}` parameters and a final `{name*}` wildcard.
struct RoutePattern: Sendable {
    enum Segment: Sendable, Equatable {
        /// Matched against the request's percent-decoded segment.
        case literal(String)
        case parameter(String)
        /// Matches the rest of the path, zero or more segments.
        case wildcard(String)
    }

    let segments: [Segment]

    /// The parameters' names in order (`{rest*}` included).
    var parameterNames: [String] {
        segments.compactMap {
            switch $0 {
            case .literal: nil
            case .parameter(let name), .wildcard(let name): name
            }
        }
    }

    /// Routes with the same shape can only be told apart by their methods:
    /// `/a/{x}` and `/a/{y}/` have the same shape.
    var shape: String {
        segments.map {
            switch $0 {
            case .literal(let text): "=" + text
            case .parameter: "{}"
            case .wildcard: "{*}"
            }
        }.joined(separator: "/")
    }

    /// Parses `path`, or returns every problem with it.
    static func parse(_ path: String) -> Result<RoutePattern, RoutePatternError> {
        guard path.hasPrefix("/") else { return .failure(RoutePatternError(messages: ["must start with \"/\""])) }
        var problems: [String] = []
        if path.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace }) {
            problems.append("must not contain \"?\", \"#\" or spaces")
        }
        var raw = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if raw.last == "" { raw.removeLast() }  // a trailing slash is the same route
        var segments: [Segment] = []
        var seen: Set<String> = []
        for (index, text) in raw.enumerated() {
            if text.isEmpty { problems.append("empty segment (\"//\")"); continue }
            if text.first == "{" && text.last == "}" {
                var name = text.dropFirst().dropLast()
                let isWildcard = name.last == "*"
                if isWildcard { name = name.dropLast() }
                guard !name.isEmpty, name.utf8.allSatisfy(isNameByte) else {
                    problems.append("\"\(text)\": a parameter name is letters, digits and \"_\"")
                    continue
                }
                let key = String(name)
                if !seen.insert(key).inserted { problems.append("parameter {\(key)} appears twice") }
                if isWildcard {
                    if index != raw.count - 1 { problems.append("wildcard {\(key)*} must be the last segment") }
                    segments.append(.wildcard(key))
                } else {
                    segments.append(.parameter(key))
                }
            } else if text.contains("{") || text.contains("}") {
                problems.append("\"\(text)\": a parameter must be a whole segment, like {name}")
            } else {
                segments.append(.literal(PercentEncoding.decode(text)))
            }
        }
        return problems.isEmpty ? .success(RoutePattern(segments: segments)) : .failure(RoutePatternError(messages: problems))
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"): true
        default: false
        }
    }
}

/// What is wrong with a route's path.
struct RoutePatternError: Error, Sendable {
    var messages: [String]
}

/// A route's `methods`: a set of methods, or `ANY`.
struct MethodSet: Sendable, Equatable {
    /// The methods a spec may name, in the order an `Allow` header lists them.
    static let known = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    var methods: Set<String>
    var any: Bool

    func overlaps(_ other: MethodSet) -> Bool {
        any || other.any || !methods.isDisjoint(with: other.methods)
    }

    /// The methods both sets accept, for a problem's message.
    func overlap(with other: MethodSet) -> String {
        if any && other.any { return "ANY" }
        if any { return other.methods.sorted().joined(separator: ", ") }
        if other.any { return methods.sorted().joined(separator: ", ") }
        return methods.intersection(other.methods).sorted().joined(separator: ", ")
    }
}
