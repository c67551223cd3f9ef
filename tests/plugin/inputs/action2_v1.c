/* The "compiler removed the ACTION2 case" trap. Plain clang -O2 propagates
 * the only argument act() ever receives (IPSCCP) and deletes case ACTION2;
 * a patch that only changes a caller to pass ACTION2 would then reach a
 * body without it. With names pinned act() keeps both cases. */
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
