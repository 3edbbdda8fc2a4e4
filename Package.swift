// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode with complete strict
/// concurrency, plus the upcoming features the house style asks for.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mediad",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mediad", targets: ["mediad"]),
        .executable(name: "mediad-native", targets: ["mediad-native"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // MARK: Native libraries: one system-library target each, found through pkg-config.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CExif", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavfilter-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]
        ),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        // What Swift cannot call directly (variadic functions, function-like macros): one C
        // target per library, linking only that library, so a module that imports one shim
        // target (Kafka, Video) does not pull the other libraries in.
        .target(name: "CVipsShims", dependencies: ["CVips"], linkerSettings: ["vips", "gobject-2.0", "glib-2.0"].map { .linkedLibrary($0) }),
        .target(name: "CExifShims", dependencies: ["CExif"], linkerSettings: [.linkedLibrary("exif")]),
        .target(name: "CFFmpegShims", dependencies: ["CFFmpeg"], linkerSettings: ["avformat", "avutil"].map { .linkedLibrary($0) }),
        .target(name: "CRdKafkaShims", dependencies: ["CRdKafka"], linkerSettings: [.linkedLibrary("rdkafka")]),
        .target(name: "CRabbitMQShims", dependencies: ["CRabbitMQ"], linkerSettings: [.linkedLibrary("rabbitmq")]),

        // Process control Swift cannot call directly (prctl is variadic), and a spawn that
        // hands a worker exactly the descriptors it needs.
        .target(name: "CProcessShims"),
        .target(name: "CFileShims"),

        // MARK: mediad modules, by concern.
        .target(
            name: "PipelineEngine",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Workers",
            dependencies: ["CProcessShims", "PipelineEngine", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Imaging",
            dependencies: ["CVips", "CVipsShims", "CExif", "CExifShims", "PipelineEngine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Video",
            dependencies: ["CFFmpeg", "CFFmpegShims", "PipelineEngine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ObjectStorage",
            dependencies: [
                "CFileShims",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka", "CRdKafkaShims",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "CRabbitMQShims",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Events",
            dependencies: ["PipelineEngine", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MediaProcessing",
            dependencies: ["PipelineEngine", "ObjectStorage", "Workers", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The native stages: linked into `mediad-native` (the binary workers run), never into `mediad`.
        .target(
            name: "NativeStages",
            dependencies: ["MediaProcessing", "Imaging", "Video", "PipelineEngine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "MediaProcessing", "ObjectStorage", "Events", "Kafka", "AMQP", "PipelineEngine", "Workers",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Backfill",
            dependencies: [
                "MediaProcessing", "ObjectStorage", "Events", "Kafka", "AMQP", "PipelineEngine",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MediadCLI",
            dependencies: [
                "MediaProcessing", "ObjectStorage", "Daemon", "Backfill", "Kafka", "AMQP", "Events", "Workers", "PipelineEngine",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "mediad", dependencies: ["MediadCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "mediad-native", dependencies: ["MediadCLI", "MediaProcessing", "NativeStages"], swiftSettings: swiftSettings),

        // MARK: Tests.
        .target(
            name: "MediadTestSupport",
            dependencies: ["Kafka", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PipelineEngineTests", dependencies: ["PipelineEngine", "MediadTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", "PipelineEngine", "MediaProcessing", "NativeStages", "MediadTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VideoTests",
            dependencies: ["Video", "PipelineEngine", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "MediadTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "MediadTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AMQP", "MediadTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventsTests",
            dependencies: ["Events", "PipelineEngine", "MediadTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Events", "MediaProcessing", "NativeStages", "ObjectStorage", "PipelineEngine", "Kafka", "AMQP", "MediadTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackfillTests",
            dependencies: [
                "Backfill", "Daemon", "Events", "MediaProcessing", "ObjectStorage", "PipelineEngine", "Kafka", "AMQP", "MediadTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeploymentTests",
            dependencies: ["Daemon", "AMQP", "MediadTestSupport", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IsolationTests",
            dependencies: ["MediaProcessing", "Workers", "PipelineEngine", "MediadTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MediaProcessingTests",
            dependencies: ["MediaProcessing", "MediadCLI", "Events", "MediadTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
