/// Checks a deployment completely and compiles it: every problem is
/// collected with its JSON path, backends are built through their plugins
/// (whose problems are merged in), and nothing is served unless all is well.
struct SpecValidator {
    /// Prefixes the server keeps for itself (`/v2`, `/invoke`, ...).
    var reservedPrefixes: [String]
    var plugins: [String: any BackendPlugin]
    /// False when the prefix is already known to be missing or wrong.
    var checksPrefix = true

    static let specPath = "specification"
    static let policiesPath = "specification.requestPolicies"

    func compile(_ deployment: Deployment, id: String) async -> Result<CompiledDeployment, SpecValidationError> {
        var reader = SpecReader()
        if checksPrefix { checkPrefix(deployment.pathPrefix, &reader) }
        let spec = reader.object(deployment.specification, Self.specPath, required: true) ?? [:]

        // Deployment-wide policies.
        let policies = reader.object(spec["requestPolicies"], Self.policiesPath) ?? [:]
        func policy(_ key: String) -> (object: [String: JSONValue], path: String)? {
            let path = SpecReader.join(Self.policiesPath, key)
            return reader.object(policies[key], path).map { ($0, path) }
        }
        for key in ["mutualTls", "dynamicAuthentication"] where policies[key] != nil && policies[key] != .null {
            reader.problem(SpecReader.join(Self.policiesPath, key), key == "mutualTls"
                           ? "mutual TLS is not supported by fnrt's gateway"
                           : "dynamic authentication (several authentication servers) is not supported: give one authentication policy")
        }
        let cors = policy("cors").flatMap { CORSPolicy.parse($0.object, $0.path, &reader) }
        let rateLimiter = policy("rateLimiting").flatMap { RateLimiter.parse($0.object, $0.path, &reader) }
        var maxBodyBytes = Gateway.defaultMaxBodyBytes
        if case let (object, path)? = policy("bodyLimit"), let value = reader.integer(object, "maxBytes", path, required: true) {
            if value > 0 { maxBodyBytes = value } else { reader.problem(SpecReader.join(path, "maxBytes"), "must be more than 0") }
        }
        let context = BackendBuildContext(plugins: plugins)
        var authenticator: (any Authenticator)?
        var authenticationPresent = false
        if case let (object, path)? = policy("authentication") {
            authenticationPresent = true
            let realm = deployment.pathPrefix
            switch reader.enumeration(object, "type", path, ["JWT_AUTHENTICATION", "CUSTOM_AUTHENTICATION"], required: true) {
            case "JWT_AUTHENTICATION": authenticator = JWTAuthentication.parse(object, path, realm: realm, &reader)
            case "CUSTOM_AUTHENTICATION": authenticator = await CustomAuthentication.parse(object, path, realm: realm, context: context, &reader)
            default: break
            }
        }

        // Routes.
        let routesPath = SpecReader.join(Self.specPath, "routes")
        let routeObjects = reader.objects(spec, "routes", Self.specPath, required: true) ?? []
        if routeObjects.isEmpty, spec["routes"] != nil, reader.problems.isEmpty { reader.problem(routesPath, "needs at least one route") }
        var router = Router()
        var routes: [CompiledRoute] = []
        var shapes: [String: [(index: Int, methods: MethodSet)]] = [:]
        for (object, path, index) in routeObjects {
            let before = reader.problems.count
            var pattern: RoutePattern?
            if let text = reader.string(object, "path", path, required: true) {
                switch RoutePattern.parse(text) {
                case .success(let parsed): pattern = parsed
                case .failure(let error): for message in error.messages { reader.problem(SpecReader.join(path, "path"), message) }
                }
            }
            let methods = parseMethods(object, path, &reader)
            if let pattern, let methods {
                for other in shapes[pattern.shape, default: []] where other.methods.overlaps(methods) {
                    reader.problem(SpecReader.join(path, "path"),
                                   "cannot be told apart from \(routesPath)[\(other.index)] (same path, methods \(methods.overlap(with: other.methods)))")
                }
                shapes[pattern.shape, default: []].append((index, methods))
            }
            let parameters = Set(pattern?.parameterNames ?? [])
            var routeContext = context
            routeContext.pathParameters = pattern == nil ? nil : parameters
            if case .wildcard(let name)? = pattern?.segments.last { routeContext.wildcardParameter = name }
            let backend: (any GatewayBackend)?
            switch await routeContext.build(object["backend"], path: SpecReader.join(path, "backend")) {
            case .success(let built): backend = built
            case .failure(let error): reader.problems += error.problems; backend = nil
            }

            let requestPath = SpecReader.join(path, "requestPolicies")
            let requestPolicies = reader.object(object["requestPolicies"], requestPath) ?? [:]
            var authorization: Authorization = authenticationPresent ? .authenticationOnly : .anonymous
            let authorizationPath = SpecReader.join(requestPath, "authorization")
            if let object = reader.object(requestPolicies["authorization"], authorizationPath),
               let parsed = Authorization.parse(object, authorizationPath, &reader) {
                authorization = parsed
                let typePath = SpecReader.join(authorizationPath, "type")
                if !authenticationPresent && parsed != .anonymous {
                    reader.problem(typePath, "needs an authentication policy in \(Self.policiesPath)")
                } else if let authenticator, parsed == .anonymous, !authenticator.isAnonymousAccessAllowed {
                    reader.problem(typePath, "ANONYMOUS needs isAnonymousAccessAllowed: true in \(Self.policiesPath).authentication")
                }
            }
            let corsPath = SpecReader.join(requestPath, "cors")
            let routeCORS = reader.object(requestPolicies["cors"], corsPath).flatMap { CORSPolicy.parse($0, corsPath, &reader) }
            func headers(_ policies: [String: JSONValue], _ base: String) -> HeaderTransformation? {
                let path = SpecReader.join(base, "headerTransformations")
                return reader.object(policies["headerTransformations"], path)
                    .flatMap { HeaderTransformation.parseHeaders($0, path, pathParameters: parameters, &reader) }
                    .flatMap { $0.isEmpty ? nil : $0 }
            }
            let requestHeaders = headers(requestPolicies, requestPath)
            let queryPath = SpecReader.join(requestPath, "queryParameterTransformations")
            let query = reader.object(requestPolicies["queryParameterTransformations"], queryPath)
                .flatMap { QueryTransformation.parseQuery($0, queryPath, pathParameters: parameters, &reader) }
                .flatMap { $0.isEmpty ? nil : $0 }
            let responsePath = SpecReader.join(path, "responsePolicies")
            let responseHeaders = headers(reader.object(object["responsePolicies"], responsePath) ?? [:], responsePath)

            guard reader.problems.count == before, let pattern, let methods, let backend else { continue }
            router.add(pattern, methods: methods, route: routes.count)
            routes.append(CompiledRoute(parameterNames: pattern.parameterNames, backend: backend, authorization: authorization,
                                        cors: routeCORS ?? cors, requestHeaders: requestHeaders, query: query,
                                        responseHeaders: responseHeaders))
        }

        guard reader.problems.isEmpty else { return .failure(SpecValidationError(problems: reader.problems)) }
        return .success(CompiledDeployment(
            id: id, deployment: deployment, router: router, routes: routes, rateLimiter: rateLimiter,
            cors: cors, authenticator: authenticator, maxBodyBytes: maxBodyBytes))
    }

