import NIOCore
/// `DYNAMIC_ROUTING_BACKEND`: picks one of several backends from a context
/// variable (`selectionSource: {type: SINGLE, selector: "request.headers[x]"}`).
///
/// A key is `ANY_OF` with `values` (exact, case-sensitive) or `WILDCARD` with
/// an `expression` where `*` matches any run of characters. Exact `ANY_OF`
/// matches win over wildcards, which are tried in file order; then the key
/// marked `isDefault`; no match and no default answers 404.
struct DynamicRoutingBackendPlugin: ContextualBackendPlugin {
    let type = "DYNAMIC_ROUTING_BACKEND"

    func makeBackend(_ backend: JSONValue, path: String, context: BackendBuildContext) async throws(SpecValidationError) -> any GatewayBackend {
        var reader = SpecReader()
        let object = reader.object(backend, path, required: true) ?? [:]
        if context.insideDynamicRouting {
            reader.problem(SpecReader.join(path, "type"), "a DYNAMIC_ROUTING_BACKEND cannot be inside another")
            throw SpecValidationError(problems: reader.problems)
        }
        var selector: ContextVariable?
        let sourcePath = SpecReader.join(path, "selectionSource")
        if let source = reader.object(object["selectionSource"], sourcePath, required: true) {
            _ = reader.enumeration(source, "type", sourcePath, ["SINGLE"], required: true)
            if let text = reader.string(source, "selector", sourcePath, required: true) {
                switch ContextVariable.parse(text) {
                case .success(let variable):
                    if case .path(let name) = variable, let names = context.pathParameters, !names.contains(name) {
                        reader.problem(SpecReader.join(sourcePath, "selector"), "the route's path has no parameter {\(name)}")
                    }
                    selector = variable
                case .failure(let error): reader.problem(SpecReader.join(sourcePath, "selector"), error.message)
                }
            }
        }

        var exact: [String: Int] = [:]
        var wildcards: [(WildcardPattern, Int)] = []
        var defaultIndex: Int?
        var names: [String: String] = [:]
        var backends: [any GatewayBackend] = []
        var nested = context
        nested.insideDynamicRouting = true
        let entries = reader.objects(object, "routingBackends", path, required: true) ?? []
        if entries.isEmpty, object["routingBackends"] != nil, reader.problems.isEmpty {
            reader.problem(SpecReader.join(path, "routingBackends"), "needs at least one backend")
        }
        for (entry, entryPath, _) in entries {
            let keyPath = SpecReader.join(entryPath, "key")
            let built = await nested.build(entry["backend"], path: SpecReader.join(entryPath, "backend"))
            let backendIndex = backends.count
            switch built {
            case .success(let backend): backends.append(backend)
            case .failure(let error): reader.problems += error.problems
            }
            guard let key = reader.object(entry["key"], keyPath, required: true) else { continue }
            if let name = reader.string(key, "name", keyPath, required: true) {
                if let other = names[name] { reader.problem(SpecReader.join(keyPath, "name"), "\"\(name)\" is also the name of \(other)") }
                else { names[name] = keyPath }
            }
            if reader.bool(key, "isDefault", keyPath) == true {
                if defaultIndex != nil { reader.problem(SpecReader.join(keyPath, "isDefault"), "only one key may be the default") }
                defaultIndex = backendIndex
            }
            switch reader.enumeration(key, "type", keyPath, ["ANY_OF", "WILDCARD"], required: true) {
            case "ANY_OF":
                let values = reader.strings(key, "values", keyPath, required: true) ?? []
                for value in values {
                    if exact[value] != nil { reader.problem(SpecReader.join(keyPath, "values"), "\"\(value)\" is already the key of another backend") }
                    else { exact[value] = backendIndex }
                }
            case "WILDCARD":
                if let expression = reader.string(key, "expression", keyPath, required: true) {
                    if expression.isEmpty { reader.problem(SpecReader.join(keyPath, "expression"), "must not be empty") }
                    wildcards.append((WildcardPattern(expression), backendIndex))
                }
            default: break
            }
        }
        guard reader.problems.isEmpty, let selector else { throw SpecValidationError(problems: reader.problems) }
        return DynamicRoutingBackend(selector: selector, exact: exact, wildcards: wildcards, defaultIndex: defaultIndex, backends: backends)
    }
}

/// A `*` pattern compiled once: the literal pieces between the stars.
struct WildcardPattern: Sendable {
    let pieces: [Substring]

    init(_ expression: String) {
        pieces = expression.split(separator: "*", omittingEmptySubsequences: false)
    }

    func matches(_ text: String) -> Bool {
        guard pieces.count > 1 else { return text == pieces[0] }
        guard text.hasPrefix(pieces[0]) else { return false }
        var rest = text.dropFirst(pieces[0].count)
        for piece in pieces[1..<(pieces.count - 1)] where !piece.isEmpty {
            guard let found = rest.firstRange(of: piece) else { return false }
            rest = rest[found.upperBound...]
        }
        let last = pieces[pieces.count - 1]
        return rest.count >= last.count && rest.hasSuffix(last)
    }
}

struct DynamicRoutingBackend: GatewayBackend {
    let selector: ContextVariable
    let exact: [String: Int]
    let wildcards: [(WildcardPattern, Int)]
    let defaultIndex: Int?
    let backends: [any GatewayBackend]

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        let (request, backend) = choose(request)
        guard let backend else { return Self.noBackend }
        return await backend.respond(to: request)
    }

    func respond(to request: GatewayRequest, on eventLoop: any EventLoop, answer: @escaping @Sendable (GatewayResponse) -> Void) {
        let (request, backend) = choose(request)
        guard let backend else { return answer(Self.noBackend) }
        backend.respond(to: request, on: eventLoop, answer: answer)
    }

    static var noBackend: GatewayResponse { .error(.notFound, "no backend for this request") }

    /// The backend the selector's value picks (nil: none and no default), and
    /// the request as the selector left it.
    private func choose(_ request: GatewayRequest) -> (GatewayRequest, (any GatewayBackend)?) {
        var context = RequestContext(request: request)
        let value = selector.value(in: &context)
        var chosen: Int?
        if let value {
            chosen = exact[value] ?? wildcards.first(where: { $0.0.matches(value) })?.1
        }
        return (context.request, (chosen ?? defaultIndex).map { backends[$0] })
    }
}
