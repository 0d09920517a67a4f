/// Reads a spec's JSON with its path, collecting every problem instead of
/// stopping at the first. Missing optional fields are `nil`; a field of the
/// wrong type is a problem and reads as `nil` too, so later checks skip it
/// rather than report it twice.
struct SpecReader {
    var problems: [SpecProblem] = []

    mutating func problem(_ path: String, _ message: String) {
        problems.append(SpecProblem(path: path, message: message))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// `value` as an object; a problem when present but something else.
    mutating func object(_ value: JSONValue?, _ path: String, required: Bool = false) -> [String: JSONValue]? {
        switch value {
        case .object(let object): return object
        case nil, .null?:
            if required { problem(path, "required") }
            return nil
        case let other?:
            problem(path, "must be an object, not \(other.kindName)")
            return nil
        }
    }

    mutating func array(_ value: JSONValue?, _ path: String, required: Bool = false) -> [JSONValue]? {
        switch value {
        case .array(let array): return array
        case nil, .null?:
            if required { problem(path, "required") }
            return nil
        case let other?:
            problem(path, "must be an array, not \(other.kindName)")
            return nil
        }
    }

    mutating func string(_ object: [String: JSONValue], _ key: String, _ path: String, required: Bool = false) -> String? {
        let fieldPath = Self.join(path, key)
        switch object[key] {
        case .string(let value): return value
        case nil, .null?:
            if required { problem(fieldPath, "required") }
            return nil
        case let other?:
            problem(fieldPath, "must be a string, not \(other.kindName)")
            return nil
        }
    }

    mutating func bool(_ object: [String: JSONValue], _ key: String, _ path: String) -> Bool? {
        switch object[key] {
        case .bool(let value): return value
        case nil, .null?: return nil
        case let other?:
            problem(Self.join(path, key), "must be true or false, not \(other.kindName)")
            return nil
        }
    }

    mutating func number(_ object: [String: JSONValue], _ key: String, _ path: String, required: Bool = false) -> Double? {
        switch object[key] {
        case .number(let value): return value
        case nil, .null?:
            if required { problem(Self.join(path, key), "required") }
            return nil
        case let other?:
            problem(Self.join(path, key), "must be a number, not \(other.kindName)")
            return nil
        }
    }

    mutating func integer(_ object: [String: JSONValue], _ key: String, _ path: String, required: Bool = false) -> Int? {
        guard let value = number(object, key, path, required: required) else { return nil }
        guard value.rounded() == value, abs(value) < 9.0e15 else {
            problem(Self.join(path, key), "must be a whole number, not \(value)")
            return nil
        }
        return Int(value)
    }

    /// An array of strings; each wrong element is its own problem (`allowedOrigins[2]`).
    mutating func strings(_ object: [String: JSONValue], _ key: String, _ path: String, required: Bool = false) -> [String]? {
        let fieldPath = Self.join(path, key)
        guard let array = array(object[key], fieldPath, required: required) else { return nil }
        var result: [String] = []
        var ok = true
        for (index, element) in array.enumerated() {
            if case .string(let value) = element { result.append(value) }
            else {
                problem("\(fieldPath)[\(index)]", "must be a string, not \(element.kindName)")
                ok = false
            }
        }
        return ok ? result : nil
    }

    /// The objects of an array field, with their paths; wrong elements are problems and skipped.
    mutating func objects(_ object: [String: JSONValue], _ key: String, _ path: String,
                          required: Bool = false) -> [(object: [String: JSONValue], path: String, index: Int)]? {
        let fieldPath = Self.join(path, key)
        guard let array = array(object[key], fieldPath, required: required) else { return nil }
        var result: [(object: [String: JSONValue], path: String, index: Int)] = []
        for (index, element) in array.enumerated() {
            let elementPath = "\(fieldPath)[\(index)]"
            if let value = self.object(element, elementPath, required: true) { result.append((value, elementPath, index)) }
        }
        return result
    }

    /// A string that must be one of `allowed`.
    mutating func enumeration(_ object: [String: JSONValue], _ key: String, _ path: String, _ allowed: [String],
                              required: Bool = false) -> String? {
        guard let value = string(object, key, path, required: required) else { return nil }
        guard allowed.contains(value) else {
            problem(Self.join(path, key), "must be one of \(allowed.joined(separator: ", ")), not \"\(value)\"")
            return nil
        }
        return value
    }
}

extension JSONValue {
    /// What the value is, for problem messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
