import Machine
import TrapVMM

/// Theorem 3's hybrid monitor, coming with the HybridVMM issue: virtual user
/// mode runs directly on the core, every instruction of virtual supervisor
/// mode is interpreted against the virtual PSW through the VM map, with
/// Machine's single instruction table and TrapVMM's dispatcher, allocator and
/// interpreter routines.
///
/// Not built yet: only the module and its dependencies exist.
public enum HybridVMM {}
