// swift-tools-version:6.1
// ThirdGen's tracked benchmarks (ordo-one/benchmark): a package of its own,
// so the main build and `swift test` never build package-benchmark.
//
//     cd Benchmarks
//     swift package benchmark                                   # run them all
//     swift package --allow-writing-to-package-directory benchmark baseline update main
//     swift package benchmark baseline compare main             # after a change: flags regressions
import PackageDescription

let package = Package(
    name: "ThirdGenBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ThirdGen", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Every engine on a compute guest and on a trap-heavy one, translation cost, a monitor round trip.
        .executableTarget(
            name: "Engines",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Machine", package: "ThirdGen"),
                .product(name: "Experiments", package: "ThirdGen"),
                .product(name: "Guests", package: "ThirdGen"),
            ],
            path: "Benchmarks/Engines",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
