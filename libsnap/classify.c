/* Region kinds. Rules follow ../shared/notes/smaps-semantics.md §3 and
 * §4.3: names first, then neighbour rules for unnamed memory. */
#include <string.h>

#include "internal.h"

#define ARENA_SPAN (64ull << 20) /* glibc HEAP_MAX_SIZE on 64-bit */
#define GUARD_MAX (1ull << 20)   /* thread guard pages are small */

static const char *const kind_names[SNAP_KIND_COUNT] = {
	[SNAP_KIND_EXE] = "exe",
	[SNAP_KIND_LIB] = "lib",
	[SNAP_KIND_FILE] = "file",
	[SNAP_KIND_HEAP] = "heap",
	[SNAP_KIND_STACK] = "stack",
	[SNAP_KIND_THREAD_STACK] = "thread-stack",
	[SNAP_KIND_ARENA] = "arena",
	[SNAP_KIND_ANON] = "anon",
	[SNAP_KIND_ANON_NAMED] = "anon-named",
	[SNAP_KIND_SHMEM] = "shmem",
	[SNAP_KIND_SPECIAL] = "special",
	[SNAP_KIND_GUARD] = "guard",
};

const char *snap_kind_name(enum snap_kind kind)
{
	return (unsigned)kind < SNAP_KIND_COUNT ? kind_names[kind] : "?";
}

int snap_kind_parse(const char *name)
{
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

size_t snap_path_undeleted(const snap_region *r, bool *deleted)
{
	static const char suffix[] = " (deleted)";
	size_t n = r->path_len, s = sizeof(suffix) - 1;
	bool del = n > s && memcmp(r->path + n - s, suffix, s) == 0;
	if (deleted)
		*deleted = del;
	return del ? n - s : n;
}

static bool starts_with(const snap_region *r, const char *prefix)
{
	size_t n = strlen(prefix);
	return r->path_len >= n && memcmp(r->path, prefix, n) == 0;
}

static bool is_shmem(const snap_region *r)
{
	if (r->perms[3] == 's')
		return true;
	return starts_with(r, "/dev/shm/") || starts_with(r, "/memfd:") ||
	       starts_with(r, "/SYSV") || starts_with(r, "[anon_shmem:") ||
	       strcmp(r->path, "/dev/zero (deleted)") == 0;
}

/* "libc.so.6", "ld-linux-x86-64.so.2", "_ssl.cpython-311-x86_64-linux-gnu.so" */
static bool is_shared_object(const snap_region *r)
{
	size_t n = snap_path_undeleted(r, NULL);
	const char *base = r->path;
	for (size_t i = 0; i < n; i++)
		if (r->path[i] == '/')
			base = r->path + i + 1;
	size_t blen = n - (size_t)(base - r->path);
	for (size_t i = 0; i + 3 <= blen; i++)
		if (memcmp(base + i, ".so", 3) == 0 &&
		    (i + 3 == blen || base[i + 3] == '.'))
			return true;
	return false;
}

static bool same_path(const snap_region *r, const char *path)
{
	size_t n = snap_path_undeleted(r, NULL);
	return path && strlen(path) == n && memcmp(r->path, path, n) == 0;
}

/* The executable: the file named by /proc/PID/exe; without it (a saved
 * smaps), the file mapped at the lowest address when it is no library. */
static const char *exe_path(const snap_snapshot *snap)
{
	if (snap->process.exe)
		return snap->process.exe;
	if (snap->nregions && snap->regions[0].path[0] == '/' &&
	    snap->regions[0].inode != 0 && !is_shared_object(&snap->regions[0]))
		return snap->regions[0].path;
	return NULL;
}

static enum snap_kind by_name(const snap_snapshot *snap, const snap_region *r,
			      const char *exe)
{
	const char *p = r->path;
	if (is_shmem(r))
		return SNAP_KIND_SHMEM;
	if (p[0] == '/')
		return same_path(r, exe) ? SNAP_KIND_EXE
		       : is_shared_object(r) ? SNAP_KIND_LIB : SNAP_KIND_FILE;
	if (strcmp(p, "[heap]") == 0)
		return SNAP_KIND_HEAP;
	if (strcmp(p, "[stack]") == 0)
		return SNAP_KIND_STACK;
	if (starts_with(r, "[anon:"))
		return SNAP_KIND_ANON_NAMED;
	(void)snap;
	return SNAP_KIND_SPECIAL; /* [vdso], [vvar], anon_inode:..., ... */
}

static bool unnamed(const snap_region *r)
{
	return r->path_len == 0;
}

static bool is_arena_start(const snap_region *r, const snap_region *next)
{
	if (strcmp(r->perms, "rw-p") != 0 || r->start % ARENA_SPAN != 0)
		return false;
	/* glibc maps heaps MAP_NORESERVE: "nr", never "ac". A plain 64 MiB
	 * mmap that lands aligned is no arena. */
	if (r->vmflags && (!snap_region_has_flag(r, "nr") ||
			   snap_region_has_flag(r, "ac")))
		return false;
	if (r->end - r->start == ARENA_SPAN)
		return true;
	return next && unnamed(next) && strcmp(next->perms, "---p") == 0 &&
	       next->start == r->end && next->end - r->start == ARENA_SPAN;
}

static bool is_thread_stack(const snap_region *r, const snap_region *prev)
{
	return strcmp(r->perms, "rw-p") == 0 && prev && unnamed(prev) &&
	       strcmp(prev->perms, "---p") == 0 && prev->end == r->start &&
	       prev->end - prev->start <= GUARD_MAX;
}

/* A thread's stack pointer is inside it: the surest sign of a thread
 * stack, with or without a guard page below. */
static bool holds_thread_sp(const snap_snapshot *snap, const snap_region *r)
{
	if (r->perms[0] != 'r' || r->perms[1] != 'w')
		return false;
	for (size_t i = 0; i < snap->process.nthread_sp; i++) {
		uint64_t sp = snap->process.thread_sp[i];
		if (sp >= r->start && sp < r->end)
			return true;
	}
	return false;
}

void snap_classify(const snap_snapshot *snap, enum snap_kind *kinds)
{
	const char *exe = exe_path(snap);
	size_t n = snap->nregions;
	for (size_t i = 0; i < n; i++) {
		const snap_region *r = &snap->regions[i];
		const snap_region *prev = i ? &snap->regions[i - 1] : NULL;
		const snap_region *next = i + 1 < n ? &snap->regions[i + 1] : NULL;
		if (!unnamed(r)) {
			kinds[i] = by_name(snap, r, exe);
		} else if (i && kinds[i - 1] == SNAP_KIND_ARENA &&
			   strcmp(r->perms, "---p") == 0 && prev->end == r->start &&
			   prev->start % ARENA_SPAN == 0) {
			kinds[i] = SNAP_KIND_ARENA; /* the reserved tail */
		} else if (is_arena_start(r, next)) {
			kinds[i] = SNAP_KIND_ARENA;
		} else if (is_thread_stack(r, prev) || holds_thread_sp(snap, r)) {
			kinds[i] = SNAP_KIND_THREAD_STACK;
		} else if (strcmp(r->perms, "---p") == 0) {
			kinds[i] = SNAP_KIND_GUARD;
		} else {
			kinds[i] = SNAP_KIND_ANON;
		}
	}
}
