/* Inline graph: one helper inlined into two callers, a nested chain
 * (top <- mid <- leaf), and a one-liner the early inliner takes. */
int g;

static inline int helper(int x) { return x * 3 + g; }
int use_a(int x) { return helper(x) + 1; }
int use_b(int x) { return helper(x) * 2; }

static inline int leaf(int x) { return x ^ g; }
static inline int mid(int x) { return leaf(x) + leaf(x + 1); }
int top(int x) { return mid(x) * mid(x - 1); }

static int tiny(void) { return 42; }
int early(void) { return tiny() + g; }

__attribute__((noinline)) int kept(int x) { return x + g * 7; }
int calls_kept(int x) { return kept(x) + kept(x * 2); }
