import Foundation
import ThirdGenCLI

exit(Bench.main(arguments: Array(CommandLine.arguments.dropFirst())))