    /// `pathPrefix`: starts with `/`, is not `/`, has no trailing slash, and
    /// neither contains nor lies under a reserved prefix.
    private func checkPrefix(_ prefix: String, _ reader: inout SpecReader) {
        let path = "pathPrefix"
        guard prefix.hasPrefix("/") else { reader.problem(path, "must start with \"/\""); return }
        if prefix == "/" { reader.problem(path, "must not be \"/\" alone: the gateway shares its root with other APIs"); return }
        if prefix.hasSuffix("/") { reader.problem(path, "must not end with \"/\"") }
        if prefix.contains("//") { reader.problem(path, "must not contain an empty segment (\"//\")") }
        if prefix.contains(where: { "?#{}".contains($0) || $0.isWhitespace }) {
            reader.problem(path, "must not contain \"?\", \"#\", \"{\", \"}\" or spaces")
        }
        for reserved in reservedPrefixes {
            if Gateway.isPrefix(reserved, of: prefix) || Gateway.isPrefix(prefix, of: reserved) {
                reader.problem(path, "\"\(prefix)\" would shadow \(reserved), which the server keeps for itself")
            }
        }
    }

    private func parseMethods(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader) -> MethodSet? {
        guard object["methods"] != nil else { return MethodSet(methods: [], any: true) }  // OCI's default: ANY
        let before = reader.problems.count
        let list = reader.strings(object, "methods", path) ?? []
        let methodsPath = SpecReader.join(path, "methods")
        if list.isEmpty, reader.problems.count == before { reader.problem(methodsPath, "needs at least one method (or ANY)") }
        var set = MethodSet(methods: [], any: false)
        for (index, method) in list.enumerated() {
            if method == "ANY" { set.any = true }
            else if MethodSet.known.contains(method) { set.methods.insert(method) }
            else { reader.problem("\(methodsPath)[\(index)]", "\"\(method)\" is not one of \(MethodSet.known.joined(separator: ", ")) or ANY") }
        }
        if set.any { set.methods = [] }
        return reader.problems.count == before ? set : nil
    }
}
