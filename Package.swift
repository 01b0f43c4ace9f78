// swift-tools-version:6.2
// ThirdGen: Popek and Goldberg's virtual machine monitors, made runnable on PG32.
//
// Dependencies point one way (../shared/STYLE.md): Machine knows nothing of
// monitors; TrapVMM, HybridVMM and Translator build on Machine; the command
// line (ThirdGenCLI, with the thin `bench` executable) depends on all of them.
import PackageDescription

/// Warnings are errors in every target of ours (not in dependencies), without
/// `unsafeFlags`, so other packages can still depend on this one.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "ThirdGen",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bench", targets: ["bench"]),
        .library(name: "Machine", targets: ["Machine"]),
        .library(name: "TrapVMM", targets: ["TrapVMM"]),
        .library(name: "HybridVMM", targets: ["HybridVMM"]),
        .library(name: "HardwareVMM", targets: ["HardwareVMM"]),
        .library(name: "Translator", targets: ["Translator"]),
        .library(name: "Classifier", targets: ["Classifier"]),
        .library(name: "Experiments", targets: ["Experiments"]),
        .library(name: "Guests", targets: ["Guests"]),
        .library(name: "ThirdGenCLI", targets: ["ThirdGenCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation`: the DocC catalogs under each module (README, "Documentation").
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The PG32 machine: state, instruction table, decoder, reference interpreter.
        .target(name: "Machine", dependencies: ["CodeMemorySupport"], swiftSettings: strict),
        // The instruction set described once, and the generator that writes Machine's
        // Opcode, instruction table, SystemInstruction and decoder from it
        // (`swift run generate-instruction-set`). Depends on nothing, so it builds
        // while a new row has Machine waiting for the generated file.
        .target(name: "InstructionSetGenerator", swiftSettings: strict),
        .executableTarget(name: "generate-instruction-set", dependencies: ["InstructionSetGenerator"],
                          swiftSettings: strict),
        // The classic control program: dispatcher, allocator, interpreter routines.
        .target(name: "TrapVMM", dependencies: ["Machine"], swiftSettings: strict),
        // Theorem 3's monitor: interprets virtual supervisor mode.
        .target(name: "HybridVMM", dependencies: ["Machine", "TrapVMM"], swiftSettings: strict),
        // The hardware-assisted monitor (strategy hw): the control program on VX, SPEC section 11.
        .target(name: "HardwareVMM", dependencies: ["Machine", "TrapVMM"], swiftSettings: strict),
        // Block-caching binary translation: the portable backend and the x86-64 JIT.
        .target(name: "Translator", dependencies: ["Machine", "TrapVMM", "CodeMemorySupport"], swiftSettings: strict),
        // memfd_create (it needs _GNU_SOURCE): the JIT maps its code twice, RW and RX, and storage is
        // a memory file so that the JIT can map a guarded view of a VM; the fault handler for those views.
        .target(name: "CodeMemorySupport"),
        // Popek and Goldberg's classification, derived by executing instructions.
        .target(name: "Classifier", dependencies: ["Machine"], swiftSettings: strict),
        // The experiment library: strategies composed from the modules above, one run
        // configuration, results; shared by the command line, the tests and your own programs.
        .target(name: "Experiments", dependencies: ["Machine", "TrapVMM", "HybridVMM", "HardwareVMM", "Translator"],
                swiftSettings: strict),
        // Built-in guest programs, their C runtime and the prebuilt images.
        .target(
            name: "Guests",
            exclude: ["README.md"],
            resources: [.copy("runtime"), .copy("src"), .copy("images")],
            swiftSettings: strict
        ),
        // Every `bench` subcommand, as a library so tests can drive it in-process.
        .target(
            name: "ThirdGenCLI",
            dependencies: [
                "Machine", "TrapVMM", "HybridVMM", "HardwareVMM", "Translator", "Classifier", "Guests", "Experiments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "bench", dependencies: ["ThirdGenCLI"], swiftSettings: strict),

        .testTarget(name: "MachineTests", dependencies: ["Machine", "InstructionSetGenerator"], swiftSettings: strict),
        .testTarget(name: "TrapVMMTests", dependencies: ["TrapVMM", "Machine"], swiftSettings: strict),
        .testTarget(name: "HybridVMMTests", dependencies: ["HybridVMM", "TrapVMM", "Machine", "Guests"], swiftSettings: strict),
        // Differential tests of every monitor against the bare machine.
        .testTarget(name: "MonitorTests", dependencies: ["TrapVMM", "HybridVMM", "HardwareVMM", "Translator", "Machine", "Guests", "Experiments"],
                    swiftSettings: strict),
        .testTarget(name: "ClassifierTests", dependencies: ["Classifier", "Machine"], swiftSettings: strict),
        .testTarget(name: "TranslatorTests", dependencies: ["Translator", "TrapVMM", "Machine", "Guests"], swiftSettings: strict),
        .testTarget(name: "GuestsTests", dependencies: ["Machine", "Guests", "ThirdGenCLI"], swiftSettings: strict),
        .testTarget(name: "ThirdGenCLITests", dependencies: ["ThirdGenCLI", "Machine", "Guests"], swiftSettings: strict),
    ]
)
