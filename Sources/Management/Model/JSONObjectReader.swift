import Foundation

/// Reads a request body as a JSON object, field by field, with errors that name the field.
struct JSONObjectReader {
    let object: [String: JSONValue]

    init(body: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw ManagementError(.invalid, "Invalid JSON")
        }
        guard case .object(let object) = value else {
            throw ManagementError(.invalid, "Invalid JSON: the body must be a JSON object, not \(value.typeName)")
        }
        self.object = object
    }

    /// A string field; absent or `null` is nil.
    func string(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw mismatch(key, "a string", other)
        }
    }

    /// An integer field; absent or `null` is nil.
    func integer(_ key: String) throws -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let value)?:
            guard value.rounded() == value else {
                throw ManagementError.invalid(key, "Invalid JSON: \(key) must be an integer, not \(value)")
            }
            // Out of Int's range is out of every field's range: let the range check say so.
            return abs(value) < 1e15 ? Int(value) : (value < 0 ? Int.min : Int.max)
        case let other?: throw mismatch(key, "an integer", other)
        }
    }

    /// A map of strings; a `null` value stands for `""` (which removes the key in an update).
    func stringMap(_ key: String) throws -> [String: String]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let entries)?:
            var map: [String: String] = [:]
            for (name, value) in entries {
                switch value {
                case .string(let s): map[name] = s
                case .null: map[name] = ""
                default: throw mismatch(key, "an object of strings (\(key).\(name) is \(value.typeName))", nil)
                }
            }
            return map
        case let other?: throw mismatch(key, "an object", other)
        }
    }

    /// A map of JSON values (annotations).
    func jsonMap(_ key: String) throws -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let entries)?: return entries
        case let other?: throw mismatch(key, "an object", other)
        }
    }

    private func mismatch(_ key: String, _ expected: String, _ value: JSONValue?) -> ManagementError {
        let actual = value.map { ", not \($0.typeName)" } ?? ""
        return ManagementError.invalid(key, "Invalid JSON: \(key) must be \(expected)\(actual)")
    }
}
