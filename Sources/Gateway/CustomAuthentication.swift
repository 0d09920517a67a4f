import Foundation
import HTTPTypes
import NIOCore
import Synchronization

/// `CUSTOM_AUTHENTICATION`: an authorizer function decides.
///
/// The function (`functionId`) is built through the `ORACLE_FUNCTIONS_BACKEND`
/// plugin from `{"type": "ORACLE_FUNCTIONS_BACKEND", "functionId": ...}` and
/// called with a POST of OCI's authorizer input: `{"type": "TOKEN", "token":
/// ...}` with the value of `tokenHeader` or `tokenQueryParam`, or, with
/// `parameters` (`{"name": "request.headers[x]"}`), `{"type": "USER_DEFINED",
/// "data": {...}}`. It answers `{"active": true, "principal": ..., "scope":
/// [...], "context": {...}, "expiresAt": ...}` (`principalId` is read too) or
/// `{"active": false, "wwwAuthenticate": ...}`: active makes the caller's
/// `Principal`, inactive is a 401, and a failed or unreadable answer a 502.
/// Active answers with a future `expiresAt` are cached until then (at most
/// `maxCacheSeconds`) per token, as OCI caches them.
struct CustomAuthentication: Authenticator {
    static let functionBackendType = "ORACLE_FUNCTIONS_BACKEND"
    static let maxCacheSeconds: Double = 3600
    static let maxCacheEntries = 10_000

    let authorizer: any GatewayBackend
    let source: TokenSource?
    let parameters: [(name: String, variable: ContextVariable)]
    let isAnonymousAccessAllowed: Bool
    let realm: String
    let cache: AuthorizerCache

    static func parse(_ object: [String: JSONValue], _ path: String, realm: String, context: BackendBuildContext,
                      _ reader: inout SpecReader) async -> CustomAuthentication? {
        let before = reader.problems.count
        let functionId = reader.string(object, "functionId", path, required: true)
        var parameters: [(name: String, variable: ContextVariable)] = []
        let parametersPath = SpecReader.join(path, "parameters")
        if let map = reader.object(object["parameters"], parametersPath) {
            for (name, value) in map.sorted(by: { $0.key < $1.key }) {
                let valuePath = SpecReader.join(parametersPath, name)
                guard case .string(let text) = value else { reader.problem(valuePath, "must be a context variable like \"request.headers[x]\""); continue }
                switch ContextVariable.parse(text) {
                case .success(let variable):
                    if case .auth = variable { reader.problem(valuePath, "request.auth is not known before authentication") }
                    parameters.append((name, variable))
                case .failure(let error): reader.problem(valuePath, error.message)
                }
            }
            if map.isEmpty { reader.problem(parametersPath, "needs at least one parameter") }
        }
        let source = TokenSource.parse(object, path, &reader, schemeRequired: false, required: object["parameters"] == nil)
        let anonymous = reader.bool(object, "isAnonymousAccessAllowed", path) ?? false

        var authorizer: (any GatewayBackend)?
        if let functionId {
            if context.plugins[functionBackendType] == nil {
                reader.problem(SpecReader.join(path, "type"),
                               "CUSTOM_AUTHENTICATION needs the \(functionBackendType) plugin, which this gateway does not have")
            } else {
                let synthetic = JSONValue.object(["type": .string(functionBackendType), "functionId": .string(functionId)])
                switch await context.build(synthetic, path: path) {
                case .success(let backend): authorizer = backend
                case .failure(let error): reader.problems += error.problems
                }
            }
        }
        guard reader.problems.count == before, let authorizer else { return nil }
        return CustomAuthentication(authorizer: authorizer, source: source, parameters: parameters,
                                    isAnonymousAccessAllowed: anonymous, realm: realm, cache: AuthorizerCache())
    }

    func authenticate(_ context: inout RequestContext) async -> AuthenticationOutcome {
        let scheme = source?.challengeScheme ?? "Bearer"
        let input: JSONValue
        if parameters.isEmpty {
            guard let token = source?.token(in: &context) else { return .missing(.unauthorized(scheme: scheme, realm: realm)) }
            input = .object(["type": .string("TOKEN"), "token": .string(token)])
        } else {
            var data: [String: JSONValue] = [:]
            for parameter in parameters {
                if let value = parameter.variable.value(in: &context) { data[parameter.name] = .string(value) }
            }
            if let source, let token = source.token(in: &context) { data["token"] = data["token"] ?? .string(token) }
            if data.isEmpty { return .missing(.unauthorized(scheme: scheme, realm: realm)) }
            input = .object(["type": .string("USER_DEFINED"), "data": .object(data)])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let body = try? encoder.encode(input) else { return .rejected(.error(.badGateway, "authorizer input")) }
        let cacheKey = String(decoding: body, as: UTF8.self)
        let now = NIODeadline.now()
        if let principal = cache.lookup(cacheKey, now: now) { return .accepted(principal) }

        var call = GatewayRequest(method: .post, path: "/", headers: [.contentType: "application/json"],
                                  body: ByteBuffer(bytes: body), clientAddress: context.request.clientAddress)
        call.routePath = "/"
        let answer = await authorizer.respond(to: call)
        guard (200..<300).contains(answer.status.code),
              let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(answer.body.readableBytesView)),
              case .object(let fields) = decoded, case .bool(let active)? = fields["active"] else {
            return .rejected(.error(.badGateway, "the authorizer function failed or gave an unreadable answer"))
        }
        guard active else {
            return .rejected(.unauthorized(scheme: scheme, realm: realm, error: "refused by the authorizer",
                                           challenge: fields["wwwAuthenticate"]?.stringValue))
        }
        var scopes: Set<String> = []
        switch fields["scope"] {
        case .array(let values)?: scopes = Set(values.compactMap(\.stringValue))
        case .string(let value)?: scopes = Set(value.split(separator: " ").map(String.init))
        default: break
        }
        var values: [String: String] = [:]
        if case .object(let contextFields)? = fields["context"] {
            for (key, value) in contextFields { values[key] = Self.text(value) }
        }
        let principal = Principal(subject: (fields["principal"] ?? fields["principalId"])?.stringValue, scopes: scopes, context: values)
        if let expiresAt = fields["expiresAt"]?.stringValue, let expiry = Self.date(expiresAt) {
            let seconds = min(expiry.timeIntervalSinceNow, Self.maxCacheSeconds)
            if seconds > 0 { cache.store(cacheKey, principal, until: now + .nanoseconds(Int64(seconds * 1e9))) }
        }
        return .accepted(principal)
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .null: return ""
        case .array, .object:
            return (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? ""
        }
    }

    private static func date(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Authorizer answers by input, until their `expiresAt`.
final class AuthorizerCache: Sendable {
    private let entries = Mutex<[String: (principal: Principal, until: NIODeadline)]>([:])

    func lookup(_ key: String, now: NIODeadline) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.until > now { return entry.principal }
            entries[key] = nil
            return nil
        }
    }

    func store(_ key: String, _ principal: Principal, until: NIODeadline) {
        entries.withLock { entries in
            if entries.count >= CustomAuthentication.maxCacheEntries {
                let now = NIODeadline.now()
                entries = entries.filter { $0.value.until > now }
                if entries.count >= CustomAuthentication.maxCacheEntries { entries = [:] }
            }
            entries[key] = (principal, until)
        }
    }
}
