import Foundation
import OCI
import Testing

@Suite struct PlatformTests {
    @Test(arguments: [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("Linux/ARM64/V8", "linux/arm64/v8"),
    ])
    func parses(input: String, expected: String) throws {
        #expect(try Platform(parsing: input).description == expected)
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d"])
    func rejects(input: String) {
        #expect(throws: OCIError.self) { try Platform(parsing: input) }
    }

    func descriptor(_ platform: String, _ fill: Character) throws -> Descriptor {
        Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: "sha256:" + String(repeating: fill, count: 64)),
                   size: 1, platform: try Platform(parsing: platform))
    }

    @Test func indexChoosesThePlatform() throws {
        let index = Index(manifests: [
            try descriptor("linux/arm/v6", "a"), try descriptor("linux/arm/v7", "b"),
            try descriptor("linux/amd64", "c"), try descriptor("linux/arm64", "d"),
        ])
        #expect(index.manifest(for: try Platform(parsing: "linux/amd64"))?.digest.encoded.first == "c")
        #expect(index.manifest(for: try Platform(parsing: "linux/arm/v7"))?.digest.encoded.first == "b")
        #expect(index.manifest(for: try Platform(parsing: "linux/arm64/v8"))?.digest.encoded.first == "d")
        #expect(index.manifest(for: try Platform(parsing: "linux/s390x")) == nil)
        #expect(index.manifest(for: try Platform(parsing: "windows/amd64")) == nil)
    }
}

@Suite struct ManifestDocumentTests {
    @Test func refusesSchema1() {
        let schema1 = Data(#"{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[{"blobSum":"x"}]}"#.utf8)
        #expect {
            try ManifestDocument.decode(schema1, mediaType: MediaType.dockerSchema1Signed)
        } throws: { "\($0)".contains("schema 1") }
        #expect(throws: OCIError.self) { try ManifestDocument.decode(schema1, mediaType: "application/json") }
    }

    @Test func decodesByContentTypeOrField() throws {
        let digest = "sha256:" + String(repeating: "e", count: 64)
        let manifest = Data(#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"\#(digest)","size":2},"layers":[]}"#.utf8)
        let (doc, type) = try ManifestDocument.decode(manifest, mediaType: "application/octet-stream")
        #expect(type == MediaType.dockerManifest)
        guard case .manifest(let m) = doc else { Issue.record("not a manifest"); return }
        #expect(m.config.size == 2)
        let index = Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        let (indexDoc, indexType) = try ManifestDocument.decode(index, mediaType: MediaType.dockerManifestList + "; charset=utf-8")
        #expect(indexType == MediaType.dockerManifestList)
        if case .manifest = indexDoc { Issue.record("an index decoded as a manifest") }
        #expect(throws: OCIError.self) { try ManifestDocument.decode(Data("not json".utf8), mediaType: nil) }
        #expect(throws: OCIError.self) { try ManifestDocument.decode(index, mediaType: "application/vnd.example.unknown") }
    }
}
