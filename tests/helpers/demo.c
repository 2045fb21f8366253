/* The bundled demo workload: a small "server" whose memory changes on
 * command. It prints "ready <pid>", then reads one command per line and
 * answers "ok":
 *   grow     allocate and touch 24 MiB on the heap and a 16 MiB mapping
 *   threads  start two worker threads (each gets a stack and a guard)
 * It exits when stdin closes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *worker(void *arg)
{
	volatile char scratch[64 * 1024];
	memset((char *)scratch, 1, sizeof(scratch));
	pause();
	return arg;
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (char)i;
}

static int grow(void)
{
	/* Many small blocks stay on the brk heap; the big one is an mmap. */
	for (int i = 0; i < 24 * 16; i++) {
		char *block = malloc(64 * 1024 - 64);
		if (!block)
			return -1;
		touch(block, 64 * 1024 - 64);
	}
	char *cache = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cache == MAP_FAILED)
		return -1;
	touch(cache, 16 << 20);
	return 0;
}

int main(void)
{
	char *config = malloc(2 << 20);
	touch(config, 2 << 20);
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		int rc = 0;
		if (strncmp(line, "grow", 4) == 0) {
			rc = grow();
		} else if (strncmp(line, "threads", 7) == 0) {
			for (int i = 0; i < 2 && rc == 0; i++) {
				pthread_t t;
				rc = pthread_create(&t, NULL, worker, NULL);
			}
		}
		printf(rc == 0 ? "ok\n" : "error\n");
		fflush(stdout);
	}
	free(config);
	return 0;
}
