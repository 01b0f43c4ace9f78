// Runs built-in guests under the sampling monitor on every profile and
// checks each run against the bare machine (SPEC section 8). The monitor
// runs guest code directly, as trap-and-emulate does, so Popek and
// Goldberg's Theorem 1 says where it must be equivalent: wherever `trap`
// is. Any other verdict, or a byte written outside a VM, fails (exit 1).
//
//     swift run own-monitor              # every guest but the long compute ones
//     swift run own-monitor sieve qsort  # the guests named
import Experiments
import Foundation
import Guests
import Machine
import SamplingMonitor

let names = CommandLine.arguments.dropFirst()
let guests = names.isEmpty ? Guests.all.filter { $0.kind != .compute } : names.compactMap { Guests.named($0) }
if guests.count != names.count && !names.isEmpty {
    print("own-monitor: unknown guest among \(names.joined(separator: " ")); built-in guests: \(Guests.all.map(\.name).joined(separator: " "))")
    exit(2)
}

func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

var failures = 0
for guest in guests {
    let image = try ELFImage(bytes: Guests.image(of: guest), memorySize: RunRequest.defaultMemorySize)
    for profile in Profile.builtIn {
        let request = RunRequest(image: image, profile: profile)
        let runs = try Experiment.compare(request, strategies: [.native, .trap])
        let (reference, trap) = (runs[0], runs[1])
        let (monitor, sampler) = try SamplingMonitor.controlProgram(
            images: [image], profile: profile, memorySize: request.memorySize, budget: request.budget,
            processor: try request.processor(for: .trap), interval: 997)
        monitor.run()
        let verdict = Verdict(run: monitor.vms[0].snapshot(), reference: reference.snapshot)
        let agrees = (verdict == .equivalent) == (trap.verdict == .equivalent) && verdict != .inconclusive
        let isolated = monitor.damagedCanaries.isEmpty
        if !agrees || !isolated { failures += 1 }
        let hot = sampler.hottest(vm: 0, count: 3).map { "\(hex($0.pc)) (\($0.samples))" }.joined(separator: ", ")
        let problems = (agrees ? [] : ["MISMATCH"]) + (isolated ? [] : ["CANARY DAMAGED"])
        print("\(guest.name) \(profile.name): \(verdict == .equivalent ? "equivalent" : "divergent")",
              "(trap: \(trap.verdict == .equivalent ? "equivalent" : "divergent"))",
              (problems + ["hot: \(hot.isEmpty ? "none" : hot)"]).joined(separator: " "))
    }
}
print(failures == 0 ? "own-monitor: every verdict as Theorem 1 predicts" : "own-monitor: \(failures) unexpected verdicts")
exit(failures == 0 ? 0 : 1)
