import Foundation
import JWT

/// `JWT_AUTHENTICATION`: the gateway verifies a JSON Web Token itself, with
/// `publicKeys` of type `STATIC_KEYS` (JSON Web Keys), `issuers`, `audiences`,
/// `maxClockSkewInSeconds` and `verifyClaims`. The token comes from
/// `tokenHeader` with `tokenAuthScheme` (`Authorization: Bearer x`) or from
/// `tokenQueryParam`. Refused: 401 with `WWW-Authenticate`.
struct JWTAuthentication: Authenticator {
    struct ClaimCheck: Sendable {
        var key: String
        var values: Set<String>
        var isRequired: Bool
    }

    let source: TokenSource
    let verifier: JWTVerifier
    let issuers: [String]
    let audiences: [String]
    let maxClockSkew: TimeInterval
    let claimChecks: [ClaimCheck]
    let isAnonymousAccessAllowed: Bool
    /// The realm of `WWW-Authenticate`: the deployment's path prefix.
    let realm: String

    static func parse(_ object: [String: JSONValue], _ path: String, realm: String, _ reader: inout SpecReader) -> JWTAuthentication? {
        let before = reader.problems.count
        let source = TokenSource.parse(object, path, &reader, schemeRequired: true)
        let issuers = reader.strings(object, "issuers", path, required: true) ?? []
        let audiences = reader.strings(object, "audiences", path, required: true) ?? []
        for (key, list) in [("issuers", issuers), ("audiences", audiences)] where object[key] != nil {
            if list.isEmpty { reader.problem(SpecReader.join(path, key), "needs at least one value") }
            for (index, value) in list.enumerated() where value.isEmpty {
                reader.problem("\(SpecReader.join(path, key))[\(index)]", "must not be empty")
            }
        }
        let skew = reader.number(object, "maxClockSkewInSeconds", path) ?? 0
        if !(0...3600).contains(skew) { reader.problem(SpecReader.join(path, "maxClockSkewInSeconds"), "must be 0 to 3600") }
        let anonymous = reader.bool(object, "isAnonymousAccessAllowed", path) ?? false

        var checks: [ClaimCheck] = []
        for (claim, claimPath, _) in reader.objects(object, "verifyClaims", path) ?? [] {
            guard let key = reader.string(claim, "key", claimPath, required: true) else { continue }
            let values = reader.strings(claim, "values", claimPath) ?? []
            checks.append(ClaimCheck(key: key, values: Set(values), isRequired: reader.bool(claim, "isRequired", claimPath) ?? false))
        }

        let verifier = parseKeys(object, SpecReader.join(path, "publicKeys"), &reader)
        guard reader.problems.count == before, let source, let verifier else { return nil }
        return JWTAuthentication(source: source, verifier: verifier, issuers: issuers, audiences: audiences,
                                 maxClockSkew: skew, claimChecks: checks, isAnonymousAccessAllowed: anonymous, realm: realm)
    }

    /// `publicKeys: {type: STATIC_KEYS, keys: [JWK]}`, each key checked by the JWT module.
    private static func parseKeys(_ object: [String: JSONValue], _ path: String, _ reader: inout SpecReader) -> JWTVerifier? {
        guard let publicKeys = reader.object(object["publicKeys"], path, required: true) else { return nil }
        switch reader.enumeration(publicKeys, "type", path, ["STATIC_KEYS", "REMOTE_JWKS"], required: true) {
        case "STATIC_KEYS": break
        case "REMOTE_JWKS":
            reader.problem(SpecReader.join(path, "type"), "REMOTE_JWKS is not supported (the gateway fetches no keys): give STATIC_KEYS")
            return nil
        default: return nil
        }
        let keysPath = SpecReader.join(path, "keys")
        guard let array = reader.array(publicKeys["keys"], keysPath, required: true) else { return nil }
        if array.isEmpty { reader.problem(keysPath, "needs at least one key"); return nil }
        var keys: [JSONWebKey] = []
        let before = reader.problems.count
        for (index, value) in array.enumerated() {
            let keyPath = "\(keysPath)[\(index)]"
            guard let key = reader.object(value, keyPath, required: true) else { continue }
            if let format = reader.string(key, "format", keyPath), format != "JSON_WEB_KEY" {
                reader.problem(SpecReader.join(keyPath, "format"), format == "PEM"
                               ? "PEM keys are not supported: give the key as a JSON Web Key (format JSON_WEB_KEY)"
                               : "must be JSON_WEB_KEY, not \"\(format)\"")
                continue
            }
            do {
                var fields = key
                fields["format"] = nil
                let jwk = try JSONDecoder().decode(JSONWebKey.self, from: JSONEncoder().encode(JSONValue.object(fields)))
                _ = try JWTVerifier(keys: [jwk])
                keys.append(jwk)
            } catch let error as DecodingError {
                reader.problem(keyPath, "not a usable JSON Web Key: \(describe(error))")
            } catch JWTError.invalidKey(_, _, let reason) {
                reader.problem(keyPath, "not a usable JSON Web Key: \(reason)")
            } catch {
                reader.problem(keyPath, "not a usable JSON Web Key: \(error)")
            }
        }
        guard reader.problems.count == before else { return nil }
        do {
            return try JWTVerifier(keys: keys)
        } catch {
            reader.problem(keysPath, "\(error)")
            return nil
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.isEmpty ? context.debugDescription
                : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }

    func authenticate(_ context: inout RequestContext) async -> AuthenticationOutcome {
        guard let token = source.token(in: &context) else {
            return .missing(.unauthorized(scheme: source.challengeScheme, realm: realm))
        }
        // The claims' type is the JWT module's; only its members are named here.
        let verified = Result { try verifier.verify(token, issuers: issuers, audiences: audiences, maxClockSkew: maxClockSkew, now: Date()) }
        guard case .success(let claims) = verified else {
            if case .failure(let error) = verified {
                return .rejected(.unauthorized(scheme: source.challengeScheme, realm: realm, error: "\(error)"))
            }
            return .rejected(.unauthorized(scheme: source.challengeScheme, realm: realm))
        }
        for check in claimChecks {
            guard let value = claims.strings[check.key] else {
                if check.isRequired {
                    return .rejected(.unauthorized(scheme: source.challengeScheme, realm: realm, error: "claim \(check.key) is missing"))
                }
                continue
            }
            if !check.values.isEmpty && !check.values.contains(value) {
                return .rejected(.unauthorized(scheme: source.challengeScheme, realm: realm, error: "claim \(check.key) is not accepted"))
            }
        }
        return .accepted(Principal(subject: claims.subject, scopes: claims.scopes, context: claims.strings))
    }
}
