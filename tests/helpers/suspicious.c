/* A workload that provokes, on command, each warning sign `mapsnap
 * check` looks for, for the end-to-end tests of check and summary.
 *
 *   suspicious [LIB]    LIB defaults to libz.so.1 (libm.so.6 when absent)
 *
 * It loads LIB, prints "ready <pid> <lib path>", then reads one command
 * per line on stdin and answers "ok ..." (or "error ...") after each:
 *
 *   deleted-file      map a 64 KB data file read-only, then delete it:
 *                     answers "ok <path>"
 *   deleted-lib       copy LIB to a temporary directory, dlopen the copy
 *                     and delete it (a library upgraded under a running
 *                     process; also LIB loaded from two files)
 *   dlmopen           dlmopen LIB into a new namespace (one file, twice)
 *   rwx KB            map KB of anonymous memory rwx and touch it:
 *                     answers "ok <start>" in hex
 *   patch-code        rewrite one byte of this program's code in place
 *                     (as a debugger's breakpoint does): "ok <address>"
 *   threads N         start N threads that block until exit
 *   sparse-heap KB    grow the brk heap by KB, touching one page in 64
 *   small-maps N      map N separate 16 KB anonymous regions, touched
 *   big-anon KB       map KB of anonymous memory and write all of it:
 *                     answers "ok <start>" in hex
 *
 * It exits when stdin closes, removing what it created. */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KB 1024

static char lib_path[4096];
static char tmp_dir[64];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static void touch(char *p, size_t len, size_t step)
{
	for (size_t i = 0; i < len; i += step)
		p[i] = 1;
}

/* A private directory for the files made here, created on first use. */
static const char *work_dir(void)
{
	if (!tmp_dir[0]) {
		strcpy(tmp_dir, "/tmp/mapsnap-suspicious-XXXXXX");
		if (!mkdtemp(tmp_dir))
			tmp_dir[0] = '\0';
	}
	return tmp_dir[0] ? tmp_dir : NULL;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	static char buf[65536];
	ssize_t n = 0;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	/* Written back first: dirty page cache counts as Private_Dirty. */
	if (out >= 0 && fsync(out) != 0)
		n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

static void deleted_file(void)
{
	char path[4200];
	static char block[64 * KB];
	const char *dir = work_dir();
	snprintf(path, sizeof(path), "%s/data.bin", dir ? dir : "/nonexistent");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(block, 'd', sizeof(block));
	if (fd < 0 || write(fd, block, sizeof(block)) != (ssize_t)sizeof(block) ||
	    fsync(fd) != 0) {
		printf("error deleted-file\n");
		return;
	}
	volatile char *p = mmap(NULL, sizeof(block), PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("error mmap\n");
		return;
	}
	(void)p[0];
	unlink(path);
	printf("ok %s\n", path);
}

static void deleted_lib(void)
{
	char path[4200];
	const char *dir = work_dir(), *base = strrchr(lib_path, '/');
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/nonexistent",
		 base ? base + 1 : lib_path);
	if (copy_file(lib_path, path) < 0 || !dlopen(path, RTLD_NOW)) {
		printf("error deleted-lib %s\n", dlerror() ? dlerror() : "copy failed");
		return;
	}
	unlink(path);
	printf("ok %s\n", path);
}

static void load_namespace(void)
{
	if (!dlmopen(LM_ID_NEWLM, lib_path, RTLD_NOW)) {
		printf("error dlmopen %s\n", dlerror());
		return;
	}
	printf("ok\n");
}

/* An anonymous mapping with a free page on either side, so the kernel
 * never merges it with a neighbour of the same protection (the regions
 * mapped before and after it land wherever the allocator puts them). */
