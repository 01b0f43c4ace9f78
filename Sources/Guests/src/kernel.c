/* kernel: a small multi-process guest kernel. Four user processes, each in a
 * region of its own under its own relocation (l = 0x40000 + i * 0x10000,
 * b = 0x10000), share one copy-per-process image of the .user code. System
 * calls: PUTC, YIELD, EXIT. Round-robin on YIELD and EXIT; process 3 touches
 * memory past its bound and is killed by the memory trap. Every trap goes
 * through the stub in kernel.S, which saves registers in low core; the
 * kernel returns to a process with LPSW. */
#include "kernel.h"

enum { NPROC = 4, PROC_BASE = 0x40000, PROC_SIZE = 0x10000 };
enum { SYS_PUTC = 1, SYS_YIELD = 2, SYS_EXIT = 3 };
enum { FREE, READY, DONE };

typedef struct { uint32_t regs[32]; pg_psw psw; int state; } pcb;
static pcb procs[NPROC];
static int current;
static uint32_t checksum;

/* ---- user code: copied into each process region, runs relocated ---- */

PG_USERDATA static const char hello[] = "hello from process ";

PG_USERCODE static void user_putc(uint32_t c) { pg_syscall(SYS_PUTC, c); }

PG_USERCODE void user_main(uint32_t id) {
    for (const char *p = hello; *p; p++) user_putc((uint8_t)*p);
    user_putc('0' + id);
    user_putc('\n');
    uint32_t acc = id + 1;
    for (uint32_t round = 0; round < 6; round++) {
        for (uint32_t i = 0; i < 300 * (id + 1); i++) acc = acc * 1103515245u + 12345u + i;
        user_putc('a' + id);
        if (id == 3 && round == 2) acc += *(volatile uint32_t *)0x20000; /* past b = 0x10000: memory trap */
        pg_syscall(SYS_YIELD, 0);
    }
    pg_syscall(SYS_EXIT, acc & 0xffff);
}

/* ---- kernel ---- */

static void save(pcb *p) {
    for (int r = 1; r < 32; r++) p->regs[r] = PG_SAVE[r];
    p->psw.mode = PG_OLD_PSW->mode; p->psw.pc = PG_OLD_PSW->pc;
    p->psw.l = PG_OLD_PSW->l; p->psw.b = PG_OLD_PSW->b;
}

static void load(const pcb *p) {
    for (int r = 1; r < 32; r++) PG_SAVE[r] = p->regs[r];
    pg_psw_store(PG_OLD_PSW, p->psw.mode, p->psw.pc, p->psw.l, p->psw.b);
}

static void finish(int id, uint32_t code) {
    procs[id].state = DONE;
    checksum = checksum * 31u + code + (uint32_t)id;
}

/* The next ready process after `current`, or halt when none is left. */
static void schedule(void) {
    for (int k = 1; k <= NPROC; k++) {
        int next = (current + k) % NPROC;
        if (procs[next].state == READY) { current = next; load(&procs[next]); return; }
    }
    pg_puts("all processes done, kernel checksum "); pg_puthex(checksum); pg_out('\n');
    pg_halt(checksum & 0xff);
}

void pg_trap(void) {
    pcb *p = &procs[current];
    save(p);
    uint32_t cause = PG_CAUSE;
    if (cause == PG_TRAP_SVC) {
        p->psw.pc += 4;
        uint32_t number = p->regs[10], arg = p->regs[11];
        if (number == SYS_PUTC) { pg_out(arg); load(p); return; }
        if (number == SYS_YIELD) { schedule(); return; }
        if (number == SYS_EXIT) {
            pg_puts("process "); pg_putdec((uint32_t)current); pg_puts(" exited with "); pg_putdec(arg); pg_out('\n');
            finish(current, arg);
            schedule();
            return;
        }
    }
    pg_puts("process "); pg_putdec((uint32_t)current); pg_puts(" killed: trap "); pg_putdec(cause);
    pg_puts(" value "); pg_puthex(PG_VALUE); pg_out('\n');
    finish(current, 0xdead);
    schedule();
}

int main(void) {
    pg_install_trap_handler();
    uint32_t size = (uint32_t)(__user_end - __user_start);
    uint32_t entry = (uint32_t)((char *)user_main - __user_start);
    for (int i = 0; i < NPROC; i++) {
        uint32_t base = PROC_BASE + (uint32_t)i * PROC_SIZE;
        memcpy((void *)(uintptr_t)base, __user_start, size);
        for (int r = 0; r < 32; r++) procs[i].regs[r] = 0;
        procs[i].regs[2] = PROC_SIZE;   /* sp: top of the process's own storage */
        procs[i].regs[10] = (uint32_t)i;
        pg_psw_store(&procs[i].psw, PG_USER, entry, base, PROC_SIZE);
        procs[i].state = READY;
    }
    pg_puts("kernel: "); pg_putdec(NPROC); pg_puts(" processes, "); pg_putdec(size); pg_puts(" bytes of user code each\n");
    current = 0;
    load(&procs[0]);
    pg_trap_return();
}
