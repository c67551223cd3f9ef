/* Branch targets named in inline assembly; see hp_asm_scan.h. */
#include "hp_asm_scan.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool is_symbol_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == '.' || c == '$';
}

static bool is_symbol_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$';
}

/* call, callq, calll, jmp, jmpq, and the conditional jumps (j + condition):
 * every mnemonic that transfers control to an operand. */
static bool is_branch_mnemonic(const char *word, size_t len)
{
	if (len >= 4 && strncmp(word, "call", 4) == 0)
		return len <= 5;
	if (len >= 3 && strncmp(word, "jmp", 3) == 0)
		return len <= 4;
	if (len >= 2 && len <= 5 && word[0] == 'j') {
		for (size_t i = 1; i < len; i++)
			if (!islower((unsigned char)word[i]))
				return false;
		return true;
	}
	return false;
}

/* The operand after a branch mnemonic names a function when it is a plain
 * symbol: not a register (%rax, rax in Intel syntax is rare enough to be
 * taken as a name and then not found), not indirect (*), not a numbered
 * local label (1f), not an operand placeholder (%0, %P[fn]: the compiler
 * sees those). */
static size_t symbol_at(const char *p, const char **name)
{
	size_t len = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!is_symbol_start(*p) || *p == '$')
		return 0;
	while (is_symbol_char(p[len]))
		len++;
	*name = p;
	return len;
}

size_t hp_asm_branch_targets(const char *text,
			     void (*found)(const char *name, size_t len, void *ctx), void *ctx)
{
	size_t count = 0;
	const char *p = text;

	if (!text)
		return 0;
	while (*p) {
		const char *word, *name;
		size_t len, name_len;

		while (*p && !isalpha((unsigned char)*p))
			p++;
		word = p;
		while (isalnum((unsigned char)*p))
			p++;
		len = (size_t)(p - word);
		/* a mnemonic starts a statement: after a line or ';' break */
		bool starts = word == text || strchr(" \t\n;", word[-1]) != NULL;
		if (!len || !starts || !is_branch_mnemonic(word, len))
			continue;
		if (*p != ' ' && *p != '\t')
			continue;
		name_len = symbol_at(p, &name);
		if (!name_len)
			continue;
		found(name, name_len, ctx);
		count++;
		p = name + name_len;
	}
	return count;
}

bool hp_asm_mentions(const char *text, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!text || !len)
		return false;
	for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
		bool starts = p == text || !is_symbol_char(p[-1]);
		if (starts && !is_symbol_char(p[len]))
			return true;
	}
	return false;
}
