import Machine

/// The classic control program CP = <D, A, {v_i}> of Popek and Goldberg,
/// coming with the TrapVMM issue: the dispatcher entered on every real trap,
/// the allocator that places VMs under the standard VM map (SPEC section 9),
/// and one interpreter routine per privileged instruction. Guests will run on
/// the Machine core in real user mode; the monitor gets control only through
/// real traps (`Machine.exitOnTrap`).
///
/// Not built yet: this namespace exists so the package layout is fixed and
/// the dependency direction (TrapVMM depends on Machine) is compiled.
public enum TrapVMM {
    /// The VM map's default base for the first VM: above the monitor's reserved page.
    public static let firstVMBase = 4096
}
