// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "evalh",
  // Linux only (pipe2, pidfd_open, copy_file_range; README, "Layout and design notes"): no Apple platform.
  products: [
    .executable(name: "evalh", targets: ["evalh"]),
    .executable(name: "example-agent", targets: ["example-agent"]),
    .executable(name: "evalh-bench", targets: ["evalh-bench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
  ],
  targets: [
    // Tiny C helpers Swift cannot call directly (variadic syscall for pidfd_open).
    .target(name: "CEvalhSys"),
    // Suite model, graders, metrics, statistics: pure, no process or database.
    .target(
      name: "EvalhCore",
      dependencies: [
        "CEvalhSys", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
      ]),
    // The SQLite results database.
    .target(
      name: "EvalhStore",
      dependencies: [
        "EvalhCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ]),
    // Agent adapters and the child-process runner.
    .target(
      name: "EvalhAgents",
      dependencies: [
        "EvalhCore", "CEvalhSys", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    // A scripted HTTP/1.1 server on loopback: the example agent's `serve` mode, tests, benchmarks.
    .target(
      name: "LoopbackHTTP",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    // The tools evalh serves per trial: the call path, MCP and plain JSON over one loopback server.
    .target(
      name: "EvalhTools",
      dependencies: [
        "EvalhCore", "EvalhAgents", "CEvalhSys", .product(name: "MCP", package: "swift-sdk"),
        .product(name: "SystemPackage", package: "swift-system"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    // Scheduling trials: concurrency, grading, commits, resume, signals, progress.
    .target(name: "EvalhRunner", dependencies: ["EvalhCore", "EvalhStore", "EvalhAgents", "EvalhTools", "CEvalhSys"]),
    // A trial as an OTLP trace, and its sending to a receiver.
    .target(
      name: "EvalhTraces",
      dependencies: [
        "EvalhCore", .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]),
    // Renderers: pure functions from a report model to text.
    .target(
      name: "EvalhReports",
      dependencies: ["EvalhCore", "EvalhStore", "CEvalhSys", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
    .executableTarget(
      name: "evalh",
      dependencies: [
        "EvalhCore", "EvalhStore", "EvalhAgents", "EvalhRunner", "EvalhReports", "EvalhTools", "EvalhTraces",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The bundled, deterministic example agent used by `make run`.
    .executableTarget(
      name: "example-agent",
      dependencies: [
        "LoopbackHTTP", .product(name: "NIOCore", package: "swift-nio"), .product(name: "MCP", package: "swift-sdk"),
      ]),
    // `make bench`: evalh's speed against floors measured in the same run.
    .executableTarget(
      name: "evalh-bench",
      dependencies: [
        "EvalhCore", "EvalhStore", "EvalhTools", "LoopbackHTTP", "CEvalhSys",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]),
    .testTarget(name: "EvalhCoreTests", dependencies: ["EvalhCore"], exclude: ["Fixtures"]),
    .testTarget(name: "EvalhStoreTests", dependencies: ["EvalhStore", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(name: "EvalhAgentsTests", dependencies: ["EvalhAgents", "LoopbackHTTP"]),
    .testTarget(
      name: "EvalhToolsTests",
      dependencies: ["EvalhTools", "EvalhCore", .product(name: "MCP", package: "swift-sdk")]),
    .testTarget(
      name: "EvalhRunnerTests",
      dependencies: ["EvalhRunner", "EvalhStore", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "EvalhReportsTests", dependencies: ["EvalhReports", "EvalhCore", "EvalhStore"], exclude: ["Golden"]),
    .testTarget(
      name: "EvalhCLITests",
      dependencies: [
        "EvalhCore", "EvalhStore", "evalh", "example-agent", "LoopbackHTTP",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Yams", package: "Yams"),
      ]),
  ]
)
