/// What an engine keeps for each VM of its control program (a translation
/// cache, native code, a software machine), found by VM id on every entry:
/// an array, not a dictionary, grown on first use. Every engine keeps its
/// per-VM state here.
public struct PerVM<State> {
    @usableFromInline var states: [State?] = []

    /// No VM has state yet.
    public init() {}

    /// `vm`'s state, if it has one.
    @inlinable public subscript(vm vm: VirtualMachine) -> State? {
        vm.id < states.count ? states[vm.id] : nil
    }

    /// `vm`'s state, made by `make` on first use.
    @inlinable public mutating func state(of vm: VirtualMachine, orMake make: () throws -> State) rethrows -> State {
        if vm.id < states.count, let s = states[vm.id] { return s }
        if vm.id >= states.count { states += [State?](repeating: nil, count: vm.id + 1 - states.count) }
        let s = try make()
        states[vm.id] = s
        return s
    }
}
