import HTTPTypes

/// How `setHeaders` / `setQueryParameters` treat a name that is already there.
enum IfExists: String, Sendable {
    case overwrite = "OVERWRITE"
    case append = "APPEND"
    case skip = "SKIP"
}

/// The parts of a transformation policy, generic over header and query names.
/// Applied in OCI's order: filter, then rename, then set.
struct Transformation<Name: Hashable & Sendable>: Sendable {
    struct Setting: Sendable {
        var name: Name
        var values: [Template]
        var ifExists: IfExists
    }

    /// `BLOCK` (true) or `ALLOW` (false) the names.
    var filter: (block: Bool, names: Set<Name>)?
    var renames: [(from: Name, to: Name)] = []
    var settings: [Setting] = []

    var isEmpty: Bool { filter == nil && renames.isEmpty && settings.isEmpty }

    /// Reads `{filterX: {type, items: [{name}]}, renameX: {items: [{from, to}]}, setX: {items: [{name, values, ifExists}]}}`.
    static func parse(_ object: [String: JSONValue], _ path: String, keys: (filter: String, rename: String, set: String),
                      makeName: (String) -> Name?, what: String, pathParameters: Set<String>,
                      _ reader: inout SpecReader) -> Transformation? {
        let before = reader.problems.count
        var result = Transformation()
        func name(_ item: [String: JSONValue], _ key: String, _ itemPath: String) -> Name? {
            guard let text = reader.string(item, key, itemPath, required: true) else { return nil }
            guard let name = makeName(text) else {
                reader.problem(SpecReader.join(itemPath, key), "\"\(text)\" is not a valid \(what) name")
                return nil
            }
            return name
        }
        let filterPath = SpecReader.join(path, keys.filter)
        if let filter = reader.object(object[keys.filter], filterPath) {
            let type = reader.enumeration(filter, "type", filterPath, ["BLOCK", "ALLOW"], required: true)
            var names: Set<Name> = []
            for (item, itemPath, _) in reader.objects(filter, "items", filterPath, required: true) ?? [] {
                if let name = name(item, "name", itemPath) { names.insert(name) }
            }
            if let type { result.filter = (type == "BLOCK", names) }
        }
        let renamePath = SpecReader.join(path, keys.rename)
        if let rename = reader.object(object[keys.rename], renamePath) {
            for (item, itemPath, _) in reader.objects(rename, "items", renamePath, required: true) ?? [] {
                if let from = name(item, "from", itemPath), let to = name(item, "to", itemPath) { result.renames.append((from, to)) }
            }
        }
        let setPath = SpecReader.join(path, keys.set)
        if let set = reader.object(object[keys.set], setPath) {
            for (item, itemPath, _) in reader.objects(set, "items", setPath, required: true) ?? [] {
                let itemName = name(item, "name", itemPath)
                let values = reader.strings(item, "values", itemPath, required: true) ?? []
                if values.isEmpty, item["values"] != nil { reader.problem(SpecReader.join(itemPath, "values"), "needs at least one value") }
                var templates: [Template] = []
                for (index, value) in values.enumerated() {
                    switch Template.parse(value, pathParameters: pathParameters) {
                    case .success(let template): templates.append(template)
                    case .failure(let error): reader.problem("\(SpecReader.join(itemPath, "values"))[\(index)]", error.message)
                    }
                }
                let ifExists = reader.enumeration(item, "ifExists", itemPath, ["OVERWRITE", "APPEND", "SKIP"]).flatMap(IfExists.init) ?? .overwrite
                if let itemName { result.settings.append(Setting(name: itemName, values: templates, ifExists: ifExists)) }
            }
        }
        return reader.problems.count == before ? result : nil
    }
}

typealias HeaderTransformation = Transformation<HTTPField.Name>
typealias QueryTransformation = Transformation<String>

extension Transformation where Name == HTTPField.Name {
    /// Headers the transformations may not touch: the gateway and the HTTP layer own them.
    static let reserved: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"]

    static func parseHeaders(_ object: [String: JSONValue], _ path: String, pathParameters: Set<String>,
                             _ reader: inout SpecReader) -> HeaderTransformation? {
        parse(object, path, keys: ("filterHeaders", "renameHeaders", "setHeaders"), makeName: { text in
            guard let name = HTTPField.Name(text), !reserved.contains(name.canonicalName) else { return nil }
            return name
        }, what: "header (Host, Content-Length and hop-by-hop headers are the gateway's)", pathParameters: pathParameters, &reader)
    }

    func apply(to fields: inout HTTPFields, context: inout RequestContext) {
        if let filter {
            fields.removeAll { field in
                // The gateway's own hop-by-hop and framing headers are never filtered away.
                if Self.reserved.contains(field.name.canonicalName) { return false }
                return filter.names.contains(field.name) == filter.block
            }
        }
        for rename in renames {
            let values = fields[values: rename.from]
            guard !values.isEmpty else { continue }
            fields[values: rename.from] = []
            fields[values: rename.to] += values
        }
        for setting in settings {
            let exists = !fields[values: setting.name].isEmpty
            if exists && setting.ifExists == .skip { continue }
            let values = setting.values.map { $0.render(&context) }
            if exists && setting.ifExists == .append { fields[values: setting.name] += values }
            else { fields[values: setting.name] = values }
        }
    }
}

extension Transformation where Name == String {
    static func parseQuery(_ object: [String: JSONValue], _ path: String, pathParameters: Set<String>,
                           _ reader: inout SpecReader) -> QueryTransformation? {
        parse(object, path, keys: ("filterQueryParameters", "renameQueryParameters", "setQueryParameters"),
              makeName: { $0.isEmpty ? nil : $0 }, what: "query parameter", pathParameters: pathParameters, &reader)
    }

    func apply(to query: inout QueryParameters, context: inout RequestContext) {
        if let filter {
            query.items.removeAll { filter.names.contains($0.name) == filter.block }
        }
        for rename in renames {
            for index in query.items.indices where query.items[index].name == rename.from {
                query.items[index].name = rename.to
            }
        }
        for setting in settings {
            let exists = query.contains(setting.name)
            if exists && setting.ifExists == .skip { continue }
            let values = setting.values.map { $0.render(&context) }
            if exists && setting.ifExists != .append { query.items.removeAll { $0.name == setting.name } }
            query.items += values.map { (setting.name, $0) }
        }
    }
}
