/* Test engine for "which replaced functions are still running": threads
 * that stay inside functions. The spinner never leaves spin() (running
 * user code: sampled by signal), the masked spinner does the same with
 * every signal blocked (cannot be sampled), the waiter sits in wait_in()
 * blocked in read() on a FIFO until the test writes to it (read from
 * /proc without a signal). idle() is never called. The main thread
 * publishes "version() released idle(0) deep" to the state file. With
 * ACTIVE_DEEP set a thread "deep" spins at the bottom of deep_chain.h's
 * 41 calls, and deep is 1 once it has got there.
 * Usage: active_target STATE FIFO */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "deep_chain.h"

volatile long spins;
volatile int released;
volatile int one = 1; /* not a constant the compiler could fold into main */
volatile long deep_spins;

HP_DEEP_FUNCTIONS

__attribute__((noinline)) int version(void)
{
	return one;
}

__attribute__((noinline)) void spin(void)
{
	for (;;)
		__atomic_fetch_add(&spins, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) int wait_in(int fd)
{
	char c;
	int n = (int)read(fd, &c, 1);

	__asm__ volatile("" ::: "memory"); /* keeps the read a call, not a tail call */
	return n;
}

__attribute__((noinline)) int idle(int x)
{
	return x + 1;
}

static void *spinner(void *arg)
{
	pthread_setname_np(pthread_self(), "spinner");
	spin();
	return arg;
}

static void *masked(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "masked");
	spin();
	return arg;
}

static void *deep(void *arg)
{
	pthread_setname_np(pthread_self(), "deep");
	deep_0(one);
	return arg;
}

static void *waiter(void *arg)
{
	int fd = open(arg, O_RDWR); /* O_RDWR: the open does not wait for a writer */

	pthread_setname_np(pthread_self(), "waiter");
	if (fd >= 0 && wait_in(fd) == 1)
		released = 1;
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv)
{
	const char *state = argc > 1 ? argv[1] : "state";
	const char *fifo = argc > 2 ? argv[2] : "fifo";
	char tmp[4096];
	pthread_t t;

	mkfifo(fifo, 0600);
	pthread_create(&t, NULL, spinner, NULL);
	pthread_create(&t, NULL, masked, NULL);
	pthread_create(&t, NULL, waiter, (void *)fifo);
	if (getenv("ACTIVE_DEEP"))
		pthread_create(&t, NULL, deep, NULL);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	for (;;) {
		FILE *f = fopen(tmp, "w");

		if (f) {
			fprintf(f, "%d %d %d %d\n", version(), released, idle(0), deep_spins > 0);
			fclose(f);
			rename(tmp, state);
		}
		usleep(5000);
	}
}
