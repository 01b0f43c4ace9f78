// Writes Sources/Machine/InstructionSet.generated.swift from the instruction-set
// description (Sources/InstructionSetGenerator/InstructionSet.swift).
//
//     swift run generate-instruction-set           # write the file
//     swift run generate-instruction-set --check   # exit 1 if it is out of date
import Foundation
import InstructionSetGenerator

let arguments = CommandLine.arguments.dropFirst()
guard arguments.allSatisfy({ $0 == "--check" }) else {
    FileHandle.standardError.write(Data("usage: generate-instruction-set [--check]\n".utf8))
    exit(2)
}
let check = arguments.contains("--check")
// The package root: two folders above this file (Sources/generate-instruction-set/).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let output = root.appendingPathComponent(InstructionSetGenerator.outputPath)

let text: String
do {
    text = try InstructionSetGenerator.render()
} catch {
    FileHandle.standardError.write(Data("generate-instruction-set: the description is refused: \(error)\n".utf8))
    exit(1)
}
let current = try? String(contentsOf: output, encoding: .utf8)
if check {
    guard current == text else {
        print("\(InstructionSetGenerator.outputPath) is out of date: run `swift run generate-instruction-set`")
        exit(1)
    }
    print("\(InstructionSetGenerator.outputPath) is up to date")
} else if current == text {
    print("\(InstructionSetGenerator.outputPath) unchanged")
} else {
    do {
        try text.write(to: output, atomically: true, encoding: .utf8)
    } catch {
        FileHandle.standardError.write(Data("generate-instruction-set: cannot write \(output.path): \(error)\n".utf8))
        exit(1)
    }
    print("wrote \(InstructionSetGenerator.outputPath)")
}
