/// Why a management operation was refused; maps to an HTTP status and Fn's `{"message": ...}` body.
public struct ManagementError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 400: invalid JSON, a missing or invalid field or parameter.
        case invalid
        /// 404: an unknown id (or path).
        case notFound
        /// 409: a name (or trigger source) already taken in its scope, or an immutable field changed.
        case conflict
    }

    public var kind: Kind
    /// The JSON field or query parameter at fault, if one is.
    public var field: String?
    public var message: String

    public init(_ kind: Kind, field: String? = nil, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var status: Int {
        switch kind {
        case .invalid: 400
        case .notFound: 404
        case .conflict: 409
        }
    }

    public var description: String { message }

    static func invalid(_ field: String, _ message: String) -> ManagementError {
        ManagementError(.invalid, field: field, message)
    }

    static let appNotFound = ManagementError(.notFound, "App not found")
    static let fnNotFound = ManagementError(.notFound, "Fn not found")
    static let triggerNotFound = ManagementError(.notFound, "Trigger not found")
}
