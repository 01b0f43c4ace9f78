// The examples on the DocC landing pages of ThirdGen's modules, each in a
// block of its own, verbatim but for their import lines (gathered here):
// ExternalPackageTests checks that every page's example appears here, and
// that this program runs to its end. A page's `bytes` and `image` are the
// kernel guest's.
import Machine
import TrapVMM
import HybridVMM
import HardwareVMM
import Classifier
import Experiments
import Guests

let bytes = try Guests.image(of: Guests.named("kernel")!)
do {
let image = try ELFImage(bytes: bytes, memorySize: 1 << 20)   // SPEC section 7's checks
let machine = Machine(booting: image, memorySize: 1 << 20, profile: .pg32h)
let end = machine.runToEnd(budget: 10_000_000)
print(end.outcome, String(decoding: end.console, as: UTF8.self))
}
let image = try ELFImage(bytes: bytes, memorySize: 1 << 20)
do {
let cp = try ControlProgram(images: [image, image], profile: .pg32v,
                            memorySize: 1 << 20, budget: 100_000_000)
cp.run(quantum: 10_000)                     // round-robin, 10,000 guest instructions a slice
for vm in cp.vms { print(vm.state, vm.counters.traps) }
assert(cp.damagedCanaries.isEmpty)          // nothing outside a VM was touched
}
do {
let cp = try HybridVMM.controlProgram(images: [image], profile: .pg32h,
                                      memorySize: 1 << 20, budget: 100_000_000)
cp.run()
print(cp.vms[0].counters.interpreted, "interpreted,", cp.vms[0].counters.direct, "direct")
}
do {
let cp = try HardwareVMM.controlProgram(images: [image], profile: .pg32x,
                                        memorySize: 1 << 20, budget: 100_000_000,
                                        exits: [.on(.lpsw), .on(.setr), .on(.memory)])
cp.run()
print(cp.vms[0].counters.exits)
}
do {
let c = Classifier.classify(.pg32h)
print(c.theorem1, c.theorem3)   // false true
precondition(!c.theorem1 && c.theorem3, "pg32h: Theorem 3 only")
}
do {
let guest = Guests.named("jrstu")!
let image = try ELFImage(bytes: Guests.image(of: guest), memorySize: RunRequest.defaultMemorySize)
let request = RunRequest(image: image, profile: .pg32h, hardware: .interp)
for r in try Experiment.compare(request, strategies: [.native, .trap, .hybrid, .bt, .hw]) {
    print(r.strategy, r.verdict.map { "\($0)" } ?? "reference", r.seconds)
}
}
print("doc-examples: every example ran")
