/* A workload that builds memory layouts on command, one mapping at a
 * time and at addresses the test chooses, so every change a diff reports
 * can be predicted exactly (tests/test_layouts.c).
 *
 *   layouts
 *
 * At start it settles: every page of its file mappings is read, every
 * writable private page written once, its stack and brk heap touched
 * deep enough, so that later commands move no counter but their own.
 * Prints "ready <pid>", then reads one command per line and answers
 * "ok ..." (addresses in hex) or "error ...":
 *
 *   span KB            a free range of KB (mapped, then unmapped): "ok START"
 *   anon ADDR KB       rw-p anonymous memory at ADDR, every page touched
 *   noaccess ADDR KB   mprotect PROT_NONE
 *   readonly ADDR KB   mprotect PROT_READ
 *   unmap ADDR KB      munmap
 *   file PATH ADDR     map PATH read-only (private) at ADDR, read every page:
 *                      "ok START END"
 *   fill-above ADDR    map no-access memory into every free gap between
 *                      ADDR and the highest mapping below [stack], so that
 *                      the kernel's top-down search for a new mapping finds
 *                      a hole below ADDR first: "ok COUNT"
 *   thread             a thread with default attributes (glibc allocates
 *                      its stack), blocked in read(2) until exit:
 *                      "ok GUARD_START STACK_START STACK_END"
 *   dlopen PATH        "ok START END": the span of the library's mappings
 *   dlmopen PATH       load PATH again in a new link-map namespace: "ok"
 *
 * It exits when stdin closes. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KB 1024ul
#define PAGE 4096ul

static int block_pipe[2]; /* threads read it; nobody writes */

static void reply_error(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
}

static void touch(volatile char *p, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/* ---- settling ---- */

struct mapping {
	uintptr_t start, end;
	char perms[5];
	bool named, file, stack;
};

static bool next_mapping(FILE *f, struct mapping *m)
{
	char line[4400], path[4200] = "";
	unsigned long start, end, inode;
	if (!fgets(line, sizeof(line), f))
		return false;
	int n = sscanf(line, "%lx-%lx %4s %*s %*s %lu %4199[^\n]", &start, &end,
		       m->perms, &inode, path);
	if (n < 4)
		return false;
	m->start = start;
	m->end = end;
	m->named = n == 5 && path[0];
	m->file = inode != 0;
	m->stack = strcmp(path, "[stack]") == 0;
	return true;
}

/* Reads every page of readable file mappings (so no code page faults in
 * later) and writes every page of writable private ones (so none turns
 * dirty later). The stack is settled apart. */
static void settle_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	struct mapping m;
	static struct mapping list[256];
	size_t n = 0;
	while (f && n < 256 && next_mapping(f, &m))
		list[n++] = m;
	if (f)
		fclose(f);
	for (size_t i = 0; i < n; i++) {
		volatile char *p = (volatile char *)list[i].start;
		bool writable = list[i].perms[1] == 'w' && list[i].perms[3] == 'p';
		if (list[i].perms[0] != 'r' || list[i].stack)
			continue;
		if (!list[i].file && !writable)
			continue;
		for (uintptr_t a = list[i].start; a < list[i].end; a += PAGE, p += PAGE) {
			char c = *p;
			if (writable)
				*p = c;
		}
	}
}

/* The top 1 MiB of [stack], every page written (each keeps its value):
 * deep enough for dlopen and pthread_create, and the same Size and Rss
 * in every run, whatever random offset the kernel gave the first frame. */
static void settle_stack(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	struct mapping m;
	uintptr_t end = 0;
	while (f && !end && next_mapping(f, &m))
		if (m.stack)
			end = m.end;
	if (f)
		fclose(f);
	for (volatile char *p = (volatile char *)(end - 1024 * KB); end && p < (char *)end;
	     p += PAGE) {
		char c = *p;
		*p = c;
	}
}

/* malloc serves what dlopen and pthread_create ask for from pages that
 * are already resident, and never gives memory back. */
static void settle_heap(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	static char *volatile kept; /* or the compiler drops the malloc */
	kept = malloc(2 << 20);
	if (kept)
		touch(kept, 2 << 20);
	free(kept);
}

/* ---- commands ---- */

static void span(unsigned long kb)
{
	void *p = mmap(NULL, kb * KB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, kb * KB) != 0) {
		reply_error("span");
		return;
	}
	printf("ok %lx\n", (unsigned long)p);
}

static void anon_at(uintptr_t addr, unsigned long kb)
{
	char *p = mmap((void *)addr, kb * KB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || (uintptr_t)p != addr) {
		reply_error("anon");
		return;
	}
	touch(p, kb * KB);
	printf("ok %lx %lx\n", (unsigned long)p, (unsigned long)(p + kb * KB));
}

static void protect(uintptr_t addr, unsigned long kb, int prot)
{
	if (mprotect((void *)addr, kb * KB, prot) != 0) {
		reply_error("mprotect");
		return;
	}
	printf("ok\n");
}

static void unmap(uintptr_t addr, unsigned long kb)
{
	if (munmap((void *)addr, kb * KB) != 0) {
		reply_error("munmap");
		return;
	}
	printf("ok\n");
}

