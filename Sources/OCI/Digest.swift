import Crypto
import Foundation

/// A content digest, `algorithm:encoded`, as used by the OCI image spec.
///
/// Only `sha256` and `sha512` are accepted; the encoded part must be lowercase
/// hex of the algorithm's length.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Codable, Comparable {
    public let algorithm: String
    public let encoded: String

    /// Parses `sha256:<64 hex>` (or sha512), naming what is wrong on failure.
    public init(parsing string: String) throws(OCIError) {
        guard let colon = string.firstIndex(of: ":") else {
            throw .invalidDigest(string, reason: "missing ':' between algorithm and hex")
        }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        let length: Int
        switch algorithm {
        case "sha256": length = 64
        case "sha512": length = 128
        default: throw .invalidDigest(string, reason: "unsupported algorithm '\(algorithm)'")
        }
        guard encoded.utf8.count == length,
            encoded.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else {
            throw .invalidDigest(string, reason: "\(algorithm) needs \(length) lowercase hex characters")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The sha256 digest of `data`.
    public static func sha256(of data: some DataProtocol) -> Digest {
        Digest(sha256: SHA256.hash(data: data))
    }

    /// Wraps a finished SHA-256 hash.
    public init(sha256 hash: SHA256.Digest) {
        self.algorithm = "sha256"
        self.encoded = hash.map { String(format: "%02x", $0) }.joined()
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do { try self.init(parsing: string) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

/// Computes a digest incrementally, for content that streams through.
public struct DigestHasher {
    private var hash = SHA256()
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        hash.update(bufferPointer: buffer)
        count += Int64(buffer.count)
    }

    public mutating func update(_ data: some DataProtocol) {
        hash.update(data: data)
        count += Int64(data.count)
    }

    public func finalize() -> Digest { Digest(sha256: hash.finalize()) }
}
