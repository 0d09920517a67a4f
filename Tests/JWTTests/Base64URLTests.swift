import Foundation
import JWT
import Testing

@Suite struct Base64URLTests {
    @Test("matches Foundation's base64 with the URL alphabet and no padding", arguments: 0 ..< 40)
    func matchesFoundation(length: Int) throws {
        let bytes = Data((0 ..< length).map { UInt8(truncatingIfNeeded: $0 * 37 + 251) })
        let expected = bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(Base64URL.encode(bytes) == expected)
        #expect(Base64URL.decode(expected) == bytes)
    }

    @Test("non-canonical or foreign text is refused", arguments: [
        "a+b/", // standard alphabet
        "AA==", // padding
        "A", // impossible length
        "AB", // non-zero unused bits
        "AA A", // space
        "ÄÄÄÄ",
    ])
    func refused(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func paddingOnlyWhenAllowed() {
        #expect(Base64URL.decode("AA==", allowPadding: true) == Data([0]))
        #expect(Base64URL.decode("AAA=", allowPadding: true) == Data([0, 0]))
        #expect(Base64URL.decode("AA=", allowPadding: true) == nil)
        #expect(Base64URL.decode("", allowPadding: true) == Data())
    }
}
