// swift-tools-version:6.0
import PackageDescription

// Module map follows the data's path: wire → coordinator/worker → engine/verifiers.
// Arrows point one way: the engine knows nothing of ZeroMQ; the coordinator knows
// nothing of tensors; specialists reach models only through the worker's backends.
let package = Package(
    name: "Shoal",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shoal", targets: ["shoal"]),
        .executable(name: "shoal-fuzz", targets: ["ShoalFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // System libraries (Debian -dev packages).
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CShoalSys"),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // GGUF quantized-block kernels (dequantize, 8-bit-activation dot products, a spinning thread
        // pool): C with AVX2 chosen at run time and a portable fallback. Optimised in debug builds
        // too, so `make test` runs real models at usable speed.
        .target(name: "CShoalQuant", cSettings: [.unsafeFlags(["-O3"])]),

        // Messaging.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        // Optimised in debug builds too: its SHA-256 hashes model files (hundreds of MB for a GGUF
        // model) on the coordinator's loop and in workers, which unoptimised takes ~15 s per 100 MB.
        .target(name: "CShoalHash", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "ShoalWire", dependencies: [
            "ZeroMQ", "CShoalHash",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], exclude: ["shoal.proto"], swiftSettings: [.unsafeFlags(["-O"])]),

        // JSON: a value that keeps ints and floats apart, its parser and writer, ordered text for prompts,
        // the one string escaper and the one Codable encoder.
        .target(name: "ShoalJSON"),

        // Configuration files: agents/*.yaml, topology/*.yaml.
        .target(name: "ShoalConfig", dependencies: [.product(name: "Yams", package: "Yams")]),

        // Cluster processes.
        .target(name: "ShoalCoordinator", dependencies: ["ShoalJSON", 
            "ShoalWire", "ShoalConfig", "ShoalVerifiers", "ZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf"), .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "ShoalWorker", dependencies: ["ShoalJSON", 
            "ShoalWire", "ZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf"), "ShoalConfig", "ShoalEngine", "ShoalRetrieval", "ShoalVerifiers", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ShoalClient", dependencies: ["ShoalWire", "ZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // Models: tensors, ops, decoders, tokenizers, safetensors, generation. Knows nothing of ZeroMQ.
        .target(name: "ShoalEngine", dependencies: ["ShoalJSON", "COpenBLAS", "CShoalQuant"]),

        // Retrieval: a persisted document index (MiniLM dense via BLAS, BM25, hybrid RRF).
        .target(name: "ShoalRetrieval", dependencies: ["ShoalJSON", "ShoalEngine", "ShoalVerifiers", "COpenBLAS"]),

        // Rewards: verifiers (math, code in a sandbox, tool calls, retrieval) and the reward module.
        .target(name: "ShoalVerifiers", dependencies: ["ShoalJSON"]),

        // Training: backward pass, optimisers, LoRA, checkpoints, SFT, seeded synthetic task generators.
        .target(name: "ShoalTraining", dependencies: ["ShoalJSON", "ShoalEngine", "ShoalVerifiers", "COpenBLAS"]),


        // RL: GRPO (advantages, objective, staleness, guardrails, experience export), the learner and its cluster loop.
        .target(name: "ShoalRL", dependencies: ["ShoalJSON", "ShoalTraining", "ShoalEngine", "ShoalVerifiers", "ShoalClient", "ShoalWire", "ShoalConfig", .product(name: "Yams", package: "Yams")]),

        // Local clusters: child processes and supervision (`shoal up`).
        .target(name: "ShoalCluster", dependencies: [
            "ShoalClient", "ShoalConfig", "ShoalCoordinator", "ShoalWire", "CShoalSys",
        ]),

        // Measurements (`shoal bench …`): each prints Shoal beside its baseline from the same run
        // (zmq_proxy, PyTorch, llama.cpp, sentence-transformers), one report per bench.
        .target(name: "ShoalBench", dependencies: [
            "ShoalCluster", "ShoalClient", "ShoalCoordinator", "ShoalEngine", "ShoalRetrieval", "ShoalTraining", "ShoalVerifiers",
            "ShoalJSON", "ShoalWire", "ZeroMQ",
        ]),

        // Traces: finished spans sent to an OpenTelemetry collector (OTLP/HTTP, JSON), when one is configured.
        .target(name: "ShoalTracing", dependencies: ["ShoalWire", .product(name: "Logging", package: "swift-log")]),

        // The front door (`shoal gateway`): OpenAI's HTTP API over Hummingbird, a client of the coordinator.
        .target(name: "ShoalGateway", dependencies: [
            "ShoalClient", "ShoalConfig", "ShoalJSON", "ShoalWire", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The tour (`shoal demo`, `make demo`): every part of Shoal on a local cluster.
        .target(name: "ShoalDemo", dependencies: ["ShoalJSON", 
            "ShoalCluster", "ShoalBench", "ShoalClient", "ShoalConfig", "ShoalCoordinator", "ShoalWire", "ShoalVerifiers", "ShoalEngine", "ShoalTraining", "ShoalRL", "ZeroMQ",
        ]),

        // The CLI: argument parsing only.
        .executableTarget(name: "shoal", dependencies: ["ShoalJSON", 
            "ShoalWire", "ShoalCoordinator", "ShoalWorker", "ShoalClient", "ShoalConfig", "ShoalCluster", "ShoalDemo", "ShoalBench", "ShoalGateway", "ShoalTracing", "ShoalEngine", "ShoalVerifiers", "ShoalRetrieval", "ShoalTraining", "ShoalRL",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),

        // Fuzz targets (MDP frames, protobuf bodies, task specs, GGUF and safetensors headers): a
        // replay tool in a normal build, libFuzzer's in `make fuzz` (-sanitize=fuzzer -DSHOAL_FUZZ).
        .executableTarget(name: "ShoalFuzz", dependencies: [
            "ShoalConfig", "ShoalEngine", "ShoalWire", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),

        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "ShoalWireTests", dependencies: ["ShoalWire", "ShoalEngine", "ZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "ShoalConfigTests", dependencies: ["ShoalConfig"]),
        .testTarget(name: "ShoalCoordinatorTests", dependencies: ["ShoalCoordinator", "ShoalConfig", "ShoalWire", "CShoalHash", "ZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "ShoalWorkerTests", dependencies: ["ShoalWorker", "ShoalConfig", "ShoalEngine", "ShoalWire", "ZeroMQ"]),
        .testTarget(name: "ShoalEngineTests", dependencies: ["ShoalEngine", "CShoalQuant"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ShoalVerifiersTests", dependencies: ["ShoalJSON", "ShoalVerifiers"]),
        .testTarget(name: "ShoalTrainingTests", dependencies: ["ShoalJSON", "ShoalTraining", "ShoalEngine", "ShoalVerifiers"]),
        .testTarget(name: "ShoalRetrievalTests", dependencies: ["ShoalJSON", "ShoalRetrieval", "ShoalWorker", "ShoalEngine", "ShoalVerifiers"]),
        .testTarget(name: "ShoalGatewayTests", dependencies: ["ShoalGateway", "ShoalWire"]),
        .testTarget(name: "ShoalTracingTests", dependencies: ["ShoalTracing", "ShoalWire"]),
        .testTarget(name: "ShoalBenchTests", dependencies: ["ShoalBench", "ShoalEngine", "ShoalRetrieval", "ShoalVerifiers"]),
        .testTarget(name: "ShoalRLTests", dependencies: ["ShoalRL", "ShoalTraining", "ShoalEngine", "ShoalVerifiers", "ShoalClient", "ShoalWire"]),
        .testTarget(name: "ClusterTests", dependencies: ["ShoalJSON", "ShoalBench", "ShoalClient", "ShoalCluster", "ShoalConfig", "ShoalCoordinator", "ShoalWire", "ZeroMQ", "ShoalRL", "ShoalTraining", "ShoalEngine", "ShoalVerifiers",
                                                     .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
