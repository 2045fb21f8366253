/* A process whose map never stands still: it maps, touches, splits with
 * mprotect and unmaps regions in a tight loop, for capture-under-churn
 * tests. Prints "ready <pid>", runs until stdin closes. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 64

static void *churn(void *arg)
{
	char *slots[SLOTS] = { 0 };
	size_t sizes[SLOTS] = { 0 };
	unsigned seed = 12345;
	for (;;) {
		int i = (int)(rand_r(&seed) % SLOTS);
		if (slots[i]) {
			munmap(slots[i], sizes[i]);
			slots[i] = NULL;
			continue;
		}
		sizes[i] = (size_t)(1 + rand_r(&seed) % 16) * 4096;
		slots[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (slots[i] == MAP_FAILED) {
			slots[i] = NULL;
			continue;
		}
		slots[i][0] = 1;
		if (sizes[i] > 4096)
			mprotect(slots[i], 4096, PROT_READ); /* a split */
	}
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, churn, NULL) != 0)
		return 1;
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}
