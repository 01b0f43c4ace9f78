// swift-tools-version:6.2
// A researcher's own package: a monitor of its own, built on ThirdGen's
// products and their public API only. ThirdGen's tests build and run it
// (ExternalPackageTests), and the DocC article "Write your own monitor"
// shows its code, so neither can rot.
import PackageDescription

let package = Package(
    name: "OwnMonitor",
    platforms: [.macOS(.v13)],
    dependencies: [
        // In your own package: .package(url: "<your ThirdGen clone>", branch: "main").
        .package(name: "ThirdGen", path: "../../.."),
    ],
    targets: [
        .target(name: "SamplingMonitor", dependencies: [
            .product(name: "Machine", package: "ThirdGen"),
            .product(name: "TrapVMM", package: "ThirdGen"),
        ]),
        .executableTarget(name: "own-monitor", dependencies: [
            "SamplingMonitor",
            .product(name: "Machine", package: "ThirdGen"),
            .product(name: "Experiments", package: "ThirdGen"),
            .product(name: "Guests", package: "ThirdGen"),
        ]),
        // The code examples of the modules' DocC landing pages, verbatim, compiled and run.
        .executableTarget(name: "doc-examples", dependencies: [
            .product(name: "Machine", package: "ThirdGen"),
            .product(name: "TrapVMM", package: "ThirdGen"),
            .product(name: "HybridVMM", package: "ThirdGen"),
            .product(name: "HardwareVMM", package: "ThirdGen"),
            .product(name: "Classifier", package: "ThirdGen"),
            .product(name: "Experiments", package: "ThirdGen"),
            .product(name: "Guests", package: "ThirdGen"),
        ]),
    ]
)
