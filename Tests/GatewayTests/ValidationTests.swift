import Gateway
import HTTPTypes
import NIOCore
import Testing

let stock = #"{"type": "STOCK_RESPONSE_BACKEND", "status": 200, "body": "ok"}"#

/// One mistake, where it is reported, and what the message says.
struct SpecMistake: Sendable, CustomTestStringConvertible {
    var name: String
    var prefix = "/api"
    var specification: String
    var path: String
    var message: String

    var testDescription: String { name }
}

@Suite("Validation")
struct ValidationTests {
    @Test("five mistakes are reported together, each at its path")
    func everyProblemAtOnce() async throws {
        let gateway = Gateway(plugins: [FakeFunctionPlugin()])
        let spec = """
        {"requestPolicies": {"cors": {"allowedOrigins": ["https://ok.example", "example.com"]}},
         "routes": [
           {"path": "hello", "backend": \(stock)},
           {"path": "/a", "methods": ["FETCH"], "backend": \(stock)},
           {"path": "/b", "backend": {"type": "FOO"}},
           {"path": "/c", "backend": {"type": "ORACLE_FUNCTIONS_BACKEND", "functionId": "nope"}},
           {"path": "/fine", "backend": \(stock)}
         ]}
        """
        let error = await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(deploymentJSON(spec), id: "bad")
        }
        let paths = Set(error?.problems.map(\.path) ?? [])
        #expect(paths == [
            "specification.requestPolicies.cors.allowedOrigins[1]",
            "specification.routes[0].path",
            "specification.routes[1].methods[0]",
            "specification.routes[2].backend.type",
            "specification.routes[3].backend.functionId",
        ])
        #expect(error?.problems.count == 5)
        #expect(error?.problems.contains { $0.description == #"specification.routes[2].backend.type: unknown backend type "FOO" (known: DYNAMIC_ROUTING_BACKEND, HTTP_BACKEND, ORACLE_FUNCTIONS_BACKEND, STOCK_RESPONSE_BACKEND)"# } == true)
        #expect(error?.problems.contains { $0.description == "specification.routes[3].backend.functionId: no such function" } == true)
        #expect(gateway.deployments.isEmpty)
    }

    @Test(arguments: [
        SpecMistake(name: "prefix without a slash", prefix: "api", specification: #"{"routes": [{"path": "/", "backend": \#(stock)}]}"#,
                    path: "pathPrefix", message: "must start with \"/\""),
        SpecMistake(name: "prefix /", prefix: "/", specification: #"{"routes": [{"path": "/", "backend": \#(stock)}]}"#,
                    path: "pathPrefix", message: "must not be \"/\""),
        SpecMistake(name: "prefix with a trailing slash", prefix: "/api/", specification: #"{"routes": [{"path": "/", "backend": \#(stock)}]}"#,
                    path: "pathPrefix", message: "must not end with \"/\""),
        SpecMistake(name: "prefix shadowing a reserved one", prefix: "/v2/apps", specification: #"{"routes": [{"path": "/", "backend": \#(stock)}]}"#,
                    path: "pathPrefix", message: "would shadow /v2"),
        SpecMistake(name: "prefix above a reserved one", prefix: "/metrics", specification: #"{"routes": [{"path": "/", "backend": \#(stock)}]}"#,
                    path: "pathPrefix", message: "would shadow /metrics"),
        SpecMistake(name: "no routes", specification: #"{"routes": []}"#, path: "specification.routes", message: "at least one route"),
        SpecMistake(name: "wildcard not last", specification: #"{"routes": [{"path": "/a/{rest*}/b", "backend": \#(stock)}]}"#,
                    path: "specification.routes[0].path", message: "must be the last segment"),
        SpecMistake(name: "parameter twice", specification: #"{"routes": [{"path": "/a/{id}/b/{id}", "backend": \#(stock)}]}"#,
                    path: "specification.routes[0].path", message: "appears twice"),
        SpecMistake(name: "partial parameter", specification: #"{"routes": [{"path": "/a/{id}.json", "backend": \#(stock)}]}"#,
                    path: "specification.routes[0].path", message: "whole segment"),
        SpecMistake(name: "lowercase method", specification: #"{"routes": [{"path": "/a", "methods": ["get"], "backend": \#(stock)}]}"#,
                    path: "specification.routes[0].methods[0]", message: "is not one of"),
        SpecMistake(name: "routes that cannot be told apart",
                    specification: #"{"routes": [{"path": "/u/{id}", "methods": ["GET", "PUT"], "backend": \#(stock)}, {"path": "/u/{name}/", "methods": ["PUT"], "backend": \#(stock)}]}"#,
                    path: "specification.routes[1].path", message: "cannot be told apart from specification.routes[0] (same path, methods PUT)"),
        SpecMistake(name: "ANY overlaps every method",
                    specification: #"{"routes": [{"path": "/u", "methods": ["DELETE"], "backend": \#(stock)}, {"path": "/u", "methods": ["ANY"], "backend": \#(stock)}]}"#,
                    path: "specification.routes[1].path", message: "cannot be told apart"),
        SpecMistake(name: "no backend", specification: #"{"routes": [{"path": "/a"}]}"#,
                    path: "specification.routes[0].backend", message: "required"),
        SpecMistake(name: "wrong type", specification: #"{"routes": [{"path": "/a", "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": "200"}}]}"#,
                    path: "specification.routes[0].backend.status", message: "must be a number, not a string"),
        SpecMistake(name: "status out of range", specification: #"{"routes": [{"path": "/a", "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": 700}}]}"#,
                    path: "specification.routes[0].backend.status", message: "100 to 599"),
        SpecMistake(name: "https backend", specification: #"{"routes": [{"path": "/a", "backend": {"type": "HTTP_BACKEND", "url": "https://example.com/"}}]}"#,
                    path: "specification.routes[0].backend.url", message: "https backends are not supported"),
        SpecMistake(name: "HTTP timeout", specification: #"{"routes": [{"path": "/a", "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1/", "readTimeoutInSeconds": 0}}]}"#,
                    path: "specification.routes[0].backend.readTimeoutInSeconds", message: "more than 0"),
        SpecMistake(name: "url naming an unknown parameter", specification: #"{"routes": [{"path": "/a/{id}", "backend": {"type": "HTTP_BACKEND", "url": "http://127.0.0.1/${request.path[name]}"}}]}"#,
                    path: "specification.routes[0].backend.url", message: "no parameter {name}"),
        SpecMistake(name: "variable in the backend's host", specification: #"{"routes": [{"path": "/a", "backend": {"type": "HTTP_BACKEND", "url": "http://${request.headers[x]}/"}}]}"#,
                    path: "specification.routes[0].backend.url", message: "not in its host"),
        SpecMistake(name: "dynamic routing without selector",
                    specification: #"{"routes": [{"path": "/a", "backend": {"type": "DYNAMIC_ROUTING_BACKEND", "selectionSource": {"type": "SINGLE"}, "routingBackends": [{"key": {"type": "ANY_OF", "values": ["x"], "name": "x"}, "backend": \#(stock)}]}}]}"#,
                    path: "specification.routes[0].backend.selectionSource.selector", message: "required"),
        SpecMistake(name: "dynamic routing with a bad nested backend",
                    specification: #"{"routes": [{"path": "/a", "backend": {"type": "DYNAMIC_ROUTING_BACKEND", "selectionSource": {"type": "SINGLE", "selector": "request.query[v]"}, "routingBackends": [{"key": {"type": "ANY_OF", "values": ["x"], "name": "x"}, "backend": {"type": "STOCK_RESPONSE_BACKEND"}}]}}]}"#,
                    path: "specification.routes[0].backend.routingBackends[0].backend.status", message: "required"),
        SpecMistake(name: "two defaults",
                    specification: #"{"routes": [{"path": "/a", "backend": {"type": "DYNAMIC_ROUTING_BACKEND", "selectionSource": {"type": "SINGLE", "selector": "request.query[v]"}, "routingBackends": [{"key": {"type": "WILDCARD", "expression": "*", "name": "a", "isDefault": true}, "backend": \#(stock)}, {"key": {"type": "ANY_OF", "values": ["x"], "name": "b", "isDefault": true}, "backend": \#(stock)}]}}]}"#,
                    path: "specification.routes[0].backend.routingBackends[1].key.isDefault", message: "only one"),
        SpecMistake(name: "CORS origin with a path", specification: #"{"requestPolicies": {"cors": {"allowedOrigins": ["https://a.example/app"]}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.cors.allowedOrigins[0]", message: "is not an origin"),
        SpecMistake(name: "rate key", specification: #"{"requestPolicies": {"rateLimiting": {"rateInRequestsPerSecond": 5, "rateKey": "USER"}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.rateLimiting.rateKey", message: "must be one of CLIENT_IP, TOTAL"),
        SpecMistake(name: "mutual TLS", specification: #"{"requestPolicies": {"mutualTls": {"isVerifiedCertificateRequired": true}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.mutualTls", message: "not supported"),
        SpecMistake(name: "body limit", specification: #"{"requestPolicies": {"bodyLimit": {"maxBytes": 0}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.bodyLimit.maxBytes", message: "more than 0"),
        SpecMistake(name: "ANY_OF without authentication", specification: #"{"routes": [{"path": "/a", "backend": \#(stock), "requestPolicies": {"authorization": {"type": "ANY_OF", "allowedScope": ["x"]}}}]}"#,
                    path: "specification.routes[0].requestPolicies.authorization.type", message: "needs an authentication policy"),
        SpecMistake(name: "ANY_OF without scopes", specification: #"{"routes": [{"path": "/a", "backend": \#(stock), "requestPolicies": {"authorization": {"type": "ANY_OF"}}}]}"#,
                    path: "specification.routes[0].requestPolicies.authorization.allowedScope", message: "required"),
        SpecMistake(name: "JWT without issuers", specification: #"{"requestPolicies": {"authentication": {"type": "JWT_AUTHENTICATION", "tokenHeader": "Authorization", "tokenAuthScheme": "Bearer", "issuers": [], "audiences": ["a"], "publicKeys": {"type": "STATIC_KEYS", "keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.authentication.issuers", message: "at least one"),
        SpecMistake(name: "JWT key that does not parse", specification: #"{"requestPolicies": {"authentication": {"type": "JWT_AUTHENTICATION", "tokenQueryParam": "t", "issuers": ["i"], "audiences": ["a"], "publicKeys": {"type": "STATIC_KEYS", "keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.authentication.publicKeys.keys[0]", message: "not a usable JSON Web Key"),
        SpecMistake(name: "JWT remote keys", specification: #"{"requestPolicies": {"authentication": {"type": "JWT_AUTHENTICATION", "tokenQueryParam": "t", "issuers": ["i"], "audiences": ["a"], "publicKeys": {"type": "REMOTE_JWKS", "uri": "http://127.0.0.1/jwks"}}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.authentication.publicKeys.type", message: "REMOTE_JWKS is not supported"),
        SpecMistake(name: "JWT header without scheme", specification: #"{"requestPolicies": {"authentication": {"type": "JWT_AUTHENTICATION", "tokenHeader": "Authorization", "issuers": ["i"], "audiences": ["a"], "publicKeys": {"type": "STATIC_KEYS", "keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.authentication.tokenAuthScheme", message: "required with tokenHeader"),
        SpecMistake(name: "custom authentication without the function plugin", specification: #"{"requestPolicies": {"authentication": {"type": "CUSTOM_AUTHENTICATION", "functionId": "authz", "tokenHeader": "Authorization"}}, "routes": [{"path": "/a", "backend": \#(stock)}]}"#,
                    path: "specification.requestPolicies.authentication.type", message: "needs the ORACLE_FUNCTIONS_BACKEND plugin"),
        SpecMistake(name: "header transformation naming an unknown parameter", specification: #"{"routes": [{"path": "/a/{id}", "backend": \#(stock), "requestPolicies": {"headerTransformations": {"setHeaders": {"items": [{"name": "X-Id", "values": ["${request.path[nope]}"]}]}}}}]}"#,
                    path: "specification.routes[0].requestPolicies.headerTransformations.setHeaders.items[0].values[0]", message: "no parameter {nope}"),
        SpecMistake(name: "unknown context table", specification: #"{"routes": [{"path": "/a", "backend": \#(stock), "responsePolicies": {"headerTransformations": {"setHeaders": {"items": [{"name": "X-A", "values": ["${request.cookies[a]}"]}]}}}}]}"#,
                    path: "specification.routes[0].responsePolicies.headerTransformations.setHeaders.items[0].values[0]", message: "unknown context table"),
        SpecMistake(name: "filter type", specification: #"{"routes": [{"path": "/a", "backend": \#(stock), "requestPolicies": {"queryParameterTransformations": {"filterQueryParameters": {"type": "DROP", "items": [{"name": "a"}]}}}}]}"#,
                    path: "specification.routes[0].requestPolicies.queryParameterTransformations.filterQueryParameters.type", message: "BLOCK, ALLOW"),
    ])
    func mistake(_ mistake: SpecMistake) async throws {
        let gateway = Gateway(reservedPrefixes: ["/v2", "/invoke", "/t", "/metrics/prometheus", "/health"])
        let error = await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(deploymentJSON(prefix: mistake.prefix, mistake.specification), id: "bad")
        }
        let problems = error?.problems ?? []
        #expect(problems.contains { $0.path == mistake.path && $0.message.contains(mistake.message) },
                "got: \(problems.map(\.description))")
    }

    @Test("a broken envelope is reported with the specification's own problems")
    func envelopeAndSpecification() async throws {
        let gateway = Gateway()
        let error = await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(Array(#"{"pathPrefix": 5, "specification": {"routes": [{"path": "x", "backend": \#(stock)}]}}"#.utf8), id: "x")
        }
        #expect(error?.problems.map(\.path) == ["pathPrefix", "specification.routes[0].path"])
    }

    @Test("a bad spec does not replace the one being served")
    func badSpecKeepsGoodOne() async throws {
        let gateway = try await makeGateway(#"{"routes": [{"path": "/hello", "backend": \#(stock)}]}"#)
        await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(deploymentJSON(#"{"routes": [{"path": "hello", "backend": \#(stock)}]}"#), id: "test")
        }
        await #expect(throws: SpecValidationError.self) {
            try await gateway.deploy(Array("{not json".utf8), id: "test")
        }
        let response = try await gateway.send(request(.get, "/api/hello"))
        #expect(response.status == .ok)
        #expect(response.text == "ok")
    }

    @Test("requests in flight finish on the deployment they started with")
    func inFlightKeepsOldSnapshot() async throws {
        let gateway = try await makeGateway(#"{"routes": [{"path": "/slow", "backend": {"type": "TEST_SLOW", "body": "old"}}]}"#,
                                            plugins: [SlowPlugin()])
        async let old = gateway.send(request(.get, "/api/slow"))
        try await Task.sleep(for: .milliseconds(50))
        try await gateway.deploy(deploymentJSON(#"{"routes": [{"path": "/slow", "backend": {"type": "STOCK_RESPONSE_BACKEND", "status": 200, "body": "new"}}]}"#), id: "test")
        #expect(try await gateway.send(request(.get, "/api/slow")).text == "new")
        #expect(try await old.text == "old")
    }

    @Test("validate checks without serving")
    func validateOnly() async throws {
        let gateway = Gateway()
        let good = try Deployment(json: deploymentJSON(#"{"routes": [{"path": "/a", "backend": \#(stock)}]}"#))
        try await gateway.validate(good)
        #expect(gateway.deployments.isEmpty)
        #expect(await gateway.handle(request(.get, "/api/a")) == nil)
    }

    @Test("unknown fields are ignored")
    func unknownFields() async throws {
        let gateway = try await makeGateway("""
        {"loggingPolicies": {"accessLog": {"isEnabled": true}}, "requestPolicies": {"usagePlans": {"tokenLocations": ["request.headers[k]"]}},
         "routes": [{"path": "/a", "backend": \(stock), "requestPolicies": {"bodyValidation": {"required": true}}, "somethingNew": 1}]}
        """)
        #expect(try await gateway.send(request(.get, "/api/a")).status == .ok)
    }
}

/// `TEST_SLOW`: answers its `body` after 300 ms.
struct SlowPlugin: BackendPlugin {
    let type = "TEST_SLOW"

    func makeBackend(_ backend: JSONValue, path: String) async throws -> any GatewayBackend {
        SlowBackend(body: backend["body"]?.stringValue ?? "")
    }
}

struct SlowBackend: GatewayBackend {
    let body: String

    func respond(to request: GatewayRequest) async -> GatewayResponse {
        try? await Task.sleep(for: .milliseconds(300))
        return GatewayResponse(status: .ok, body: .init(string: body))
    }
}
