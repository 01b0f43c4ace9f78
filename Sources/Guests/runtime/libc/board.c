/* The PG32 board file for picolibc: what the C library needs from the
 * machine beyond common.c (SPEC sections 4 and 5).
 * - the heap (sbrk, so malloc) runs from the end of the image to the stack's
 *   limit, PG_STACK_SIZE below the top of storage; past it sbrk fails with
 *   ENOMEM and malloc returns NULL;
 * - start.S calls __pg_libc_start: constructors, then main(1, {"guest"}),
 *   whose return value goes to exit(). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef PG_STACK_SIZE
#define PG_STACK_SIZE (64 * 1024)
#endif

/* The top of storage, recorded by start.S before anything else runs. */
uint32_t __pg_storage_top;
extern char __heap_start[];

void *sbrk(ptrdiff_t increment) {
    static uintptr_t brk;
    uintptr_t start = (uintptr_t)__heap_start;
    uintptr_t limit = __pg_storage_top > start + PG_STACK_SIZE ? __pg_storage_top - PG_STACK_SIZE : start;
    if (!brk) brk = start;
    if (increment < 0 ? (uintptr_t)-increment > brk - start : (uintptr_t)increment > limit - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uintptr_t old = brk;
    brk += increment;
    return (void *)old;
}

extern void __libc_init_array(void);
extern int main(int argc, char **argv);

static char program_name[] = "guest";
static char *arguments[] = { program_name, NULL };

__attribute__((noreturn)) void __pg_libc_start(void) {
    __libc_init_array();
    exit(main(1, arguments));
}
