/* Which functions inline assembly calls or jumps to by name.
 *
 * A call the compiler cannot see is a caller the plugin cannot protect:
 * `asm("call refill" ::: "rax", "memory")` is written against refill()'s
 * register use and stack behaviour as they are today. A replacement of
 * refill() that clobbers more registers breaks that caller silently, so
 * both plugins record a function named by a call or jump in inline assembly
 * as not patchable. The scan is over the assembler template as written
 * (AT&T or Intel syntax, any `call`/`jmp`/`jcc` mnemonic, `sym@PLT`).
 */
#ifndef HP_ASM_SCAN_H
#define HP_ASM_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calls found(name, len, ctx) for every symbol that a call or jump in the
 * assembler text names directly; found may be called more than once per
 * name. Returns how many targets were found. A NULL text finds none. */
size_t hp_asm_branch_targets(const char *text,
			     void (*found)(const char *name, size_t len, void *ctx), void *ctx);

/* Does the assembler text name this symbol anywhere (as a whole symbol
 * token: "counter" in "incl counter(%rip)", not in "counters")? Inline
 * assembly that names a variable may write it behind the compiler's back. */
bool hp_asm_mentions(const char *text, const char *name);

#ifdef __cplusplus
}
#endif

#endif
