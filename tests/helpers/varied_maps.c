/* A workload with many kinds of mappings, for comparing views with pmap:
 * varied_maps DIR [ARG...] maps files it creates under DIR (read-only,
 * private written, shared, executable, deleted, names with a space, a TAB
 * and UTF-8, a path over 127 bytes), anonymous memory (rw, PROT_NONE, -w-,
 * --x, rwx, NORESERVE, shared), SysV shm, a memfd and a thread stack.
 * Prints "ready <pid>", waits until stdin closes, then removes its files.
 * Extra arguments are ignored (they show up in the command line). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#define KB 1024

static const char *dir;
static char long_dir[512];
static int thread_pipe[2];

static void die(const char *what)
{
	fprintf(stderr, "varied_maps: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A file of size bytes whose pages are written back before anyone looks:
 * dirty page cache would turn clean (and change Dirty) mid-comparison. */
static int make_file(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	char block[4 * KB];
	for (size_t off = 0; off < size; off += sizeof(block)) {
		memset(block, (int)(off / sizeof(block)) + 'a', sizeof(block));
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			die(path);
	}
	if (fsync(fd) != 0)
		die(path);
	return fd;
}

static char *map_file(const char *name, size_t size, int prot, int flags)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = make_file(path, size);
	char *p = mmap(NULL, size, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		die(path);
	close(fd);
	return p;
}

static char *map_anon(size_t size, int prot, int flags)
{
	char *p = mmap(NULL, size, prot, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon");
	return p;
}

static void touch(char *p, size_t size)
{
	for (size_t off = 0; off < size; off += 4 * KB)
		p[off] = 1;
}

static void map_files(void)
{
	volatile char sum = 0;
	char *ro = map_file("ro.bin", 16 * KB, PROT_READ, MAP_PRIVATE);
	sum += ro[0];
	char *rw = map_file("rw.bin", 16 * KB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	touch(rw, 8 * KB);
	char *shared = map_file("shared.bin", 16 * KB, PROT_READ | PROT_WRITE, MAP_SHARED);
	touch(shared, 8 * KB);
	if (msync(shared, 16 * KB, MS_SYNC) != 0)
		die("msync");
	char *exec = map_file("exec.bin", 8 * KB, PROT_READ | PROT_EXEC, MAP_PRIVATE);
	sum += exec[0];
	char *spaced = map_file("with space.bin", 8 * KB, PROT_READ, MAP_PRIVATE);
	sum += spaced[0];
	map_file("tab\there.bin", 4 * KB, PROT_READ, MAP_PRIVATE);
	map_file("caf\xc3\xa9.bin", 4 * KB, PROT_READ, MAP_PRIVATE);
	char *deleted = map_file("deleted.bin", 8 * KB, PROT_READ, MAP_PRIVATE);
	sum += deleted[0];
	char path[1024];
	snprintf(path, sizeof(path), "%s/deleted.bin", dir);
	unlink(path);
	/* A path over 127 bytes: pmap 4.0.2 -X shows a directory name. */
	snprintf(long_dir, sizeof(long_dir), "%s/a_long_directory_name_%0100d", dir, 0);
	if (mkdir(long_dir, 0700) != 0)
		die(long_dir);
	char name[256];
	snprintf(name, sizeof(name), "%s/long_file_name.bin", strrchr(long_dir, '/') + 1);
	map_file(name, 4 * KB, PROT_READ, MAP_PRIVATE);
}

static void map_anonymous(void)
{
	touch(map_anon(256 * KB, PROT_READ | PROT_WRITE, MAP_PRIVATE), 64 * KB);
	map_anon(64 * KB, PROT_NONE, MAP_PRIVATE);
	map_anon(8 * KB, PROT_WRITE, MAP_PRIVATE);
	map_anon(8 * KB, PROT_EXEC, MAP_PRIVATE);
	touch(map_anon(12 * KB, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE), 12 * KB);
	map_anon(1024 * 1024 * KB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
	touch(map_anon(32 * KB, PROT_READ | PROT_WRITE, MAP_SHARED), 16 * KB);
	char *locked = map_anon(16 * KB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	touch(locked, 16 * KB);
	mlock(locked, 16 * KB); /* best effort: RLIMIT_MEMLOCK may refuse */
}

static void map_shared_memory(void)
{
	/* Removed at once: the segment lives while attached, and nothing is
	 * left behind if this process is killed. */
	int id = shmget(IPC_PRIVATE, 64 * KB, IPC_CREAT | 0600);
	if (id < 0)
		die("shmget");
	char *shm = shmat(id, NULL, 0);
	if (shm == (void *)-1)
		die("shmat");
	shmctl(id, IPC_RMID, NULL);
	touch(shm, 16 * KB);
	int fd = memfd_create("varied_memfd", 0);
	if (fd < 0 || ftruncate(fd, 32 * KB) != 0)
		die("memfd");
	char *memfd = mmap(NULL, 32 * KB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (memfd == MAP_FAILED)
		die("mmap memfd");
	close(fd);
	touch(memfd, 8 * KB);
}

static void *thread_main(void *arg)
{
	char c;
	(void)arg;
	while (read(thread_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void remove_files(void)
{
	static const char *const names[] = {
		"ro.bin", "rw.bin", "shared.bin", "exec.bin", "with space.bin",
		"tab\there.bin", "caf\xc3\xa9.bin",
	};
	char path[1024];
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/long_file_name.bin", long_dir);
	unlink(path);
	rmdir(long_dir);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: varied_maps DIR [ARG...]\n");
		return 2;
	}
	dir = argv[1];
	map_files();
	map_anonymous();
	map_shared_memory();
	pthread_t thread;
	if (pipe(thread_pipe) != 0 || pthread_create(&thread, NULL, thread_main, NULL) != 0)
		die("thread");
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	close(thread_pipe[1]);
	pthread_join(thread, NULL);
	remove_files();
	return 0;
}
