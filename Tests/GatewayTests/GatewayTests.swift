import Foundation
import Gateway
import HTTPTypes
import Testing

@Suite("Gateway")
struct GatewayTests {
    static func named(_ name: String) -> String {
        #"{"routes": [{"path": "/{rest*}", "backend": {"type": "TEST_ECHO", "name": "\#(name)"}}]}"#
    }

    @Test("the longest prefix wins, on segment boundaries; no match is nil")
    func prefixes() async throws {
        let gateway = Gateway(plugins: [EchoPlugin()])
        try await gateway.deploy(deploymentJSON(prefix: "/api", Self.named("api")), id: "api")
        try await gateway.deploy(deploymentJSON(prefix: "/api/v2", Self.named("v2")), id: "v2")
        #expect(try await gateway.send(request(.get, "/api/x")).echo?.name == "api")
        #expect(try await gateway.send(request(.get, "/api/v2/x")).echo?.name == "v2")
        #expect(try await gateway.send(request(.get, "/api/v2")).echo?.routePath == "/")
        #expect(try await gateway.send(request(.get, "/api/v20")).echo?.name == "api")
        #expect(await gateway.handle(request(.get, "/apix")) == nil)
        #expect(await gateway.handle(request(.get, "/")) == nil)
        #expect(gateway.deployments.map(\.pathPrefix) == ["/api", "/api/v2"])
        #expect(gateway.deployments.first?.displayName == "test")

        #expect(gateway.remove(id: "v2"))
        #expect(!gateway.remove(id: "v2"))
        #expect(try await gateway.send(request(.get, "/api/v2/x")).echo?.name == "api")
    }

    @Test("two deployments cannot share a prefix; redeploying one moves it")
    func prefixOwnership() async throws {
        let gateway = Gateway(plugins: [EchoPlugin()])
        try await gateway.deploy(deploymentJSON(prefix: "/shop", Self.named("one")), id: "one")
        let error = await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(deploymentJSON(prefix: "/shop", Self.named("two")), id: "two")
        }
        #expect(error?.problems.first?.path == "pathPrefix")
        try await gateway.deploy(deploymentJSON(prefix: "/store", Self.named("one-moved")), id: "one")
        #expect(await gateway.handle(request(.get, "/shop/x")) == nil)
        #expect(try await gateway.send(request(.get, "/store/x")).echo?.name == "one-moved")
        try await gateway.deploy(deploymentJSON(prefix: "/shop", Self.named("two")), id: "two")
        #expect(try await gateway.send(request(.get, "/shop/x")).echo?.name == "two")
    }

    @Test("loading a directory deploys the good files and reports every bad one")
    func loadDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fnrt-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: directory.appendingPathComponent(name)) }
        try write("marketing.json", deploymentJSON(prefix: "/marketing", Self.named("marketing")))
        try write("broken.json", deploymentJSON(prefix: "/broken/", #"{"routes": [{"path": "x", "backend": {"type": "TEST_ECHO"}}]}"#))
        try write("garbage.json", Array("{\"pathPrefix\": ".utf8))
        try write("notes.txt", Array("not a deployment".utf8))

        let gateway = Gateway(plugins: [EchoPlugin()])
        let failures = await gateway.loadDirectory(directory.path)
        #expect(failures.map { URL(fileURLWithPath: $0.file).lastPathComponent } == ["broken.json", "garbage.json"])
        #expect(failures.first?.error.problems.map(\.path) == ["pathPrefix", "specification.routes[0].path"])
        #expect(failures.last?.error.problems.first?.message.hasPrefix("not valid JSON") == true)
        #expect(gateway.deployments.map(\.id) == ["marketing"])
        #expect(try await gateway.send(request(.get, "/marketing/hello/")).echo?.name == "marketing")
    }

    @Test("concurrent requests and redeploys")
    func concurrency() async throws {
        let gateway = Gateway(plugins: [EchoPlugin()])
        try await gateway.deploy(deploymentJSON(Self.named("v0")), id: "api")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for version in 1...20 { try await gateway.deploy(deploymentJSON(Self.named("v\(version)")), id: "api") }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<100 {
                        let name = try await gateway.send(request(.get, "/api/x")).echo?.name ?? ""
                        #expect(name.hasPrefix("v"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await gateway.send(request(.get, "/api/x")).echo?.name == "v20")
    }
}
