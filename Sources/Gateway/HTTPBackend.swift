import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

/// `HTTP_BACKEND`: proxies to a plain-HTTP service.
///
/// `url` may use context variables in its path and query
/// (`http://127.0.0.1:8080/users/${request.path[id]}`), not in its host.
/// The request's method, query (appended to the url's own), headers (less
/// hop-by-hop ones, with `Host` set to the backend's and the client added to
/// `X-Forwarded-For`) and body are forwarded. A refused or failed connection
/// answers 502, a timeout 504. `https` urls are refused at validation: this
/// gateway has no TLS client.
struct HTTPBackendPlugin: ContextualBackendPlugin {
    let type = "HTTP_BACKEND"
    let client: HTTPClient

    /// OCI's defaults and limits, in seconds.
    static let timeoutDefaults = (connect: 60.0, read: 10.0, send: 10.0)
    static let timeoutLimits = (connect: 75.0, read: 300.0, send: 300.0)

    func makeBackend(_ backend: JSONValue, path: String, context: BackendBuildContext) async throws(SpecValidationError) -> any GatewayBackend {
        var reader = SpecReader()
        let object = reader.object(backend, path, required: true) ?? [:]
        let url = reader.string(object, "url", path, required: true)
        func timeout(_ key: String, _ defaultValue: Double, _ limit: Double) -> TimeAmount {
            guard let value = reader.number(object, key, path) else { return .nanoseconds(Int64(defaultValue * 1e9)) }
            if !(value > 0 && value <= limit) {
                reader.problem(SpecReader.join(path, key), "must be more than 0 and at most \(Int(limit)) seconds")
            }
            return .nanoseconds(Int64(min(max(value, 0), limit) * 1e9))
        }
        let timeouts = HTTPClient.Timeouts(
            connect: timeout("connectTimeoutInSeconds", Self.timeoutDefaults.connect, Self.timeoutLimits.connect),
            read: timeout("readTimeoutInSeconds", Self.timeoutDefaults.read, Self.timeoutLimits.read),
            send: timeout("sendTimeoutInSeconds", Self.timeoutDefaults.send, Self.timeoutLimits.send))
        _ = reader.bool(object, "isSslVerifyDisabled", path)

        var target: BackendURL?
        if let url {
            switch BackendURL.parse(url, pathParameters: context.pathParameters, wildcard: context.wildcardParameter) {
            case .success(let parsed): target = parsed
            case .failure(let error): reader.problem(SpecReader.join(path, "url"), error.message)
            }
        }
        guard reader.problems.isEmpty, let target else { throw SpecValidationError(problems: reader.problems) }
        return HTTPBackend(client: client, target: target, timeouts: timeouts)
    }
}

/// A backend url split at deploy time: a fixed authority, a templated path and query.
struct BackendURL: Sendable {
    var host: String
    var port: Int
    /// The `Host` header's value.
    var authority: String
    var pathAndQuery: Template
    /// For each part of `pathAndQuery`: how a value there is encoded.
    var partEncodings: [PercentEncoding.Component]

    static func parse(_ url: String, pathParameters: Set<String>?, wildcard: String? = nil) -> Result<BackendURL, TemplateError> {
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") {
            return .failure(TemplateError("https backends are not supported (fnrt's gateway has no TLS client): use an http:// url"))
        }
        guard lowered.hasPrefix("http://") else { return .failure(TemplateError("must be an http:// url")) }
        let rest = url.dropFirst(7)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        if authority.contains("${") {
            return .failure(TemplateError("context variables are allowed in the url's path and query, not in its host"))
        }
        if authority.contains("@") { return .failure(TemplateError("credentials in the url are not supported")) }
        var host = authority
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(TemplateError("unterminated IPv6 address")) }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let value = Int(after.dropFirst()) else { return .failure(TemplateError("invalid port")) }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]) else { return .failure(TemplateError("invalid port")) }
            port = value
        }
        guard !host.isEmpty else { return .failure(TemplateError("has no host")) }
        guard (1...65535).contains(port) else { return .failure(TemplateError("port must be 1 to 65535")) }
        var pathText = String(rest[authorityEnd...])
        if let hash = pathText.firstIndex(of: "#") { pathText = String(pathText[..<hash]) }
        if pathText.isEmpty || pathText.first == "?" { pathText = "/" + pathText }
        if pathText.contains(where: { $0 == " " }) { return .failure(TemplateError("must not contain spaces")) }
        let template: Template
        switch Template.parse(pathText, pathParameters: pathParameters) {
        case .success(let parsed): template = parsed
        case .failure(let error): return .failure(error)
        }
        // In the path, a value is one segment (its "/" escaped), except the
        // route's wildcard, whose "/" separate segments; in the query, a value.
        var inQuery = false
        var encodings: [PercentEncoding.Component] = []
        for part in template.parts {
            switch part {
            case .literal(let text):
                encodings.append(.path)
                if text.contains("?") { inQuery = true }
            case .variable(let variable):
                if inQuery { encodings.append(.queryValue) }
                else if case .path(let name) = variable, name == wildcard { encodings.append(.path) }
                else { encodings.append(.pathSegment) }
            }
        }
        return .success(BackendURL(host: host, port: port, authority: authority, pathAndQuery: template, partEncodings: encodings))
    }

    /// The request target for `context`, values percent-encoded; nil when a
    /// value would add a `.` or `..` segment to the path (climbing out of the
    /// url's path on the backend).
    func requestTarget(_ context: inout RequestContext) -> String? {
        var climbs = false
        let target = pathAndQuery.render(&context) { value, index in
            let encoding = partEncodings[index]
            if encoding != .queryValue, value.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
                climbs = true
            }
            return PercentEncoding.encode(value, as: encoding)
        }
        return climbs ? nil : target
    }
}

