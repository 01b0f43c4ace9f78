import Machine
import TrapVMM

/// Block-caching binary translation, coming with the Translator issue: guest
/// basic blocks decoded through Machine's single instruction table,
/// innocuous instructions pre-decoded for a tight executor, sensitive ones
/// turned into callouts to the control program's interpreter routines; later
/// an x86-64 JIT backend behind the same front end.
///
/// Not built yet: only the module and its dependencies exist.
public enum Translator {}
