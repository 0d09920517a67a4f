/// A public JSON Web Key (RFC 7517) as written in a key set or a gateway spec: RSA (`n`, `e`) or EC (`crv`, `x`, `y`),
/// numbers in base64url. Decoding checks only JSON types; `JWTVerifier(keys:)` checks that a key is usable.
/// `key_ops` is also read as `keyOps` (OCI API Gateway's spelling); other members (`format`, `x5c`...) are ignored.
public struct JSONWebKey: Codable, Sendable, Hashable {
    /// Key type: `RSA` or `EC`.
    public var kty: String
    /// Key ID, matched against a token header's `kid`.
    public var kid: String?
    /// If set, the only algorithm this key verifies.
    public var alg: String?
    /// Intended use; only `sig` (or absent) is accepted.
    public var use: String?
    /// Permitted operations; if present, must include `verify`.
    public var keyOps: [String]?
    /// RSA modulus, base64url big-endian.
    public var n: String?
    /// RSA public exponent, base64url big-endian.
    public var e: String?
    /// EC curve: `P-256` or `P-384`.
    public var crv: String?
    /// EC x coordinate, base64url, exactly the curve's size.
    public var x: String?
    /// EC y coordinate, base64url, exactly the curve's size.
    public var y: String?

    public init(
        kty: String, kid: String? = nil, alg: String? = nil, use: String? = nil, keyOps: [String]? = nil,
        n: String? = nil, e: String? = nil, crv: String? = nil, x: String? = nil, y: String? = nil
    ) {
        self.kty = kty
        self.kid = kid
        self.alg = alg
        self.use = use
        self.keyOps = keyOps
        self.n = n
        self.e = e
        self.crv = crv
        self.x = x
        self.y = y
    }

    private enum CodingKeys: String, CodingKey {
        case kty, kid, alg, use, n, e, crv, x, y
        case keyOps = "key_ops"
        case ociKeyOps = "keyOps"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kty = try c.decode(String.self, forKey: .kty)
        kid = try c.decodeIfPresent(String.self, forKey: .kid)
        alg = try c.decodeIfPresent(String.self, forKey: .alg)
        use = try c.decodeIfPresent(String.self, forKey: .use)
        keyOps = try c.decodeIfPresent([String].self, forKey: .keyOps)
            ?? c.decodeIfPresent([String].self, forKey: .ociKeyOps)
        n = try c.decodeIfPresent(String.self, forKey: .n)
        e = try c.decodeIfPresent(String.self, forKey: .e)
        crv = try c.decodeIfPresent(String.self, forKey: .crv)
        x = try c.decodeIfPresent(String.self, forKey: .x)
        y = try c.decodeIfPresent(String.self, forKey: .y)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kty, forKey: .kty)
        try c.encodeIfPresent(kid, forKey: .kid)
        try c.encodeIfPresent(alg, forKey: .alg)
        try c.encodeIfPresent(use, forKey: .use)
        try c.encodeIfPresent(keyOps, forKey: .keyOps)
        try c.encodeIfPresent(n, forKey: .n)
        try c.encodeIfPresent(e, forKey: .e)
        try c.encodeIfPresent(crv, forKey: .crv)
        try c.encodeIfPresent(x, forKey: .x)
        try c.encodeIfPresent(y, forKey: .y)
    }
}