struct HTTPBackend: GatewayBackend {
    let client: HTTPClient
    let target: BackendURL
    let timeouts: HTTPClient.Timeouts

    /// Hop-by-hop headers (RFC 9110 7.6.1), and those this proxy sets itself.
    static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "expect",
    ]

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        var context = RequestContext(request: request)
        guard var uri = target.requestTarget(&context) else {
            return .error(.badRequest, "a path parameter may not be \".\" or \"..\"")
        }
        if let query = request.query, !query.isEmpty {
            uri += uri.contains("?") ? "&\(query)" : "?\(query)"
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue), uri: uri)
        head.headers = forwardedHeaders(request)
        let response = await client.execute(host: target.host, port: target.port, head: head, body: request.body, timeouts: timeouts)
        switch response {
        case .success(let response): return Self.gatewayResponse(response)
        case .failure(.connect(let reason)): return .error(.badGateway, "could not connect to the backend: \(reason)")
        case .failure(.connectTimeout): return .error(.gatewayTimeout, "timed out connecting to the backend")
        case .failure(.sendTimeout): return .error(.gatewayTimeout, "timed out sending the request to the backend")
        case .failure(.readTimeout): return .error(.gatewayTimeout, "timed out waiting for the backend's response")
        case .failure(.closedEarly), .failure(.brokenResponse):
            return .error(.badGateway, "the backend closed the connection without a complete response")
        case .failure(.responseTooLarge): return .error(.badGateway, "the backend's response is too large")
        }
    }

    private func forwardedHeaders(_ request: GatewayRequest) -> HTTPHeaders {
        let connectionTokens = Set(request.headers[values: .connection].flatMap {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        })
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 3)
        headers.add(name: "Host", value: target.authority)
        var forwardedFor: String?
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.notForwarded.contains(name) || connectionTokens.contains(name) { continue }
            if name == "x-forwarded-for" { forwardedFor = forwardedFor.map { "\($0), \(field.value)" } ?? field.value; continue }
            headers.add(name: field.name.rawName, value: field.value)
        }
        if let client = request.clientAddress {
            forwardedFor = forwardedFor.map { "\($0), \(client)" } ?? client
        }
        if let forwardedFor { headers.add(name: "X-Forwarded-For", value: forwardedFor) }
        if let host = request.host, request.headers[values: HTTPField.Name("X-Forwarded-Host")!].isEmpty {
            headers.add(name: "X-Forwarded-Host", value: host)
        }
        if request.body.readableBytes > 0 || ["POST", "PUT", "PATCH"].contains(request.method.rawValue) {
            headers.add(name: "Content-Length", value: String(request.body.readableBytes))
        }
        return headers
    }

    private static func gatewayResponse(_ response: HTTPClient.Response) -> GatewayResponse {
        var fields = HTTPFields()
        let connectionTokens = Set(response.head.headers["connection"].flatMap {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        })
        for (name, value) in response.head.headers {
            let lowered = name.lowercased()
            if notForwarded.contains(lowered) || connectionTokens.contains(lowered) { continue }
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(response.head.status.code), reasonPhrase: response.head.status.reasonPhrase)
        return GatewayResponse(status: status, headers: fields, body: response.body)
    }
}
