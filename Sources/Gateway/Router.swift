/// A deployment's routes compiled into a segment trie, once per spec: matching
/// costs one dictionary look-up per path segment whatever the number of routes.
///
/// Precedence, whatever the order in the file: at each segment a literal beats
/// a `{param}`, which beats a `{rest*}` wildcard; when the most specific path
/// has no route for the method, the next one is tried (`GET /users/me` and
/// `DELETE /users/{id}` both work). A trailing slash matches the same route.
/// `HEAD` is accepted wherever `GET` is (RFC 9110), unless a route names `HEAD`.
struct Router: Sendable {
    /// Which route a method at a matched path goes to.
    struct MethodTable: Sendable {
        var routes: [String: Int] = [:]
        var any: Int?

        func lookup(_ method: String) -> Int? {
            if let route = routes[method] { return route }
            if method == "HEAD", let route = routes["GET"] { return route }
            return any
        }

        /// One of the table's routes (for CORS on a path whose method is not allowed).
        var someRoute: Int? { any ?? routes.values.min() }

        func addAllowed(to allowed: inout Set<String>) {
            if any != nil { allowed.formUnion(MethodSet.known); return }
            allowed.formUnion(routes.keys)
            if routes["GET"] != nil { allowed.insert("HEAD") }
        }
    }

    struct Node: Sendable {
        var literals: [String: Int] = [:]
        var parameter: Int?
        /// Routes whose path ends with `{name*}` here.
        var wildcard: MethodTable?
        /// Routes whose path ends here.
        var terminal: MethodTable?
    }

    enum Match: Equatable {
        /// The route's index, and its parameters' values in the order of its pattern.
        case route(Int, [String])
        /// The path matched but not the method: the `Allow` header's value,
        /// and the most specific route at that path.
        case methodNotAllowed(String, route: Int)
        case notFound
    }

    private(set) var nodes: [Node] = [Node()]

    /// Adds a route; the validator has already refused routes that cannot be told apart.
    mutating func add(_ pattern: RoutePattern, methods: MethodSet, route: Int) {
        var node = 0
        for segment in pattern.segments {
            switch segment {
            case .literal(let text):
                if let next = nodes[node].literals[text] { node = next }
                else { nodes.append(Node()); nodes[node].literals[text] = nodes.count - 1; node = nodes.count - 1 }
            case .parameter:
                if let next = nodes[node].parameter { node = next }
                else { nodes.append(Node()); nodes[node].parameter = nodes.count - 1; node = nodes.count - 1 }
            case .wildcard:
                var table = nodes[node].wildcard ?? MethodTable()
                Self.insert(methods, route: route, into: &table)
                nodes[node].wildcard = table
                return
            }
        }
        var table = nodes[node].terminal ?? MethodTable()
        Self.insert(methods, route: route, into: &table)
        nodes[node].terminal = table
    }

    private static func insert(_ methods: MethodSet, route: Int, into table: inout MethodTable) {
        if methods.any { if table.any == nil { table.any = route } }
        for method in methods.methods where table.routes[method] == nil { table.routes[method] = route }
    }

    /// Splits a percent-encoded path into decoded segments, a trailing slash ignored.
    static func segments(of path: Substring) -> [String] {
        let slash = UInt8(ascii: "/")
        var utf8 = path.utf8[...]
        if utf8.first == slash { utf8 = utf8.dropFirst() }
        if utf8.last == slash { utf8 = utf8.dropLast() }
        if utf8.isEmpty { return [] }
        var segments: [String] = []
        var start = utf8.startIndex
        while let end = utf8[start...].firstIndex(of: slash) {
            segments.append(PercentEncoding.decode(Substring(utf8[start..<end])))
            start = utf8.index(after: end)
        }
        segments.append(PercentEncoding.decode(Substring(utf8[start...])))
        return segments
    }

    /// Finds the route for `method` at `segments` (decoded, from `segments(of:)`).
    func match(method: String, segments: [String]) -> Match {
        var values: [String] = []
        var allowed = Allowed()
        if let route = search(node: 0, index: 0, segments: segments, method: method, values: &values, allowed: &allowed) {
            return .route(route, values)
        }
        guard let route = allowed.firstRoute else { return .notFound }
        return .methodNotAllowed(MethodSet.known.filter(allowed.methods.contains).joined(separator: ", "), route: route)
    }

    /// What the paths that matched without the method allow.
    private struct Allowed {
        var methods: Set<String> = []
        var firstRoute: Int?

        mutating func add(_ table: MethodTable) {
            table.addAllowed(to: &methods)
            if firstRoute == nil { firstRoute = table.someRoute }
        }
    }

    private func search(node: Int, index: Int, segments: [String], method: String,
                        values: inout [String], allowed: inout Allowed) -> Int? {
        let current = nodes[node]
        if index == segments.count {
            if let table = current.terminal {
                if let route = table.lookup(method) { return route }
                allowed.add(table)
            }
        } else {
            let segment = segments[index]
            if let next = current.literals[segment],
               let route = search(node: next, index: index + 1, segments: segments, method: method, values: &values, allowed: &allowed) {
                return route
            }
            if let next = current.parameter, !segment.isEmpty {
                values.append(segment)
                if let route = search(node: next, index: index + 1, segments: segments, method: method, values: &values, allowed: &allowed) {
                    return route
                }
                values.removeLast()
            }
        }
        if let table = current.wildcard {
            if let route = table.lookup(method) {
                values.append(segments[index...].joined(separator: "/"))
                return route
            }
            allowed.add(table)
        }
        return nil
    }
}
