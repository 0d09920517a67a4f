import Foundation

/// An API deployment as OCI's API Gateway defines the resource:
/// `{"displayName": ..., "pathPrefix": "/marketing", "specification": {...}}`.
///
/// The `specification` is OCI's `ApiSpecification` with its field names and
/// value spellings: `requestPolicies` (`authentication`, `cors`,
/// `rateLimiting`; `usagePlans` ignored, `mutualTls` refused), `routes[]`
/// (`path`, `methods`, `backend`, `requestPolicies`, `responsePolicies`),
/// `loggingPolicies` (ignored). Unknown fields are ignored; wrong types are problems.
///
/// fnrt's one extension: `specification.requestPolicies.bodyLimit:
/// {"maxBytes": N}`, the largest request body accepted (413 above it, before
/// any backend); the default is `Gateway.defaultMaxBodyBytes`, 6 MiB, OCI
/// Functions' payload limit.
public struct Deployment: Sendable, Equatable, Codable {
    public var displayName: String?
    /// Where the deployment is mounted: `/marketing` serves `/marketing/...`.
    public var pathPrefix: String
    /// The `ApiSpecification`, checked when deployed.
    public var specification: JSONValue

    public init(displayName: String? = nil, pathPrefix: String, specification: JSONValue) {
        self.displayName = displayName
        self.pathPrefix = pathPrefix
        self.specification = specification
    }

    /// Reads the resource from JSON, reporting every problem of its envelope.
    public init(json bytes: [UInt8]) throws(SpecValidationError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw SpecValidationError(problems: [SpecProblem(path: "", message: "not valid JSON: \(Self.describe(error))")])
        }
        try self.init(value)
    }

    /// Reads the resource from a decoded JSON value.
    public init(_ value: JSONValue) throws(SpecValidationError) {
        var reader = SpecReader()
        guard let object = reader.object(value, "", required: true) else {
            throw SpecValidationError(problems: [SpecProblem(path: "", message: "must be an object with pathPrefix and specification")])
        }
        let displayName = reader.string(object, "displayName", "")
        let pathPrefix = reader.string(object, "pathPrefix", "", required: true)
        let specification = reader.object(object["specification"], "specification", required: true)
        guard reader.problems.isEmpty, let pathPrefix, let specification else { throw SpecValidationError(problems: reader.problems) }
        self.init(displayName: displayName, pathPrefix: pathPrefix, specification: .object(specification))
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        return "\(error)"
    }
}

/// A deployment being served.
public struct DeploymentInfo: Sendable, Equatable {
    public var id: String
    public var displayName: String?
    public var pathPrefix: String
    /// How many routes the specification has.
    public var routeCount: Int
    /// The deployment as it was deployed.
    public var deployment: Deployment
}

/// A file of `Gateway.loadDirectory` that was not deployed, and why.
public struct DeploymentFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var error: SpecValidationError

    public var description: String {
        error.problems.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}
