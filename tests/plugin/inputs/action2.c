/* The ACTION2 trap: plain clang -O2 (IPSCCP) and plain gcc -O2 (ipa-cp)
 * propagate the only argument act() ever gets and delete case ACTION2, so
 * a patch changing only a caller to pass ACTION2 would reach a body without
 * it. With the plugin act() keeps both cases, and v1 -> v2 changes handle()
 * only. */
#define ACTION1 1
#define ACTION2 2

int do1(void);
int do2(void);

__attribute__((noinline)) static int act(int a)
{
	switch (a) {
	case ACTION1:
		return do1();
	case ACTION2:
		return do2();
	}
	return -1;
}

int handle(int x)
{
#ifdef V2
	return act(x ? ACTION2 : ACTION1);
#else
	return act(ACTION1) + x * 0;
#endif
}
