/* Built with the plugin. A small static inline string-length helper is
 * inlined into many functions (with a "" literal, jump tables and short
 * strings around it); NEW's fix to handle() grows it and adds literals, so
 * every function after it and every literal moves. Only handle() may be
 * replaced: the others keep their hash (no "machine code changed", no
 * "inlines" cascade), and nothing of plain_lib.c (built without the
 * plugin) is reported. */
int vend_op(int op, int x);
int vend_kind(int k);

static inline unsigned str_len(const char *s)
{
	unsigned n = 0;
	while (s[n])
		n++;
	return n;
}

int handle(const char *req)
{
	/* the fix: empty requests and long ones are answered differently */
	unsigned n = str_len(req);
	if (!n)
		return -(int)str_len("empty request: the fix adds this literal");
	if (n > 64)
		return -(int)str_len("request too long: and this one, which is longer");
	for (unsigned i = 0; i < n; i++)
		if (req[i] == '\r' || req[i] == '\n')
			return -(int)i;
	return (int)n + 1;
}

int cmd_get(const char *key)
{
	return (int)str_len(key) + (int)str_len("");
}

int cmd_set(const char *key, int op)
{
	switch (op) {
	case 0: return (int)str_len(key) + (int)str_len("s");
	case 1: return (int)str_len(key) * 2 + (int)str_len("se");
	case 2: return (int)str_len(key) * 3 - (int)str_len("set");
	case 3: return (int)str_len(key) ^ (int)str_len("set ");
	case 4: return (int)str_len(key) | (int)str_len("set k");
	case 5: return (int)str_len(key) - (int)str_len("set ke");
	case 6: return vend_op(op, (int)str_len(key));
	default: return -(int)str_len("");
	}
}

int cmd_del(const char *key)
{
	return (int)str_len(key) + vend_kind((int)str_len(key));
}

int cmd_stats(int which)
{
	static const char *const labels[] = {"", "up", "hits", "misses", "evicted"};
	return (int)str_len(labels[which % 5]);
}

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";
	return handle(a) + cmd_get(a) + cmd_set(a, argc) + cmd_del(a) + cmd_stats(argc);
}
