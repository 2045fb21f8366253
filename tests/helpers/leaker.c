/* A workload for trend tests and benchmarks. Every 20 ms it:
 *   leaks:      mallocs and fills 16 KiB it never frees ([heap] grows
 *               steadily, about 800 KiB/s);
 *   plateaus:   touches 64 KiB more of an 8 MiB anonymous mapping, for
 *               the first 0.8 s only (then that mapping stays put);
 *   fluctuates: sets the resident part of another 8 MiB mapping to a
 *               pseudo-random 1..6 MiB (touching or dropping pages).
 * The two mappings sit between unmapped holes so the kernel cannot merge
 * them with anything. With "leaker N", it also maps N one-page regions
 * (alternating protections, so N VMAs) and drops or touches 16 random
 * writable ones each tick, for benchmarks that need many regions that
 * change.
 * Prints "ready PID PLATEAU_ADDR FLUCT_ADDR" (hex) and runs until stdin
 * closes.
 *
 * With "--step" it keeps no clock: each "tick K" line on stdin does K
 * ticks and answers "ok", and the plateau grows for the first 40 ticks
 * (what 0.8 s are at 20 ms). Tests drive it between snapshots, so that
 * what a series shows depends on events, not on how busy the machine is. */
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REGION (8L << 20)
#define TICK_MS 20

/* The leaked blocks are chained from here, so no compiler can prove
 * them dead and drop the allocations. */
static void *leaked;

static char *map_apart(size_t slots)
{
	/* Reserve, then keep every other slot: the gaps are holes. */
	char *base = mmap(NULL, slots * 2 * REGION, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	munmap(base, slots * 2 * REGION);
	for (size_t i = 0; i < slots; i++)
		if (mmap(base + (2 * i + 1) * REGION, REGION, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		    MAP_FAILED)
			return NULL;
	return base;
}

static char *many_regions(long count, long page)
{
	char *base = mmap(NULL, (size_t)(count * page), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (long i = 1; i < count; i += 2)
		if (mprotect(base + i * page, (size_t)page, PROT_READ) != 0)
			return NULL;
	return base;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void set_resident(char *region, long page, long pages)
{
	for (long i = 0; i < pages; i++)
		region[i * page] = 1;
	madvise(region + pages * page, (size_t)(REGION - pages * page), MADV_DONTNEED);
}

static void churn(char *many, long count, long page, unsigned *seed)
{
	for (int k = 0; k < 16 && count >= 2; k++) {
		long i = (long)(rand_r(seed) % (unsigned)(count / 2)) * 2;
		if (rand_r(seed) % 2)
			many[i * page] = 1;
		else
			madvise(many + i * page, (size_t)page, MADV_DONTNEED);
	}
}

struct leaker {
	char *plateau, *fluct, *many;
	long extra, page, plateau_pages;
	unsigned seed;
};

static void tick(struct leaker *lk, bool plateau_grows)
{
	void **leak = malloc(16 << 10);
	if (leak) {
		memset(leak, 0x5a, 16 << 10);
		*leak = leaked;
		leaked = leak;
	}
	if (plateau_grows && (lk->plateau_pages + 16) * lk->page <= REGION) {
		for (long i = 0; i < 16; i++)
			lk->plateau[(lk->plateau_pages + i) * lk->page] = 1;
		lk->plateau_pages += 16;
	}
	long mib = 1 + (long)(rand_r(&lk->seed) % 6);
	set_resident(lk->fluct, lk->page, mib * (1L << 20) / lk->page);
	churn(lk->many, lk->extra, lk->page, &lk->seed);
}

static void run_timed(struct leaker *lk)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd in = { 0, POLLIN, 0 };
		char buf[64];
		if (poll(&in, 1, TICK_MS) > 0 && read(0, buf, sizeof(buf)) <= 0)
			break;
		tick(lk, seconds_since(&t0) < 0.8);
	}
}

static void run_stepped(struct leaker *lk)
{
	char line[64];
	long ticks = 0;
	while (fgets(line, sizeof(line), stdin)) {
		long n = strncmp(line, "tick ", 5) == 0 ? strtol(line + 5, NULL, 10) : 0;
		for (long k = 0; k < n; k++, ticks++)
			tick(lk, ticks < 40);
		printf("ok\n");
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct leaker lk = { .page = sysconf(_SC_PAGESIZE), .seed = 12345 };
	bool stepped = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--step") == 0)
			stepped = true;
		else
			lk.extra = strtol(argv[i], NULL, 10);
	}
	char *base = map_apart(2);
	lk.many = lk.extra > 0 ? many_regions(lk.extra, lk.page) : NULL;
	if (!base || (lk.extra > 0 && !lk.many)) {
		perror("leaker: mmap");
		return 1;
	}
	lk.plateau = base + REGION;
	lk.fluct = base + 3 * REGION;
	printf("ready %ld %lx %lx\n", (long)getpid(), (unsigned long)(uintptr_t)lk.plateau,
	       (unsigned long)(uintptr_t)lk.fluct);
	fflush(stdout);
	if (stepped)
		run_stepped(&lk);
	else
		run_timed(&lk);
	return 0;
}
