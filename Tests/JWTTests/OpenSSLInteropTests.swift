import Crypto
import Foundation
import JWT
import Testing
import _CryptoExtras

/// Tokens signed by OpenSSL verify here, and tokens signed here verify with OpenSSL: the signature
/// formats match an independent implementation, not just this module's own signer.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: OpenSSL.path)))
struct OpenSSLInterop {
    static func header(_ alg: String) -> String { #"{"alg":""# + alg + #"","kid":"openssl","typ":"JWT"}"# }
    static let payload = #"{"iss":"https://issuer.example","sub":"openssl-user","aud":["api://fnrt"],"exp":1700000300,"scp":["x"]}"#

    @Test func rs256SignedByOpenSSL() throws {
        let dir = try OpenSSL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try OpenSSL.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                         "-pkeyopt", "rsa_keygen_pubexp:65537", "-out", "key.pem"], in: dir)
        let modulusLine = String(decoding: try OpenSSL.run(["rsa", "-in", "key.pem", "-noout", "-modulus"], in: dir), as: UTF8.self)
        let hex = modulusLine.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "Modulus=", with: "")
        let jwk = JSONWebKey(kty: "RSA", kid: "openssl", alg: "RS256", use: "sig",
                             n: OpenSSL.base64url(OpenSSL.bytes(hex: hex)), e: "AQAB")

        let input = OpenSSL.base64url(Data(Self.header("RS256").utf8)) + "." + OpenSSL.base64url(Data(Self.payload.utf8))
        try Data(input.utf8).write(to: dir.appendingPathComponent("input"))
        let signature = try OpenSSL.run(["dgst", "-sha256", "-sign", "key.pem", "input"], in: dir)

        let claims = try JWTVerifier(keys: [jwk]).verify(
            input + "." + OpenSSL.base64url(signature), issuers: ["https://issuer.example"], audiences: ["api://fnrt"],
            now: Fixtures.now)
        #expect(claims.subject == "openssl-user" && claims.scopes == ["x"] && claims.algorithm == .rs256)
    }

    @Test("ES256 and ES384 signed by OpenSSL (DER signature converted to r||s)", arguments: [
        ("prime256v1", "P-256", "ES256", "-sha256", 32),
        ("secp384r1", "P-384", "ES384", "-sha384", 48),
    ])
    func ecdsaSignedByOpenSSL(curve: String, crv: String, alg: String, digest: String, size: Int) throws {
        let dir = try OpenSSL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try OpenSSL.run(["ecparam", "-name", curve, "-genkey", "-noout", "-out", "key.pem"], in: dir)
        // SubjectPublicKeyInfo DER ends with the uncompressed point 04 || x || y.
        let spki = try OpenSSL.run(["ec", "-in", "key.pem", "-pubout", "-outform", "DER"], in: dir)
        let point = spki.suffix(1 + 2 * size)
        #expect(point.first == 0x04)
        let jwk = JSONWebKey(kty: "EC", kid: "openssl", crv: crv,
                             x: OpenSSL.base64url(point.dropFirst().prefix(size)), y: OpenSSL.base64url(point.suffix(size)))

        let input = OpenSSL.base64url(Data(Self.header(alg).utf8)) + "." + OpenSSL.base64url(Data(Self.payload.utf8))
        try Data(input.utf8).write(to: dir.appendingPathComponent("input"))
        let der = try OpenSSL.run(["dgst", digest, "-sign", "key.pem", "input"], in: dir)
        let raw = try #require(DER.ecdsaRaw(der, size: size))

        let claims = try JWTVerifier(keys: [jwk]).verify(
            input + "." + OpenSSL.base64url(raw), audiences: ["api://fnrt"], now: Fixtures.now)
        #expect(claims.subject == "openssl-user" && claims.algorithm.rawValue == alg)
    }

    @Test("tokens made by JWTSigner verify with OpenSSL", arguments: [Fixtures.rs256, Fixtures.es256])
    func signerVerifiedByOpenSSL(signer: JWTSigner) throws {
        let dir = try OpenSSL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = try signer.sign(Fixtures.claims())
        let parts = token.split(separator: ".")
        try Data((parts[0] + "." + parts[1]).utf8).write(to: dir.appendingPathComponent("input"))
        var signature = try #require(Base64URL.decode(parts[2]))
        let pem: String
        if signer.algorithm == .rs256 {
            pem = Fixtures.rsaKey.publicKey.pemRepresentation
        } else {
            pem = Fixtures.p256Key.publicKey.pemRepresentation
            signature = DER.ecdsaSignature(raw: signature)
        }
        try Data(pem.utf8).write(to: dir.appendingPathComponent("pub.pem"))
        try signature.write(to: dir.appendingPathComponent("sig"))
        let output = try OpenSSL.run(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "input"], in: dir)
        #expect(String(decoding: output, as: UTF8.self).contains("Verified OK"))
    }
}

enum OpenSSL {
    static let path = "/usr/bin/openssl"

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs openssl in `directory` and returns its standard output; throws if it exits non-zero.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "openssl \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return output
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-openssl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// base64url via Foundation, independent of the module's `Base64URL`.
    static func base64url(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func bytes(hex: String) -> Data {
        var data = Data()
        var iterator = hex.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            data.append(UInt8(String([high, low]), radix: 16)!)
        }
        return data
    }
}

/// ECDSA signatures between DER (`SEQUENCE { INTEGER r, INTEGER s }`, OpenSSL) and r||s (JWS).
enum DER {
    static func ecdsaRaw(_ der: Data, size: Int) -> Data? {
        let bytes = [UInt8](der)
        var i = 0
        func length() -> Int? {
            guard i < bytes.count else { return nil }
            let first = Int(bytes[i])
            i += 1
            if first < 0x80 { return first }
            var value = 0
            for _ in 0 ..< (first & 0x7f) {
                guard i < bytes.count else { return nil }
                value = value << 8 | Int(bytes[i])
                i += 1
            }
            return value
        }
        guard bytes.first == 0x30 else { return nil }
        i = 1
        guard length() != nil else { return nil }
        var raw = Data()
        for _ in 0 ..< 2 {
            guard i < bytes.count, bytes[i] == 0x02 else { return nil }
            i += 1
            guard let count = length(), i + count <= bytes.count else { return nil }
            let integer = bytes[i ..< i + count].drop { $0 == 0 }
            i += count
            guard integer.count <= size else { return nil }
            raw += Data(repeating: 0, count: size - integer.count) + integer
        }
        return raw
    }

    static func ecdsaSignature(raw: Data) -> Data {
        func encodedLength(_ n: Int) -> [UInt8] { n < 0x80 ? [UInt8(n)] : [0x81, UInt8(n)] }
        func integer(_ bytes: Data) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.isEmpty || value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02] + encodedLength(value.count) + value
        }
        let body = integer(raw.prefix(raw.count / 2)) + integer(raw.suffix(raw.count / 2))
        return Data([0x30] + encodedLength(body.count) + body)
    }
}
