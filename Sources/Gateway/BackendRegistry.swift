/// What a built-in plugin knows beyond the backend's JSON: the other plugins
/// (dynamic routing builds its backends through them) and the route's path
/// parameters (to check `${request.path[x]}`).
struct BackendBuildContext: Sendable {
    var plugins: [String: any BackendPlugin]
    /// The route's parameter names; nil when not building for a route.
    var pathParameters: Set<String>?
    /// The name of the route's `{name*}` wildcard, if it has one.
    var wildcardParameter: String?
    /// Set while building the backends of a `DYNAMIC_ROUTING_BACKEND`, which may not nest.
    var insideDynamicRouting = false

    /// Builds the backend object at `path` through the plugin of its `type`,
    /// or returns every problem (a plugin's own problems merged in).
    func build(_ value: JSONValue?, path: String) async -> Result<any GatewayBackend, SpecValidationError> {
        var reader = SpecReader()
        guard let object = reader.object(value, path, required: true) else { return .failure(SpecValidationError(problems: reader.problems)) }
        guard let type = reader.string(object, "type", path, required: true) else { return .failure(SpecValidationError(problems: reader.problems)) }
        guard let plugin = plugins[type] else {
            let known = plugins.keys.sorted().joined(separator: ", ")
            reader.problem(SpecReader.join(path, "type"), "unknown backend type \"\(type)\" (known: \(known))")
            return .failure(SpecValidationError(problems: reader.problems))
        }
        do {
            if let contextual = plugin as? any ContextualBackendPlugin {
                return .success(try await contextual.makeBackend(.object(object), path: path, context: self))
            }
            return .success(try await plugin.makeBackend(.object(object), path: path))
        } catch let error as SpecValidationError {
            return .failure(error.problems.isEmpty ? SpecValidationError(problems: [SpecProblem(path: path, message: "refused by \(type)")]) : error)
        } catch {
            return .failure(SpecValidationError(problems: [SpecProblem(path: path, message: String(describing: error))]))
        }
    }
}

/// A plugin of this module, built with what the gateway knows about the route.
protocol ContextualBackendPlugin: BackendPlugin {
    func makeBackend(_ backend: JSONValue, path: String, context: BackendBuildContext) async throws(SpecValidationError) -> any GatewayBackend
}

extension ContextualBackendPlugin {
    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        try await makeBackend(backend, path: path, context: BackendBuildContext(plugins: [type: self]))
    }
}
