/* A process that runs another program on command, for the capture
 * consistency tests: shapeshift N maps N one-page anonymous regions
 * (protections alternate, so exactly N VMAs), prints "ready PID N" and
 * reads commands on stdin:
 *   exec M   exec()s itself as "shapeshift M": the same pid and start
 *            time, a new address space, another "ready PID M" line
 * It exits when stdin closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int map_regions(long count)
{
	long page = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, (size_t)(count * page), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	for (long i = 0; i < count; i++) {
		if (i % 2 && mprotect(base + i * page, (size_t)page, PROT_READ) != 0)
			return -1;
		if (i % 2 == 0)
			base[i * page] = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	if (count > 0 && map_regions(count) != 0) {
		perror("shapeshift: mmap");
		return 1;
	}
	printf("ready %ld %ld\n", (long)getpid(), count);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "exec ", 5) == 0) {
			char arg[32];
			snprintf(arg, sizeof(arg), "%ld", strtol(line + 5, NULL, 10));
			execl("/proc/self/exe", argv[0], arg, (char *)NULL);
			perror("shapeshift: exec");
			return 1;
		}
	}
	return 0;
}
