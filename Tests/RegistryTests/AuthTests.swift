import Foundation
import Testing
@testable import Registry

@Suite struct AuthChallengeTests {
    @Test func parsesBearer() {
        let c = AuthChallenge.parse(#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#)
        #expect(c == [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull,push",
        ])])
    }

    @Test func parsesSeveralAndEscapes() {
        let c = AuthChallenge.parse(#"Basic realm="say \"hi\"", Bearer realm=https://x/t , service="s""#)
        #expect(c.count == 2)
        #expect(c[0] == AuthChallenge(scheme: "basic", parameters: ["realm": #"say "hi""#]))
        #expect(c[1] == AuthChallenge(scheme: "bearer", parameters: ["realm": "https://x/t", "service": "s"]))
    }

    @Test func emptyHeaderGivesNothing() {
        #expect(AuthChallenge.parse("").isEmpty)
    }
}

@Suite struct CredentialTests {
    @Test func readsDockerConfigAuths() throws {
        let config = #"""
        {"auths": {
            "https://index.docker.io/v1/": {"auth": "\#(Data("hub:hubpw".utf8).base64EncodedString())"},
            "127.0.0.1:5001": {"auth": "\#(Data("fnrt:with:colon".utf8).base64EncodedString())"},
            "registry.example": {"username": "u", "password": "p"},
            "empty.example": {}
        }}
        """#
        let parsed = try CredentialStore.parseDockerConfig(Data(config.utf8), path: "config.json")
        let store = CredentialStore(byRegistry: parsed)
        #expect(store.credentials(for: "docker.io") == Credentials(username: "hub", password: "hubpw"))
        #expect(store.credentials(for: "127.0.0.1:5001") == Credentials(username: "fnrt", password: "with:colon"))
        #expect(store.credentials(for: "registry.example") == Credentials(username: "u", password: "p"))
        #expect(store.credentials(for: "empty.example") == nil)
        #expect(store.credentials(for: "other.example") == nil)
        let explicit = CredentialStore(explicit: Credentials(username: "x", password: "y"), byRegistry: parsed)
        #expect(explicit.credentials(for: "registry.example") == Credentials(username: "x", password: "y"))
    }

    @Test func brokenConfigNamesTheFile() {
        #expect {
            try CredentialStore.parseDockerConfig(Data(#"{"auths":{"h":{"auth":"%%%"}}}"#.utf8), path: "/home/u/.docker/config.json")
        } throws: { "\($0)".contains("/home/u/.docker/config.json") && "\($0)".contains("auths[\"h\"]") }
    }

    @Test func missingConfigIsNoCredentials() throws {
        #expect(try CredentialStore.dockerConfig(environment: ["DOCKER_CONFIG": "/nonexistent-\(UUID())"]).isEmpty)
    }
}

@Suite struct EndpointTests {
    @Test(arguments: [
        ("localhost", true), ("localhost:5000", true), ("127.0.0.1:5000", true), ("127.9.8.7", true), ("[::1]:5000", true),
        ("registry.example", false), ("10.0.0.1:5000", false), ("127.0.0.1.example", false), ("[::2]", false),
    ])
    func loopback(host: String, expected: Bool) {
        #expect(RegistryClient.isLoopback(host) == expected)
    }

    @Test func schemes() {
        var options = RegistryClientOptions()
        options.insecureRegistries = ["plain.example:5000"]
        let client = RegistryClient(options: options)
        #expect(client.baseURL("127.0.0.1:5000") == "http://127.0.0.1:5000")
        #expect(client.baseURL("docker.io") == "https://registry-1.docker.io")
        #expect(client.baseURL("ghcr.io") == "https://ghcr.io")
        #expect(client.baseURL("plain.example:5000") == "http://plain.example:5000")
    }
}
