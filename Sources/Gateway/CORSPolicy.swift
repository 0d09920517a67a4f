import HTTPTypes

/// A `cors` policy (deployment-wide, or a route's own, which replaces it for
/// that route). The gateway answers preflight requests (`OPTIONS` with
/// `Origin` and `Access-Control-Request-Method`) itself with 204, and adds
/// `Access-Control-Allow-Origin`, `Vary` and `Access-Control-Expose-Headers`
/// to actual responses to an allowed origin.
struct CORSPolicy: Sendable {
    var anyOrigin: Bool
    var origins: Set<String>
    var anyMethod: Bool
    var methods: Set<String>
    var methodsValue: String
    var anyHeader: Bool
    var headersValue: String?
    var exposedValue: String?
    var allowCredentials: Bool
    var maxAge: Int

    /// Methods allowed when the policy names none: the CORS-safelisted ones.
    static let defaultMethods = ["GET", "HEAD", "POST"]

    static func parse(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader) -> CORSPolicy? {
        let before = reader.problems.count
        let origins = reader.strings(object, "allowedOrigins", path, required: true) ?? []
        if origins.isEmpty, object["allowedOrigins"] != nil, reader.problems.count == before {
            reader.problem(SpecReader.join(path, "allowedOrigins"), "needs at least one origin (or \"*\")")
        }
        for (index, origin) in origins.enumerated() where origin != "*" && !isOrigin(origin) {
            reader.problem("\(SpecReader.join(path, "allowedOrigins"))[\(index)]",
                           "\"\(origin)\" is not an origin: \"*\" or scheme://host[:port], without a path")
        }
        let methods = reader.strings(object, "allowedMethods", path) ?? defaultMethods
        for (index, method) in methods.enumerated() where method != "*" && !MethodSet.known.contains(method) {
            reader.problem("\(SpecReader.join(path, "allowedMethods"))[\(index)]",
                           "\"\(method)\" is not one of \(MethodSet.known.joined(separator: ", ")) or \"*\"")
        }
        let headers = reader.strings(object, "allowedHeaders", path) ?? []
        let exposed = reader.strings(object, "exposedHeaders", path) ?? []
        for (key, list) in [("allowedHeaders", headers), ("exposedHeaders", exposed)] {
            for (index, name) in list.enumerated() where name != "*" && HTTPField.Name(name) == nil {
                reader.problem("\(SpecReader.join(path, key))[\(index)]", "\"\(name)\" is not a valid header name")
            }
        }
        let credentials = reader.bool(object, "isAllowCredentialsEnabled", path) ?? false
        let maxAge = reader.integer(object, "maxAgeInSeconds", path) ?? 0
        if maxAge < 0 { reader.problem(SpecReader.join(path, "maxAgeInSeconds"), "must not be negative") }
        guard reader.problems.count == before else { return nil }
        let concreteMethods = methods.filter { $0 != "*" }
        return CORSPolicy(
            anyOrigin: origins.contains("*"), origins: Set(origins.map { $0.lowercased() }),
            anyMethod: methods.contains("*"), methods: Set(concreteMethods),
            methodsValue: concreteMethods.joined(separator: ", "),
            anyHeader: headers.contains("*"), headersValue: headers.isEmpty || headers.contains("*") ? nil : headers.joined(separator: ", "),
            exposedValue: exposed.isEmpty ? nil : exposed.joined(separator: ", "),
            allowCredentials: credentials, maxAge: maxAge)
    }

    private static func isOrigin(_ text: String) -> Bool {
        guard let schemeEnd = text.firstRange(of: "://") else { return false }
        let scheme = text[..<schemeEnd.lowerBound]
        let host = text[schemeEnd.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }
            && !host.isEmpty && !host.contains("/") && !host.contains(where: \.isWhitespace)
    }

    static let requestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let requestHeaders = HTTPField.Name("Access-Control-Request-Headers")!
    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let allowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let allowCredentials = HTTPField.Name("Access-Control-Allow-Credentials")!
    static let exposeHeaders = HTTPField.Name("Access-Control-Expose-Headers")!
    static let maxAgeName = HTTPField.Name("Access-Control-Max-Age")!
    static let origin = HTTPField.Name("Origin")!
    static let vary = HTTPField.Name("Vary")!

    /// Whether `request` is a CORS preflight request.
    static func isPreflight(_ request: GatewayRequest) -> Bool {
        request.method == .options && request.headers[origin] != nil && request.headers[requestMethod] != nil
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, nil when not allowed.
    private func allowedOrigin(_ origin: String) -> String? {
        if anyOrigin { return allowCredentials ? origin : "*" }
        return origins.contains(origin.lowercased()) ? origin : nil
    }

    /// The gateway's answer to a preflight request: 204, with the
    /// `Access-Control-Allow-*` headers only when origin and method are allowed.
    func preflight(_ request: GatewayRequest) -> GatewayResponse {
        var headers = HTTPFields()
        headers[Self.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        let method = request.headers[Self.requestMethod] ?? ""
        guard let origin = request.headers[Self.origin], let allowed = allowedOrigin(origin),
              anyMethod || methods.contains(method) else {
            return GatewayResponse(status: .noContent, headers: headers)
        }
        headers[Self.allowOrigin] = allowed
        headers[Self.allowMethods] = anyMethod ? method : methodsValue
        if anyHeader {
            if let requested = request.headers[Self.requestHeaders] { headers[Self.allowHeaders] = requested }
        } else if let headersValue {
            headers[Self.allowHeaders] = headersValue
        }
        if allowCredentials { headers[Self.allowCredentials] = "true" }
        if maxAge > 0 { headers[Self.maxAgeName] = String(maxAge) }
        return GatewayResponse(status: .noContent, headers: headers)
    }

    /// Adds the CORS headers to an actual response for `request`'s origin.
    func decorate(_ response: inout GatewayResponse, for request: GatewayRequest) {
        if !anyOrigin || allowCredentials { response.headers.append(HTTPField(name: Self.vary, value: "Origin")) }
        guard let origin = request.headers[Self.origin], let allowed = allowedOrigin(origin) else { return }
        response.headers[Self.allowOrigin] = allowed
        if allowCredentials { response.headers[Self.allowCredentials] = "true" }
        if let exposedValue { response.headers[Self.exposeHeaders] = exposedValue }
    }
}
