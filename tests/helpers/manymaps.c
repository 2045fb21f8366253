/* A workload with many mappings, for benchmarks and big-input tests:
 * manymaps N [touch_kb] maps N one-page anonymous regions whose
 * protections alternate so the kernel cannot merge them, touches the
 * writable ones, prints "ready" and waits until stdin closes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long touch_kb = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	long page = sysconf(_SC_PAGESIZE);
	/* One reservation, then alternate protections page by page: each
	 * mprotect splits the VMA, giving exactly `count` regions. */
	char *base = mmap(NULL, (size_t)(count * page), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("manymaps: mmap");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		if (i % 2) {
			if (mprotect(base + i * page, (size_t)page, PROT_READ) != 0) {
				perror("manymaps: mprotect");
				return 1;
			}
		} else {
			base[i * page] = 1;
		}
	}
	if (touch_kb > 0) {
		char *big = malloc((size_t)touch_kb * 1024);
		for (long i = 0; big && i < touch_kb * 1024; i += page)
			big[i] = 1;
	}
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
