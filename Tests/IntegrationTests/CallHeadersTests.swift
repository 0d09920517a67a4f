import Foundation
import Runtime
import Testing

struct CallHeadersTests {
    /// Deadlines read as Foundation's RFC 3339 style writes them (UTC, milliseconds; the
    /// fractions are exact in binary, where Foundation's own rounding can differ by 1 ms).
    @Test(arguments: [0, 1_764_104_645.125, 1_764_104_645.999_9, 951_782_400.5, 4_102_444_799.75, -1.25])
    func deadlinesMatchFoundationsISO8601(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(CallHeaders.deadline(date) == date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    @Test func callIDsAreDistinctVersion4UUIDs() {
        // 1,000 IDs use the random bytes of several system calls.
        let ids = (0..<1000).map { _ in CallHeaders.newCallID() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(20) + ids.suffix(20) {
            #expect(UUID(uuidString: id)?.uuidString == id, "\(id)")
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil, "\(id)")
            #expect(Array(id)[14] == "4", "version nibble of \(id)")
            #expect("89AB".contains(Array(id)[19]), "variant of \(id)")
        }
    }
}
