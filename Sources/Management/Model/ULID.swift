import Synchronization

/// ULIDs as Fn's IDs: 26 characters of Crockford base32, a 48-bit millisecond
/// timestamp then 80 random bits; monotonic within a millisecond, so IDs made
/// by one process sort in creation order.
enum ULID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private static let last = Mutex<(milliseconds: UInt64, random: UInt128)>((0, 0))

    static func make(milliseconds: UInt64) -> String {
        let randomMask: UInt128 = (1 << 80) - 1
        let (ms, random) = last.withLock { state -> (UInt64, UInt128) in
            if milliseconds <= state.milliseconds, state.random < randomMask {
                // Same (or an earlier, clock-stepped) millisecond: keep order by counting up.
                state.random += 1
            } else {
                var generator = SystemRandomNumberGenerator()
                let high = UInt128(generator.next() as UInt16)
                state.random = (high << 64 | UInt128(generator.next() as UInt64)) & randomMask
                state.milliseconds = max(milliseconds, state.milliseconds)
            }
            return (state.milliseconds, state.random)
        }
        return encode(UInt128(ms & 0xFFFF_FFFF_FFFF) << 80 | random)
    }

    static func encode(_ value: UInt128) -> String {
        var characters = [UInt8](repeating: 0, count: 26)
        var v = value
        for i in stride(from: 25, through: 0, by: -1) {
            characters[i] = alphabet[Int(v & 31)]
            v >>= 5
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Whether `text` has the shape of a ULID.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 26 && bytes[0] <= UInt8(ascii: "7") && bytes.allSatisfy { alphabet.contains($0) }
    }
}
