import OCI
import Testing

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"),
        ("fnproject/hello", "docker.io/fnproject/hello:latest"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/a/b:v1", "localhost:5000/a/b:v1"),
        ("127.0.0.1:5000/fns/hello:1.0", "127.0.0.1:5000/fns/hello:1.0"),
        ("host:5000/a/b@sha256:" + String(repeating: "a", count: 64), "host:5000/a/b@sha256:" + String(repeating: "a", count: 64)),
        ("ubuntu:22.04@sha256:" + String(repeating: "b", count: 64), "docker.io/library/ubuntu:22.04@sha256:" + String(repeating: "b", count: 64)),
        ("ghcr.io/org/team/app_x.y-z:TAG_1", "ghcr.io/org/team/app_x.y-z:TAG_1"),
        ("Registry/app", "Registry/app:latest"),
        ("[::1]:5000/app", "[::1]:5000/app:latest"),
        ("a__b/c---d", "docker.io/a__b/c---d:latest"),
    ])
    func normalizes(input: String, expected: String) throws {
        #expect(try ImageReference(parsing: input).description == expected)
    }

    @Test func splitsParts() throws {
        let ref = try ImageReference(parsing: "host:5000/a/b:v2@sha256:" + String(repeating: "c", count: 64))
        #expect(ref.registry == "host:5000")
        #expect(ref.repository == "a/b")
        #expect(ref.tag == "v2")
        #expect(ref.digest?.encoded == String(repeating: "c", count: 64))
        #expect(ref.manifestReference == "sha256:" + String(repeating: "c", count: 64))
    }

    @Test(arguments: [
        ("", "empty"),
        ("docker.io/Busybox", "lowercase"),
        ("busybox:", "invalid tag"),
        ("busybox:-bad", "invalid tag"),
        ("busybox:" + String(repeating: "x", count: 129), "invalid tag"),
        ("busybox@sha256:abc", "sha256 needs 64"),
        ("busybox@md5:" + String(repeating: "a", count: 32), "unsupported algorithm"),
        (String(repeating: "a", count: 64), "64-byte hexadecimal"),
        ("a//b", "path component"),
        ("a/b_", "path component"),
        ("-a/b", "path component"),
        ("-a.com/b", "invalid registry host"),
        ("host:port/app", "invalid registry host"),
        ("a/" + String(repeating: "b", count: 260), "255"),
        (":tag", "missing repository"),
    ])
    func rejects(input: String, reason: String) {
        #expect {
            try ImageReference(parsing: input)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("invalid image reference")
        }
    }
}

@Suite struct DigestTests {
    @Test func parsesAndPrints() throws {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let digest = try Digest(parsing: "sha256:\(hex)")
        #expect(digest.algorithm == "sha256")
        #expect(digest.description == "sha256:\(hex)")
    }

    @Test(arguments: ["sha256", "sha256:", "sha256:" + String(repeating: "A", count: 64), "sha1:" + String(repeating: "a", count: 40)])
    func rejects(input: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: input) }
    }

    @Test func hashesLikeSha256sum() {
        // printf 'hello\n' | sha256sum
        #expect(Digest.sha256(of: Array("hello\n".utf8)).encoded == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        var hasher = DigestHasher()
        hasher.update(Array("hel".utf8))
        hasher.update(Array("lo\n".utf8))
        #expect(hasher.finalize() == Digest.sha256(of: Array("hello\n".utf8)))
        #expect(hasher.count == 6)
    }
}
