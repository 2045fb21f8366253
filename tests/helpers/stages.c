/* A workload that changes its own memory map in stages, on command, for
 * the end-to-end tests of `mapsnap diff` and `mapsnap around`.
 *
 *   stages [LIB]      LIB defaults to libz.so.1 (libm.so.6 when absent)
 *
 * It loads LIB, prints "ready <pid> <lib path>", then reads one command
 * per line on stdin and answers "ok ..." (or "error ...") after each:
 *
 *   grow-heap [KB]    sbrk the brk heap by KB (default 8192) and touch it
 *   mmap-anon [KB]    mmap anonymous memory (default 65536 KB), touch it;
 *                     answers "ok <start> <end>" in hex
 *   mmap-apart KB     mmap KB of anonymous memory between two no-access
 *                     pages (so it never merges with the next one), touch
 *                     it; answers "ok <start> <end>" of the memory in hex
 *   munmap            unmap the last mmap-anon region
 *   reserve KB        reserve KB of address space (PROT_NONE, nothing
 *                     committed, as V8 and PartitionAlloc do): "ok <start>"
 *   load-copy         copy LIB into a temporary directory and dlopen the
 *                     copy (another inode): answers "ok <copy path>"
 *   dlmopen           dlmopen LIB again into a new link-map namespace
 *   threads N         start N threads that block until exit
 *   arena             start a thread that mallocs 100 KB (below the mmap
 *                     threshold): glibc gives it a new malloc arena
 *
 * It exits when stdin closes, removing the copy. */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_MAPS 64

static void *lib;
static char lib_path[4096];
static char copy_dir[64], copy_path[4200];
static struct { char *start; size_t len; } maps[MAX_MAPS];
static int nmaps;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

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
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (p == MAP_FAILED || nmaps == MAX_MAPS) {
		printf("error mmap\n");
		return;
	}
	touch(p, len);
	maps[nmaps].start = p;
	maps[nmaps++].len = len;
	printf("ok %lx %lx\n", (unsigned long)p, (unsigned long)(p + len));
}

static void mmap_apart(long kb)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (size_t)kb * 1024;
	char *p = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + page, len, PROT_READ | PROT_WRITE) != 0) {
		printf("error mmap\n");
		return;
	}
	touch(p + page, len);
	printf("ok %lx %lx\n", (unsigned long)(p + page), (unsigned long)(p + page + len));
}

static void reserve(long kb)
{
	char *p = mmap(NULL, (size_t)kb * 1024, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		printf("error mmap\n");
		return;
	}
	printf("ok %lx\n", (unsigned long)p);
}

static void unmap_last(void)
{
	if (!nmaps || munmap(maps[nmaps - 1].start, maps[nmaps - 1].len) != 0) {
		printf("error munmap\n");
		return;
	}
	nmaps--;
	printf("ok %lx %lx\n", (unsigned long)maps[nmaps].start,
	       (unsigned long)(maps[nmaps].start + maps[nmaps].len));
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	static char buf[65536]; /* not on the stack: the diff would see it */
	ssize_t n = 0;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

static void load_copy(void)
{
	const char *base = strrchr(lib_path, '/');
	strcpy(copy_dir, "/tmp/mapsnap-stages-XXXXXX");
	if (!mkdtemp(copy_dir)) {
		printf("error mkdtemp\n");
		return;
	}
	snprintf(copy_path, sizeof(copy_path), "%s/%s", copy_dir, base ? base + 1 : lib_path);
	if (copy_file(lib_path, copy_path) < 0 || !dlopen(copy_path, RTLD_NOW)) {
		printf("error load-copy %s\n", dlerror() ? dlerror() : "copy failed");
		return;
	}
	printf("ok %s\n", copy_path);
}

static void load_namespace(void)
{
	if (!dlmopen(LM_ID_NEWLM, lib_path, RTLD_NOW)) {
		printf("error dlmopen %s\n", dlerror());
		return;
	}
	printf("ok\n");
}

static void *idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static bool allocated;
static char *volatile kept; /* so the compiler keeps the memset */

static void *allocate(void *arg)
{
	(void)arg;
	char *p = malloc(100000);
	if (p)
		memset(p, 1, 100000);
	kept = p;
	pthread_mutex_lock(&ready_lock);
	allocated = true;
	pthread_cond_signal(&ready_cond);
	pthread_mutex_unlock(&ready_lock);
	return idle(NULL);
}

static void start_arena(void)
{
	pthread_t t;
	allocated = false;
	if (pthread_create(&t, NULL, allocate, NULL) != 0) {
		printf("error pthread_create\n");
		return;
	}
	pthread_detach(t);
	pthread_mutex_lock(&ready_lock);
	while (!allocated)
		pthread_cond_wait(&ready_cond, &ready_lock);
	pthread_mutex_unlock(&ready_lock);
	printf("ok\n");
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

static void run(const char *cmd, long arg, bool has_arg)
{
	if (strcmp(cmd, "grow-heap") == 0)
		grow_heap(has_arg ? arg : 8192);
	else if (strcmp(cmd, "mmap-anon") == 0)
		mmap_anon(has_arg ? arg : 65536);
	else if (strcmp(cmd, "munmap") == 0)
		unmap_last();
	else if (strcmp(cmd, "mmap-apart") == 0 && has_arg)
		mmap_apart(arg);
	else if (strcmp(cmd, "reserve") == 0 && has_arg)
		reserve(arg);
	else if (strcmp(cmd, "load-copy") == 0)
		load_copy();
	else if (strcmp(cmd, "dlmopen") == 0)
		load_namespace();
	else if (strcmp(cmd, "threads") == 0)
		start_threads(has_arg ? arg : 1);
	else if (strcmp(cmd, "arena") == 0)
		start_arena();
	else
		printf("error unknown command '%s'\n", cmd);
}

static int open_lib(const char *name)
{
	struct link_map *map;
	lib = dlopen(name, RTLD_NOW);
	if (!lib || dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0)
		return -1;
	snprintf(lib_path, sizeof(lib_path), "%s", map->l_name);
	return 0;
}

int main(int argc, char **argv)
{
	if (open_lib(argc > 1 ? argv[1] : "libz.so.1") < 0 &&
	    (argc > 1 || open_lib("libm.so.6") < 0)) {
		fprintf(stderr, "stages: cannot load a library: %s\n", dlerror());
		return 1;
	}
	/* stdout buffers and the first heap pages exist before any capture */
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
	if (copy_path[0]) {
		unlink(copy_path);
		rmdir(copy_dir);
	}
	/* Threads are blocked for good: leave without exit handlers (a
	 * sanitizer runtime's leak check would try to stop them all). */
	_exit(0);
}
