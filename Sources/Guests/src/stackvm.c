/* stackvm: a bytecode interpreter, the branchy loop of every scripting
 * language: a stack machine with 18 opcodes dispatched by a switch (a jump
 * table: one indirect jump per bytecode), running a program that counts the
 * Collatz steps of 1..700, sums the primes below 1000 by trial division,
 * and calls a recursive Fibonacci (17). */
#include "pg32.h"

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, MOD, LT, EQ, JZ, JMP, DUP, DROP, CALL, RET, HALT, SHR };

#define L(n) (n) /* local slot */
static const int32_t program[] = {
    /* 0: collatz: total steps over n = 1..400 in locals 0 (n), 1 (x), 2 (total) */
    PUSH, 1, STORE, L(0), PUSH, 0, STORE, L(2),
    /* 8: next n */ LOAD, L(0), STORE, L(1),
    /* 12: step */ LOAD, L(1), PUSH, 1, EQ, JZ, 21, JMP, 54,
    /* 21 */ LOAD, L(2), PUSH, 1, ADD, STORE, L(2),
    LOAD, L(1), PUSH, 2, MOD, JZ, 47,
    LOAD, L(1), PUSH, 3, MUL, PUSH, 1, ADD, STORE, L(1), JMP, 12,
    /* 47 */ LOAD, L(1), SHR, STORE, L(1), JMP, 12,
    /* 54 */ LOAD, L(0), PUSH, 1, ADD, DUP, STORE, L(0), PUSH, 401, LT, JZ, 69, JMP, 8,
    /* 69 */ HALT,
    /* 70: primes below 1000 by trial division: locals 3 (n), 4 (d), 5 (sum) */
    PUSH, 2, STORE, L(3), PUSH, 0, STORE, L(5),
    /* 78 */ PUSH, 2, STORE, L(4),
    /* 82 */ LOAD, L(4), LOAD, L(4), MUL, LOAD, L(3), PUSH, 1, ADD, LT, JZ, 111,
    LOAD, L(3), LOAD, L(4), MOD, JZ, 118,
    LOAD, L(4), PUSH, 1, ADD, STORE, L(4), JMP, 82,
    /* 111: prime */ LOAD, L(5), LOAD, L(3), ADD, STORE, L(5),
    /* 118: next n */ LOAD, L(3), PUSH, 1, ADD, DUP, STORE, L(3), PUSH, 1000, LT, JZ, 133, JMP, 78,
    /* 133 */ HALT,
    /* 134: fib(17) into local 6 */ PUSH, 17, CALL, 143, STORE, L(6), HALT, HALT, HALT,
    /* 143: fib(n), n on the stack */
    DUP, PUSH, 2, LT, JZ, 150, RET,
    /* 150 */ DUP, PUSH, 1, SUB, CALL, 143, STORE, L(7), PUSH, 2, SUB, CALL, 143, LOAD, L(7), ADD, RET,
};

/* fib's recursion keeps its partial result in local 7, which each call
 * overwrites: the frame saves it. */
static int32_t stack[256], locals[8], frames[64][2];

static int32_t run(uint32_t entry, uint32_t *steps) {
    uint32_t pc = entry, sp = 0, fp = 0, n = 0;
    for (;;) {
        n++;
        switch (program[pc++]) {
        case PUSH: stack[sp++] = program[pc++]; break;
        case LOAD: stack[sp++] = locals[program[pc++]]; break;
        case STORE: locals[program[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DIV: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] / stack[sp] : -1; break;
        case MOD: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] % stack[sp] : stack[sp - 1]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case JZ: if (stack[--sp] == 0) pc = (uint32_t)program[pc]; else pc++; break;
        case JMP: pc = (uint32_t)program[pc]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case DROP: sp--; break;
        case SHR: stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] >> 1); break;
        case CALL: frames[fp][0] = (int32_t)(pc + 1); frames[fp][1] = locals[7]; fp++; pc = (uint32_t)program[pc]; break;
        case RET: fp--; pc = (uint32_t)frames[fp][0]; locals[7] = frames[fp][1]; break;
        case HALT: *steps += n; return (int32_t)sp;
        default: *steps += n; return -1;
        }
    }
}

int main(void) {
    for (int i = 0; i < 8; i++) locals[i] = 0;
    uint32_t steps = 0;
    int32_t left = run(0, &steps) | run(70, &steps) | run(134, &steps); // each leaves its stack empty
    uint32_t check = (uint32_t)locals[2] * 31 ^ (uint32_t)locals[5] * 17 ^ (uint32_t)locals[6] ^ steps ^ (uint32_t)left;
    pg_puts("stackvm: collatz steps "); pg_putdec((uint32_t)locals[2]); pg_puts(", prime sum "); pg_putdec((uint32_t)locals[5]);
    pg_puts(", fib "); pg_putdec((uint32_t)locals[6]); pg_puts(", "); pg_putdec(steps); pg_puts(" bytecodes");
    pg_puts(left ? ", STACK LEFT\n" : "\n");
    pg_puts("stackvm checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
