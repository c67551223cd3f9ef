/* Functions that inline assembly calls by name: the assembly relies on
 * their register use, so neither may be replaced. plain() is only called
 * from C and stays patchable. */
__attribute__((noinline)) int refill(void)
{
	return 3;
}

int reached_from_toplevel(void)
{
	return 4;
}

__attribute__((noinline)) int plain(void)
{
	return 5;
}

void go(void)
{
	asm volatile("call refill" ::
			     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
			       "memory");
}

int use_plain(void)
{
	return plain();
}

asm(".text\n.globl hp_tramp\nhp_tramp:\n\tjmp reached_from_toplevel\n");