static char *map_anon(long kb, int prot)
{
	size_t page = (size_t)page_size(), len = (size_t)kb * KB;
	char *hole = mmap(NULL, len + 2 * page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, len + 2 * page) != 0)
		return NULL;
	char *p = mmap(hole + page, len, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void rwx(long kb)
{
	char *p = map_anon(kb, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (!p) {
		printf("error mmap\n");
		return;
	}
	touch(p, (size_t)kb * KB, (size_t)page_size());
	printf("ok %lx\n", (unsigned long)p);
}

/* Writes a byte of code back unchanged: the page is copied on write and
 * becomes Private_Dirty in the r-xp mapping, as a breakpoint leaves it. */
static void patch_code(void)
{
	uintptr_t mask = ~(uintptr_t)(page_size() - 1);
	volatile unsigned char *code = (volatile unsigned char *)(uintptr_t)&patch_code;
	void *page = (void *)((uintptr_t)code & mask);
	if (mprotect(page, (size_t)page_size(), PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
		printf("error mprotect\n");
		return;
	}
	code[0] = code[0];
	mprotect(page, (size_t)page_size(), PROT_READ | PROT_EXEC);
	printf("ok %lx\n", (unsigned long)page);
}

static void *idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

static void start_threads(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, idle, NULL) != 0) {
			printf("error pthread_create\n");
			return;
		}
		pthread_detach(t);
	}
	printf("ok\n");
}

static void sparse_heap(long kb)
{
	char *p = sbrk(kb * KB);
	if (p == (void *)-1) {
		printf("error sbrk\n");
		return;
	}
	touch(p, (size_t)kb * KB, (size_t)page_size() * 64);
	printf("ok %lx\n", (unsigned long)p);
}

/* Separate regions: each lands in the middle of its slot of a
 * reservation, so none is adjacent to another or to a mapping outside
 * (the kernel would merge them) and none sits on a PROT_NONE page (that
 * would look like a thread stack). */
static void small_maps(long n)
{
	size_t slot = 32 * KB, len = 16 * KB, gap = (slot - len) / 2;
	char *base = mmap(NULL, (size_t)n * slot, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED || munmap(base, (size_t)n * slot) != 0) {
		printf("error mmap\n");
		return;
	}
	for (long i = 0; i < n; i++) {
		char *p = mmap(base + (size_t)i * slot + gap, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED) {
			printf("error mmap %ld\n", i);
			return;
		}
		touch(p, len, (size_t)page_size());
	}
	printf("ok %lx\n", (unsigned long)(base + gap)); /* the first region */
}

static void big_anon(long kb)
{
	char *p = map_anon(kb, PROT_READ | PROT_WRITE);
	if (!p) {
		printf("error mmap\n");
		return;
	}
	memset(p, 7, (size_t)kb * KB);
	printf("ok %lx\n", (unsigned long)p);
}

static void run(const char *cmd, long arg, bool has_arg)
{
	if (strcmp(cmd, "deleted-file") == 0)
		deleted_file();
	else if (strcmp(cmd, "deleted-lib") == 0)
		deleted_lib();
	else if (strcmp(cmd, "dlmopen") == 0)
		load_namespace();
	else if (strcmp(cmd, "rwx") == 0)
		rwx(has_arg ? arg : 64);
	else if (strcmp(cmd, "patch-code") == 0)
		patch_code();
	else if (strcmp(cmd, "threads") == 0)
		start_threads(has_arg ? arg : 1);
	else if (strcmp(cmd, "sparse-heap") == 0)
		sparse_heap(has_arg ? arg : 32768);
	else if (strcmp(cmd, "small-maps") == 0)
		small_maps(has_arg ? arg : 300);
	else if (strcmp(cmd, "big-anon") == 0)
		big_anon(has_arg ? arg : 16384);
	else
		printf("error unknown command '%s'\n", cmd);
}

static int open_lib(const char *name)
{
	struct link_map *map;
	void *lib = dlopen(name, RTLD_NOW);
	if (!lib || dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0)
		return -1;
	snprintf(lib_path, sizeof(lib_path), "%s", map->l_name);
	return 0;
}

int main(int argc, char **argv)
{
	if (open_lib(argc > 1 ? argv[1] : "libz.so.1") < 0 &&
	    (argc > 1 || open_lib("libm.so.6") < 0)) {
		fprintf(stderr, "suspicious: cannot load a library: %s\n", dlerror());
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %ld %s\n", (long)getpid(), lib_path);
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[64];
		long arg = 0;
		int n = sscanf(line, "%63s %ld", cmd, &arg);
		if (n >= 1)
			run(cmd, arg, n == 2);
	}
	if (tmp_dir[0])
		rmdir(tmp_dir);
	/* Threads are blocked for good: leave without exit handlers. */
	_exit(0);
}