static void file_at(const char *path, uintptr_t addr)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		reply_error(path);
		return;
	}
	size_t len = ((size_t)st.st_size + PAGE - 1) & ~(PAGE - 1);
	char *p = mmap((void *)addr, len, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE,
		       fd, 0);
	close(fd);
	if (p == MAP_FAILED || (uintptr_t)p != addr) {
		reply_error("mmap file");
		return;
	}
	volatile char sum = 0;
	for (size_t off = 0; off < len; off += PAGE)
		sum += p[off];
	(void)sum;
	printf("ok %lx %lx\n", (unsigned long)p, (unsigned long)(p + len));
}

static void fill_above(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	static struct mapping list[256];
	size_t n = 0, filled = 0;
	struct mapping m;
	while (f && n < 256 && next_mapping(f, &m))
		list[n++] = m;
	if (f)
		fclose(f);
	/* The gap right below [stack] is where the stack grows: left alone,
	 * and nothing above it is searched by mmap. */
	for (size_t i = 0; i + 1 < n && !list[i + 1].stack; i++) {
		uintptr_t lo = list[i].end, hi = list[i + 1].start;
		if (lo < addr || hi <= lo)
			continue;
		if (mmap((void *)lo, hi - lo, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		    MAP_FAILED) {
			reply_error("fill");
			return;
		}
		filled++;
	}
	printf("ok %zu\n", filled);
}

static void *blocked(void *arg)
{
	(void)arg;
	char c;
	while (read(block_pipe[0], &c, 1) != 0)
		;
	return NULL;
}

static void start_thread(void)
{
	pthread_t t;
	pthread_attr_t attr;
	void *stack;
	size_t size, guard;
	if (pthread_create(&t, NULL, blocked, NULL) != 0 ||
	    pthread_getattr_np(t, &attr) != 0) {
		reply_error("pthread");
		return;
	}
	pthread_attr_getstack(&attr, &stack, &size);
	pthread_attr_getguardsize(&attr, &guard);
	pthread_attr_destroy(&attr);
	uintptr_t lo = (uintptr_t)stack;
	printf("ok %lx %lx %lx\n", (unsigned long)(lo - guard), (unsigned long)lo,
	       (unsigned long)(lo + size));
}

struct lib_span {
	const char *path;
	uintptr_t lo, hi;
};

static int lib_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct lib_span *s = data;
	if (strcmp(info->dlpi_name, s->path) != 0)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(PAGE - 1);
		uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + PAGE - 1) &
			       ~(PAGE - 1);
		if (!s->lo || lo < s->lo)
			s->lo = lo;
		if (hi > s->hi)
			s->hi = hi;
	}
	return 1;
}

static void load(const char *path)
{
	if (!dlopen(path, RTLD_NOW)) {
		printf("error dlopen %s\n", dlerror());
		return;
	}
	struct lib_span s = { path, 0, 0 };
	dl_iterate_phdr(lib_segments, &s);
	printf("ok %lx %lx\n", (unsigned long)s.lo, (unsigned long)s.hi);
}

/* A second load of a library (or another build of one soname), as a
 * process isolating a plugin would. */
static void load_isolated(const char *path)
{
	if (!dlmopen(LM_ID_NEWLM, path, RTLD_NOW)) {
		printf("error dlmopen %s\n", dlerror());
		return;
	}
	printf("ok\n");
}

static void run(char *line)
{
	char cmd[32], arg1[4200] = "", arg2[64] = "";
	int n = sscanf(line, "%31s %4199s %63s", cmd, arg1, arg2);
	uintptr_t a1 = (uintptr_t)strtoull(arg1, NULL, 16);
	unsigned long kb2 = strtoul(arg2, NULL, 10);
	if (n >= 2 && strcmp(cmd, "span") == 0)
		span(strtoul(arg1, NULL, 10));
	else if (n == 3 && strcmp(cmd, "anon") == 0)
		anon_at(a1, kb2);
	else if (n == 3 && strcmp(cmd, "noaccess") == 0)
		protect(a1, kb2, PROT_NONE);
	else if (n == 3 && strcmp(cmd, "readonly") == 0)
		protect(a1, kb2, PROT_READ);
	else if (n == 3 && strcmp(cmd, "unmap") == 0)
		unmap(a1, kb2);
	else if (n == 3 && strcmp(cmd, "file") == 0)
		file_at(arg1, (uintptr_t)strtoull(arg2, NULL, 16));
	else if (n == 2 && strcmp(cmd, "fill-above") == 0)
		fill_above(a1);
	else if (n == 1 && strcmp(cmd, "thread") == 0)
		start_thread();
	else if (n == 2 && strcmp(cmd, "dlopen") == 0)
		load(arg1);
	else if (n == 2 && strcmp(cmd, "dlmopen") == 0)
		load_isolated(arg1);
	else
		printf("error unknown command '%s'\n", line);
}

int main(void)
{
	if (pipe(block_pipe) != 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	static char line[4400];
	settle_heap();
	settle_stack();
	settle_mappings();
	printf("ready %ld\n", (long)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		run(line);
	}
	/* Threads are blocked for good: leave without exit handlers. */
	_exit(0);
}
