#define _GNU_SOURCE
#include "CodeMemorySupport.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <ucontext.h>
#endif

int thirdgen_memfd(const char *name) {
#if defined(__linux__) && defined(MFD_CLOEXEC)
    return memfd_create(name, MFD_CLOEXEC);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

#if defined(__linux__) && defined(__x86_64__)

static __thread thirdgen_fault_table *current_table;
static struct sigaction previous_segv, previous_bus;
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static int install_result = -1;

/* Index of `rip` among t's sites, or -1. Async-signal-safe: reads only. */
static long find_site(const thirdgen_fault_table *t, uintptr_t rip) {
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->sites[mid] < rip) lo = mid + 1; else hi = mid;
    }
    return lo < t->count && t->sites[lo] == rip ? (long)lo : -1;
}

static void on_fault(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    const thirdgen_fault_table *t = current_table;
    if (t != NULL) {
        uintptr_t address = (uintptr_t)info->si_addr;
        uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        if (address >= t->guard_lo && address < t->guard_hi) {
            long i = find_site(t, rip);
            if (i >= 0) {
                uc->uc_mcontext.gregs[REG_RIP] = (greg_t)t->targets[i];
                uc->uc_mcontext.gregs[REG_RCX] = (greg_t)t->ops[i];
                return;
            }
        }
    }
    /* Not a guarded access: the previous disposition, and the fault recurs under it. */
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, NULL);
}

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGSEGV, &action, &previous_segv) != 0) return;
    if (sigaction(SIGBUS, &action, &previous_bus) != 0) {
        sigaction(SIGSEGV, &previous_segv, NULL);
        return;
    }
    install_result = 0;
}

int thirdgen_install_fault_handler(void) {
    pthread_once(&installed, install);
    return install_result;
}

#else

int thirdgen_install_fault_handler(void) { return -1; }

#endif

thirdgen_fault_table *thirdgen_fault_table_create(void) {
    return calloc(1, sizeof(thirdgen_fault_table));
}

void thirdgen_fault_table_destroy(thirdgen_fault_table *t) {
    if (t == NULL) return;
    free(t->sites);
    free(t->targets);
    free(t->ops);
    free(t);
}

int thirdgen_fault_table_append(thirdgen_fault_table *t, uintptr_t site, uintptr_t target, uint32_t op) {
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 256;
        uintptr_t *sites = malloc(capacity * sizeof *sites), *targets = malloc(capacity * sizeof *targets);
        uint32_t *ops = malloc(capacity * sizeof *ops);
        if (sites == NULL || targets == NULL || ops == NULL) {
            free(sites); free(targets); free(ops);
            return -1;
        }
        if (t->count) {
            memcpy(sites, t->sites, t->count * sizeof *sites);
            memcpy(targets, t->targets, t->count * sizeof *targets);
            memcpy(ops, t->ops, t->count * sizeof *ops);
        }
        /* The handler may read the table at any moment on this thread: the new arrays are
         * complete before they replace the old (a fault cannot interrupt this function:
         * it runs in Swift, not in generated code). */
        uintptr_t *old_sites = t->sites, *old_targets = t->targets;
        uint32_t *old_ops = t->ops;
        t->sites = sites; t->targets = targets; t->ops = ops;
        t->capacity = capacity;
        free(old_sites); free(old_targets); free(old_ops);
    }
    t->sites[t->count] = site;
    t->targets[t->count] = target;
    t->ops[t->count] = op;
    t->count++;
    return 0;
}

void thirdgen_fault_table_reset(thirdgen_fault_table *t) { t->count = 0; }

void thirdgen_set_current_fault_table(thirdgen_fault_table *t) {
#if defined(__linux__) && defined(__x86_64__)
    current_table = t;
#else
    (void)t;
#endif
}
