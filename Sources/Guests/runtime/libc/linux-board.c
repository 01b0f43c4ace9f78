/* The picolibc board file for the riscv32 Linux build of a --libc guest
 * (the peer comparison under qemu-riscv32, linux.c's harness), beyond
 * common.c: the heap is a static arena (linux-start.S sets tp and runs the
 * constructors; linux.c calls main). */
#include <errno.h>
#include <stddef.h>

#ifndef PG_LINUX_HEAP
#define PG_LINUX_HEAP (16u << 20)
#endif

static char arena[PG_LINUX_HEAP] __attribute__((aligned(16)));

void *sbrk(ptrdiff_t increment) {
    static size_t used;
    if (increment < 0 ? (size_t)-increment > used : (size_t)increment > sizeof arena - used) {
        errno = ENOMEM;
        return (void *)-1;
    }
    void *old = arena + used;
    used += increment;
    return old;
}
