// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "fnrt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fnrt", targets: ["fnrt"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "ImageStore", targets: ["ImageStore"]),
        // The runtime as another Swift gateway's function backend (README: "The runtime as a backend plugin").
        .library(name: "Docker", targets: ["Docker"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "FunctionBackend", targets: ["FunctionBackend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C shims over the two chosen C libraries.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CArchive", linkerSettings: [.linkedLibrary("archive")]),
        .target(name: "CLinux"),

        .target(name: "OCI", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // HTTP/1.1 over libcurl (TCP or a Unix socket): the registry's and Docker's transport.
        .target(name: "CurlHTTP", dependencies: ["CCurl"]),
        .target(name: "Registry", dependencies: [
            "OCI", "CurlHTTP",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Docker", dependencies: ["CurlHTTP"]),
        .target(name: "ImageStore", dependencies: [
            "OCI", "Registry", "CArchive",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Keep-alive policy simulation and idle-timeout recommendations (fnrt tune).
        .target(name: "Tuning"),
        // The Swift FDK: Fn's function contract with nothing but the C library.
        .target(name: "FDK"),
        // Sample functions, used by the tests, the demo and the benchmarks.
        .executableTarget(name: "hello", dependencies: ["FDK"], path: "Sources/Functions/hello"),
        .executableTarget(name: "echo", dependencies: ["FDK"], path: "Sources/Functions/echo"),
        .executableTarget(name: "sleep", dependencies: ["FDK"], path: "Sources/Functions/sleep"),
        .executableTarget(name: "fail", dependencies: ["FDK"], path: "Sources/Functions/fail"),
        .executableTarget(name: "crash", dependencies: ["FDK"], path: "Sources/Functions/crash"),
        .executableTarget(name: "slowstart", dependencies: ["FDK"], path: "Sources/Functions/slowstart"),
        .executableTarget(name: "neverlisten", path: "Sources/Functions/neverlisten"),
        .executableTarget(name: "probe", dependencies: ["FDK"], path: "Sources/Functions/probe"),
        .target(name: "Runtime", dependencies: [
            "OCI", "ImageStore", "Docker", "CArchive", "CLinux", "Tuning", "HTTP1Wire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // The warm path's hand-written HTTP/1.1: request heads read from bytes, responses read from bytes.
        .target(name: "HTTP1Wire", dependencies: [
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // JSON Web Tokens: JWKs, RS256/ES256 signatures, registered claims (the gateway's JWT authentication).
        .target(name: "JWT", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // OCI API Gateway deployment specs: validation, router, policies, backend plugins.
        .target(name: "Gateway", dependencies: [
            "JWT",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Fn's v2 management API (apps, functions, triggers) over a SQLite store (GRDB).
        .target(name: "Management", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The runtime as the gateway's function backend plugin (ORACLE_FUNCTIONS_BACKEND).
        .target(name: "FunctionBackend", dependencies: [
            "Gateway", "Runtime", "HTTP1Wire",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // fnrt serve: one Hummingbird server for the gateway, Fn's API, /invoke, /t and /metrics.
        .target(name: "Server", dependencies: [
            "Gateway", "FunctionBackend", "Management", "Runtime", "ImageStore", "Registry", "OCI", "Docker", "Tuning", "HTTP1Wire",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmarks that need the library directly (Scripts/bench/warm).
        .executableTarget(name: "fnrt-bench-warm", dependencies: [
            "ImageStore", "Runtime", "Docker", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Sources/Benchmarks/warm"),
        .executableTarget(name: "fnrt-bench-scale", dependencies: [
            "ImageStore", "Runtime", "Docker", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Sources/Benchmarks/scale"),
        .executableTarget(name: "fnrt", dependencies: [
            "OCI", "Registry", "ImageStore", "Docker", "Runtime", "Tuning", "Server", "CurlHTTP", "HTTP1Wire",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Builders of test layers and images, and the tests' scratch directories, shared by the test targets.
        .target(name: "TestSupport", dependencies: ["ImageStore", "OCI", "CArchive", "Runtime"], path: "Tests/TestSupport"),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning", "TestSupport"]),
        .testTarget(name: "HTTP1WireTests", dependencies: ["HTTP1Wire", "Runtime", .product(name: "HTTPTypes", package: "swift-http-types"),
                                                           .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "JWTTests", dependencies: ["JWT", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "JWT", .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ManagementTests", dependencies: ["Management", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "CurlHTTP", "OCI", "TestSupport"]),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "OCI", "TestSupport", "CArchive"]),
        .testTarget(name: "IntegrationTests", dependencies: ["ImageStore", "Registry", "OCI", "TestSupport", "Docker", "Runtime", "fnrt", "Server", "JWT", "CurlHTTP", "Tuning",
                                   .product(name: "Crypto", package: "swift-crypto"),
                                   "hello", "echo", "sleep", "fail", "crash", "slowstart", "neverlisten", "probe",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "MetricsTestKit", package: "swift-metrics")],
                    exclude: ["cut-proxy.py"]),
    ],
    swiftLanguageModes: [.v6]
)
