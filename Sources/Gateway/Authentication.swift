import Foundation
import HTTPTypes

/// A deployment's `authentication` policy at work.
protocol Authenticator: Sendable {
    /// Whether `anonymous` routes are allowed (OCI's `isAnonymousAccessAllowed`).
    var isAnonymousAccessAllowed: Bool { get }
    func authenticate(_ context: inout RequestContext) async -> AuthenticationOutcome
}

enum AuthenticationOutcome: Sendable {
    case accepted(Principal)
    /// No credentials in the request: the 401 to answer.
    case missing(GatewayResponse)
    /// Credentials refused (401), or the authorizer failed (502).
    case rejected(GatewayResponse)
}

/// Where a token is: a header (with its scheme, `Authorization: Bearer x`) or a query parameter.
enum TokenSource: Sendable {
    case header(HTTPField.Name, scheme: String?)
    case query(String)

    /// Reads `tokenHeader` (+ `tokenAuthScheme` when `schemeRequired`) or `tokenQueryParam`: exactly one.
    static func parse(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader,
                      schemeRequired: Bool, required: Bool = true) -> TokenSource? {
        let header = reader.string(object, "tokenHeader", path)
        let query = reader.string(object, "tokenQueryParam", path)
        let scheme = reader.string(object, "tokenAuthScheme", path)
        switch (header, query) {
        case (nil, nil):
            if required { reader.problem(path, "needs tokenHeader or tokenQueryParam") }
            return nil
        case (.some, .some):
            reader.problem(SpecReader.join(path, "tokenQueryParam"), "give tokenHeader or tokenQueryParam, not both")
            return nil
        case (let header?, nil):
            guard let name = HTTPField.Name(header) else {
                reader.problem(SpecReader.join(path, "tokenHeader"), "\"\(header)\" is not a valid header name")
                return nil
            }
            if schemeRequired && (scheme ?? "").isEmpty {
                reader.problem(SpecReader.join(path, "tokenAuthScheme"), "required with tokenHeader (e.g. \"Bearer\")")
                return nil
            }
            if let scheme, scheme.contains(where: \.isWhitespace) {
                reader.problem(SpecReader.join(path, "tokenAuthScheme"), "must be one word, like \"Bearer\"")
                return nil
            }
            return .header(name, scheme: scheme.flatMap { $0.isEmpty ? nil : $0 })
        case (nil, let query?):
            if query.isEmpty { reader.problem(SpecReader.join(path, "tokenQueryParam"), "must not be empty"); return nil }
            return .query(query)
        }
    }

    /// The token, nil when absent (or under another scheme).
    func token(in context: inout RequestContext) -> String? {
        switch self {
        case .query(let name):
            guard let value = context.query[name], !value.isEmpty else { return nil }
            return value
        case .header(let name, let scheme):
            guard let value = context.request.headers[name] else { return nil }
            guard let scheme else { return value.isEmpty ? nil : value }
            guard value.count > scheme.count, value.prefix(scheme.count).lowercased() == scheme.lowercased(),
                  value.dropFirst(scheme.count).first == " " else { return nil }
            let token = value.dropFirst(scheme.count + 1).drop(while: { $0 == " " })
            return token.isEmpty ? nil : String(token)
        }
    }

    /// The scheme for `WWW-Authenticate`.
    var challengeScheme: String {
        if case .header(_, let scheme?) = self { return scheme }
        return "Bearer"
    }
}

/// A route's `authorization`.
enum Authorization: Sendable, Equatable {
    /// Everyone, authenticated or not (needs `isAnonymousAccessAllowed` when there is authentication).
    case anonymous
    /// Any authenticated caller: OCI's default when the deployment has authentication.
    case authenticationOnly
    /// Authenticated callers with at least one of these scopes; 403 otherwise.
    case anyOf(Set<String>)

    static func parse(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader) -> Authorization? {
        switch reader.enumeration(object, "type", path, ["ANONYMOUS", "AUTHENTICATION_ONLY", "ANY_OF"], required: true) {
        case "ANONYMOUS": return .anonymous
        case "AUTHENTICATION_ONLY": return .authenticationOnly
        case "ANY_OF":
            let before = reader.problems.count
            let scopes = reader.strings(object, "allowedScope", path, required: true) ?? []
            if scopes.isEmpty, reader.problems.count == before {
                reader.problem(SpecReader.join(path, "allowedScope"), "needs at least one scope")
            }
            return reader.problems.count == before ? .anyOf(Set(scopes)) : nil
        default: return nil
        }
    }
}

extension GatewayResponse {
    /// A 401 with `WWW-Authenticate`.
    static func unauthorized(scheme: String, realm: String, error: String? = nil, challenge: String? = nil) -> GatewayResponse {
        var value = challenge ?? "\(scheme) realm=\"\(realm)\""
        if challenge == nil, let error {
            let cleaned = error.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "")
            value += ", error=\"invalid_token\", error_description=\"\(cleaned)\""
        }
        return .error(.unauthorized, error.map { "unauthorized: \($0)" } ?? "unauthorized",
                      headers: [.wwwAuthenticate: value])
    }
}
