import HTTPTypes

/// One of OCI's context variables: `request.path[name]`, `request.query[name]`,
/// `request.headers[name]`, `request.auth[name]`, `request.host`.
enum ContextVariable: Sendable, Equatable {
    case path(String)
    case query(String)
    case header(HTTPField.Name)
    case auth(String)
    case host

    /// Parses `request.headers[X-Tenant]` and the like; the message says what is wrong.
    static func parse(_ text: String) -> Result<ContextVariable, TemplateError> {
        if text == "request.host" { return .success(.host) }
        guard text.hasPrefix("request."), text.hasSuffix("]"), let open = text.firstIndex(of: "[") else {
            return .failure(TemplateError("\"\(text)\" is not a context variable (request.path[x], request.query[x], request.headers[x], request.auth[x] or request.host)"))
        }
        let table = text[text.index(text.startIndex, offsetBy: 8)..<open]
        let key = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        guard !key.isEmpty, !key.contains("["), !key.contains("]") else {
            return .failure(TemplateError("\"\(text)\" needs a name between [ and ]"))
        }
        switch table {
        case "path": return .success(.path(key))
        case "query": return .success(.query(key))
        case "auth": return .success(.auth(key))
        case "headers":
            guard let name = HTTPField.Name(key) else { return .failure(TemplateError("\"\(key)\" is not a valid header name")) }
            return .success(.header(name))
        default:
            return .failure(TemplateError("unknown context table \"request.\(table)\" (path, query, headers, auth)"))
        }
    }

    /// The value in `context`, nil when absent.
    func value(in context: inout RequestContext) -> String? {
        switch self {
        case .path(let name): return context.request.pathParameters[name]
        case .query(let name): return context.query[name]
        case .header(let name):
            let values = context.request.headers[values: name]
            return values.isEmpty ? nil : values.joined(separator: ", ")
        case .auth(let name): return context.request.principal?.context[name]
        case .host: return context.request.host
        }
    }
}

struct TemplateError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A string with `${request.path[name]}`-style placeholders, parsed once at deploy time.
struct Template: Sendable {
    enum Part: Sendable {
        case literal(String)
        case variable(ContextVariable)
    }

    let parts: [Part]

    /// A template without placeholders.
    var literal: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    var variables: [ContextVariable] {
        parts.compactMap { if case .variable(let v) = $0 { v } else { nil } }
    }

    /// Parses `text`; `pathParameters`, when given, are the route's parameter
    /// names, and a `request.path[x]` naming another is an error.
    static func parse(_ text: String, pathParameters: Set<String>?) -> Result<Template, TemplateError> {
        var parts: [Part] = []
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            if start.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<start.lowerBound]))) }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                return .failure(TemplateError("\"${\" without its closing \"}\""))
            }
            switch ContextVariable.parse(String(rest[start.upperBound..<end])) {
            case .failure(let error): return .failure(error)
            case .success(let variable):
                if case .path(let name) = variable, let pathParameters, !pathParameters.contains(name) {
                    return .failure(TemplateError("request.path[\(name)]: the route's path has no parameter {\(name)}"))
                }
                parts.append(.variable(variable))
            }
            rest = rest[rest.index(after: end)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        return .success(Template(parts: parts))
    }

    /// The text with each variable's value (an absent one is empty); `encode`
    /// transforms values (e.g. percent-encoding in a URL).
    func render(_ context: inout RequestContext, encode: ((String, Int) -> String)? = nil) -> String {
        if let literal { return literal }
        var out = ""
        for (index, part) in parts.enumerated() {
            switch part {
            case .literal(let text): out += text
            case .variable(let variable):
                let value = variable.value(in: &context) ?? ""
                out += encode.map { $0(value, index) } ?? value
            }
        }
        return out
    }
}

/// A request on its way through a deployment, with what policies derive from
/// it once (the parsed query).
struct RequestContext: Sendable {
    var request: GatewayRequest
    private var parsedQuery: QueryParameters?

    init(request: GatewayRequest) { self.request = request }

    /// The query's parameters, parsed on first use.
    var query: QueryParameters {
        mutating get {
            if let parsedQuery { return parsedQuery }
            let parsed = QueryParameters(parsing: request.query)
            parsedQuery = parsed
            return parsed
        }
    }

    /// Replaces the query (transformations), keeping the request's raw query in step.
    mutating func setQuery(_ query: QueryParameters) {
        parsedQuery = query
        request.query = query.encoded
    }
}
