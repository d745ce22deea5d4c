// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels come from Debian's libdnnl-dev (oneDNN); images from libpng/libjpeg; the UI from ncursesw;
// sessions from SQLite through GRDB. See docs/architecture.md for how the modules fit together.
// The engine's loops are compiled without overflow and bounds checks (-Ounchecked), except when
// tools/sanitize.sh builds with ABN_CHECKED=1: there those checks are Swift's undefined-behaviour sanitizer.
let engineSettings: [SwiftSetting] = ProcessInfo.processInfo.environment["ABN_CHECKED"] == "1"
    ? [] : [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "abn-hitl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "abn-hitl", targets: ["abn-hitl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C shims: each owns one system library and exposes what Swift cannot import directly.
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        .target(name: "CImageIO", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "CTerminal", linkerSettings: [.linkedLibrary("ncursesw")]),

        .target(name: "ABN", dependencies: ["CDNNL"], swiftSettings: engineSettings),
        .target(name: "ABNData", dependencies: ["CImageIO"]),
        .target(name: "HITL", dependencies: ["ABN", "ABNData", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "ReviewUI", dependencies: ["HITL", "CTerminal"]),
        .executableTarget(name: "abn-hitl", dependencies: [
            "ABN", "ABNData", "HITL", "ReviewUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Hosts the real review UI over an in-memory backend for the tmux tests (TerminalTmuxTests).
        .executableTarget(name: "review-ui-test-host", dependencies: ["ReviewUI", "HITL"]),

        .testTarget(name: "ABNTests", dependencies: ["ABN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ABNDataTests", dependencies: ["ABNData"]),
        .testTarget(name: "HITLTests", dependencies: ["HITL"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ReviewUITests", dependencies: ["ReviewUI"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ABN", "ABNData", "HITL"]),
    ],
    swiftLanguageModes: [.v5]
)
