/* A workload for the tests of `mapsnap watch` and `mapsnap rank`: it
 * changes its memory on command, in steps a test can wait for.
 *
 *   watched
 *
 * It prints "ready <pid>", then reads one command per line on stdin and
 * answers "ok ..." (or "error ...") after each:
 *
 *   grow-heap KB      sbrk the brk heap by KB and touch it
 *   mmap-anon KB      mmap KB of anonymous memory and touch it
 *   mmap-apart KB     mmap KB of anonymous memory between two no-access
 *                     pages (it never merges with a neighbour), touch it
 *   split-apart       make the first half of the last mmap-apart region
 *                     read-only: the kernel splits it into two regions
 *   join-apart        make it all writable again: the kernel merges the
 *                     two regions back into one
 *   unmap-apart       unmap the last mmap-apart region, guards included
 *   rename NAME       set its comm (prctl PR_SET_NAME) to NAME, any bytes
 *
 * It exits when stdin closes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_APART 64

static struct { char *start; size_t len; } apart[MAX_APART];
static int napart;

static void touch(char *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < len; i += (size_t)page)
		p[i] = 1;
}

static void grow_heap(long kb)
{
	char *p = sbrk(kb * 1024);
	if (p == (void *)-1) {
		printf("error sbrk\n");
		return;
	}
	touch(p, (size_t)kb * 1024);
	printf("ok %p\n", (void *)p);
}

static void mmap_anon(long kb)
{
	size_t len = (size_t)kb * 1024;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("error mmap\n");
		return;
	}
	touch(p, len);
	printf("ok %lx\n", (unsigned long)p);
}

static void mmap_apart(long kb)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (size_t)kb * 1024;
	char *p = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (napart == MAX_APART || p == MAP_FAILED ||
	    mprotect(p + page, len, PROT_READ | PROT_WRITE) != 0) {
		printf("error mmap\n");
		return;
	}
	touch(p + page, len);
	apart[napart].start = p;
	apart[napart++].len = len + 2 * page;
	printf("ok %lx\n", (unsigned long)(p + page));
}

/* mprotect of the first half (split) or all (join) of the last region. */
static void protect_apart(bool split)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = apart[napart - 1].len - 2 * page;
	if (!napart || mprotect(apart[napart - 1].start + page, split ? len / 2 : len,
				split ? PROT_READ : PROT_READ | PROT_WRITE) != 0) {
		printf("error mprotect\n");
		return;
	}
	printf("ok\n");
}

static void unmap_apart(void)
{
	if (!napart || munmap(apart[napart - 1].start, apart[napart - 1].len) != 0) {
		printf("error munmap\n");
		return;
	}
	napart--;
	printf("ok\n");
}

int main(void)
{
	char line[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *arg = strchr(line, ' ');
		long kb = arg ? strtol(arg + 1, NULL, 10) : 0;
		if (strncmp(line, "grow-heap ", 10) == 0)
			grow_heap(kb);
		else if (strncmp(line, "mmap-anon ", 10) == 0)
			mmap_anon(kb);
		else if (strncmp(line, "mmap-apart ", 11) == 0)
			mmap_apart(kb);
		else if (strcmp(line, "split-apart") == 0)
			protect_apart(true);
		else if (strcmp(line, "join-apart") == 0)
			protect_apart(false);
		else if (strcmp(line, "unmap-apart") == 0)
			unmap_apart();
		else if (strncmp(line, "rename ", 7) == 0)
			printf(prctl(PR_SET_NAME, line + 7) == 0 ? "ok\n" : "error prctl\n");
		else
			printf("error unknown command '%s'\n", line);
	}
	return 0;
}
