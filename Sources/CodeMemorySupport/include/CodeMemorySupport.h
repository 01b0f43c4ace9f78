/* The libc calls the JIT's code memory and guest storage need that Swift
 * cannot import or write: memfd_create (declared only under _GNU_SOURCE), and
 * a SIGSEGV handler that reads and rewrites the interrupted registers. */
#ifndef CODE_MEMORY_SUPPORT_H
#define CODE_MEMORY_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* An anonymous memory file (close-on-exec) for mapping the same pages twice,
 * read+write and read+execute; -1 (errno set) where there is none. */
int thirdgen_memfd(const char *name);

/* Guarded accesses: generated code that loads or stores guest storage
 * through a view with no bounds check, where everything past the view's
 * bytes is reserved and inaccessible, so an access out of bounds faults.
 * A table lists, per such access instruction (ascending host addresses),
 * where the code resumes instead (its block's step tail) and the op index
 * to hand it in rcx. The handler acts only on a fault at a listed
 * instruction, addressing the reservation of the table current on the
 * faulting thread; any other fault goes to the handler that was there
 * before (the fault recurs under it). */
typedef struct thirdgen_fault_table {
    uintptr_t *sites;
    uintptr_t *targets;
    uint32_t *ops;
    size_t count, capacity;
    /* The reservation of the view in use: [guard_lo, guard_hi). */
    uintptr_t guard_lo, guard_hi;
} thirdgen_fault_table;

/* Installs the handler for SIGSEGV and SIGBUS (once per process); 0 on success. */
int thirdgen_install_fault_handler(void);
/* An empty table; NULL if out of memory. */
thirdgen_fault_table *thirdgen_fault_table_create(void);
void thirdgen_fault_table_destroy(thirdgen_fault_table *t);
/* Appends a site (above every site listed); 0 on success, -1 if out of memory. */
int thirdgen_fault_table_append(thirdgen_fault_table *t, uintptr_t site, uintptr_t target, uint32_t op);
/* Forgets every site (the code was flushed). */
void thirdgen_fault_table_reset(thirdgen_fault_table *t);
/* The table generated code running on this thread uses, or NULL. */
void thirdgen_set_current_fault_table(thirdgen_fault_table *t);

#endif
