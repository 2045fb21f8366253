/* Region kinds from evidence, strongest first: the kernel's names, the
 * threads' stack pointers, the MAP_STACK mark (VmFlags nh), the layout of
 * glibc arenas, then neighbours. Rules and their sources:
 * ../shared/notes/interpretation.md, smaps-semantics.md §3.6-3.7. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_SPAN (64ull << 20)      /* glibc HEAP_MAX_SIZE on 64-bit */
#define STACK_GUARD_MAX (1ull << 20)  /* pthread_attr_setguardsize can be large */
#define SMALL_GUARD_MAX (64ull << 10) /* a guard page elsewhere */
#define STACK_CACHE_MAX (40ull << 20) /* glibc's cache of exited threads' stacks */

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
	[SNAP_KIND_RESERVED] = "reserved",
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

static const struct {
	const char *name, *about;
} evidence_text[SNAP_EV_COUNT] = {
	[SNAP_EV_NAME] = { "name", "the kernel names it" },
	[SNAP_EV_EXE_PATH] = { "exe-path", "the file /proc/PID/exe names" },
	[SNAP_EV_FIRST_FILE] = { "first-file",
		"no exe recorded: the lowest-mapped file that is no library" },
	[SNAP_EV_SONAME] = { "soname", "a file named like a shared object, mapped private" },
	[SNAP_EV_FILE] = { "file", "a mapped file" },
	[SNAP_EV_SHMEM_NAME] = { "shmem-name",
		"a shared memory object (/dev/shm, memfd, SysV, shared anonymous)" },
	[SNAP_EV_SHARED_WRITABLE] = { "shared-writable",
		"a writable shared mapping of a file or device" },
	[SNAP_EV_STACK_POINTER] = { "stack-pointer",
		"a thread's stack pointer (/proc/PID/task/TID/syscall) is inside it" },
	[SNAP_EV_MAP_STACK] = { "map-stack",
		"MAP_STACK: VmFlags nh on it and on the no-access page below it" },
	[SNAP_EV_GUARD_PATTERN] = { "guard-pattern",
		"rw-p right above a small no-access page, within the process's thread count" },
	[SNAP_EV_OVER_THREADS] = { "over-threads",
		"shaped like a thread stack, but every thread's stack is accounted for" },
	[SNAP_EV_ARENA] = { "arena",
		"a 64 MiB-aligned MAP_NORESERVE heap of a glibc malloc arena" },
	[SNAP_EV_ARENA_RESERVE] = { "arena-reserve",
		"the no-access rest of a glibc arena heap's 64 MiB" },
	[SNAP_EV_STACK_GUARD] = { "stack-guard", "the no-access page right below a thread stack" },
	[SNAP_EV_SMALL_GUARD] = { "small-guard",
		"no access, 64 KiB or less, bordering accessible memory" },
	[SNAP_EV_RESERVATION] = { "reservation",
		"no access: address space reserved, nothing committed" },
	[SNAP_EV_IMAGE_GAP] = { "image-gap",
		"an unnamed no-access range between two segments of one loaded file" },
	[SNAP_EV_BSS] = { "bss",
		"anonymous memory right after a program's or library's writable segment (.bss)" },
	[SNAP_EV_EXEC_HEAP] = { "exec-heap",
		"named [heap] only because it covers the brk start; executable, so no brk heap" },
	[SNAP_EV_ANONYMOUS] = { "anonymous", "unnamed memory" },
};

const char *snap_evidence_name(enum snap_evidence ev)
{
	return (unsigned)ev < SNAP_EV_COUNT ? evidence_text[ev].name : "?";
}

const char *snap_evidence_about(enum snap_evidence ev)
{
	return (unsigned)ev < SNAP_EV_COUNT ? evidence_text[ev].about : "?";
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

/* ---- what one region says about itself ---- */

static bool starts_with(const snap_region *r, const char *prefix)
{
	size_t n = strlen(prefix);
	return r->path_len >= n && memcmp(r->path, prefix, n) == 0;
}

static bool unnamed(const snap_region *r)
{
	return r->path_len == 0;
}

static bool no_access(const snap_region *r)
{
	return strcmp(r->perms, "---p") == 0;
}

static bool accessible(const snap_region *r)
{
	return r->perms[0] != '-' || r->perms[1] != '-' || r->perms[2] != '-';
}

static bool read_write(const snap_region *r)
{
	return r->perms[0] == 'r' && r->perms[1] == 'w';
}

static uint64_t span(const snap_region *r)
{
	return r->end - r->start;
}

static bool shmem_object(const snap_region *r)
{
	return starts_with(r, "/dev/shm/") || starts_with(r, "/memfd:") ||
	       starts_with(r, "/SYSV") || starts_with(r, "[anon_shmem:") ||
	       strcmp(r->path, "/dev/zero (deleted)") == 0 ||
	       (r->perms[3] == 's' && unnamed(r));
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
 * smaps), the lowest file mapped private (as the kernel maps programs),
 * when it is no library. Anonymous mappings may lie below it (V8's cage). */
static const char *exe_path(const snap_snapshot *snap, enum snap_evidence *ev)
{
	*ev = SNAP_EV_EXE_PATH;
	if (snap->process.exe)
		return snap->process.exe;
	*ev = SNAP_EV_FIRST_FILE;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		if (r->path[0] != '/' || r->inode == 0 || r->perms[3] != 'p')
			continue;
		return is_shared_object(r) ? NULL : r->path;
	}
	return NULL;
}

struct verdict {
	enum snap_kind kind;
	enum snap_evidence ev;
};

static struct verdict file_kind(const snap_region *r, const char *exe,
				enum snap_evidence exe_ev)
{
	if (same_path(r, exe))
		return (struct verdict){ SNAP_KIND_EXE, exe_ev };
	/* A shared mapping of a library is data, not a load. */
	if (r->perms[3] == 'p' && is_shared_object(r))
		return (struct verdict){ SNAP_KIND_LIB, SNAP_EV_SONAME };
	return (struct verdict){ SNAP_KIND_FILE, SNAP_EV_FILE };
}

static struct verdict by_name(const snap_region *r, const char *exe,
			      enum snap_evidence exe_ev)
{
	if (shmem_object(r))
		return (struct verdict){ SNAP_KIND_SHMEM, SNAP_EV_SHMEM_NAME };
	if (r->perms[3] == 's' && r->perms[1] == 'w')
		return (struct verdict){ SNAP_KIND_SHMEM, SNAP_EV_SHARED_WRITABLE };
	if (r->path[0] == '/')
		return file_kind(r, exe, exe_ev);
	if (strcmp(r->path, "[heap]") == 0)
		return r->perms[2] == 'x'
			? (struct verdict){ SNAP_KIND_ANON, SNAP_EV_EXEC_HEAP }
			: (struct verdict){ SNAP_KIND_HEAP, SNAP_EV_NAME };
	if (strcmp(r->path, "[stack]") == 0)
		return (struct verdict){ SNAP_KIND_STACK, SNAP_EV_NAME };
	if (starts_with(r, "[anon:"))
		return (struct verdict){ SNAP_KIND_ANON_NAMED, SNAP_EV_NAME };
	return (struct verdict){ SNAP_KIND_SPECIAL, SNAP_EV_NAME };
}

/* ---- neighbours ---- */

struct pass {
	const snap_snapshot *snap;
	enum snap_kind *kinds;
	uint8_t *ev;
	snap_stack_evidence *stacks;
};

static const snap_region *at(const struct pass *p, size_t i)
{
	return i < p->snap->nregions ? &p->snap->regions[i] : NULL;
}

static void set(struct pass *p, size_t i, enum snap_kind kind, enum snap_evidence ev)
{
	p->kinds[i] = kind;
	p->ev[i] = (uint8_t)ev;
}

/* Region i - 1 ends where i starts. */
static bool touches_prev(const struct pass *p, size_t i)
{
	return i > 0 && at(p, i - 1)->end == at(p, i)->start;
}

static bool touches_next(const struct pass *p, size_t i)
{
	const snap_region *next = at(p, i + 1);
	return next && next->start == at(p, i)->end;
}

static bool same_file(const snap_region *a, const snap_region *b)
{
	return a->inode != 0 && a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
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
	return next && unnamed(next) && no_access(next) && next->start == r->end &&
	       next->end - r->start == ARENA_SPAN;
}

static void classify_arenas(struct pass *p)
{
	for (size_t i = 0; i < p->snap->nregions; i++) {
		const snap_region *r = at(p, i);
		if (!unnamed(r))
			continue;
		if (i && p->kinds[i - 1] == SNAP_KIND_ARENA && no_access(r) &&
		    touches_prev(p, i) && at(p, i - 1)->start % ARENA_SPAN == 0)
			set(p, i, SNAP_KIND_ARENA, SNAP_EV_ARENA_RESERVE);
		else if (is_arena_start(r, at(p, i + 1)))
			set(p, i, SNAP_KIND_ARENA, SNAP_EV_ARENA);
	}
}

/* An unnamed no-access range with segments of one file on both sides
 * (older ld.so leaves the gaps of a load anonymous). */
static void classify_image_gaps(struct pass *p)
{
	for (size_t i = 1; i + 1 < p->snap->nregions; i++) {
		const snap_region *r = at(p, i), *prev = at(p, i - 1), *next = at(p, i + 1);
		if (unnamed(r) && no_access(r) && p->kinds[i] == SNAP_KIND_ANON &&
		    touches_prev(p, i) && touches_next(p, i) && same_file(prev, next) &&
		    next->offset != 0 && p->kinds[i - 1] <= SNAP_KIND_FILE)
			set(p, i, p->kinds[i - 1], SNAP_EV_IMAGE_GAP);
	}
}

/* ---- thread stacks ---- */

static bool holds_stack_pointer(const snap_snapshot *snap, const snap_region *r)
{
	for (size_t i = 0; i < snap->process.nthread_sp; i++) {
		uint64_t sp = snap->process.thread_sp[i];
		if (sp >= r->start && sp < r->end)
			return true;
	}
	return false;
}

/* The no-access page below region i, when it touches it. */
static const snap_region *guard_below(const struct pass *p, size_t i,
				      uint64_t max_size)
{
	if (!touches_prev(p, i))
		return NULL;
	const snap_region *g = at(p, i - 1);
	return unnamed(g) && no_access(g) && span(g) <= max_size &&
	       p->kinds[i - 1] == SNAP_KIND_ANON ? g : NULL;
}

static bool map_stack_pair(const struct pass *p, size_t i)
{
	const snap_region *r = at(p, i);
	const snap_region *g = guard_below(p, i, STACK_GUARD_MAX);
	return g && strcmp(r->perms, "rw-p") == 0 && snap_region_has_flag(r, "nh") &&
	       snap_region_has_flag(g, "nh");
}

static bool guard_pattern(const struct pass *p, size_t i)
{
	return strcmp(at(p, i)->perms, "rw-p") == 0 &&
	       guard_below(p, i, SMALL_GUARD_MAX) != NULL;
}

/* "6.18.44-fc" -> true when at least major.minor. */
static bool kernel_at_least(const char *release, int major, int minor)
{
	char *end;
	long ma = release ? strtol(release, &end, 10) : -1;
	if (ma < 0 || *end != '.')
		return false;
	long mi = strtol(end + 1, NULL, 10);
	return ma > major || (ma == major && mi >= minor);
}

/* Since 6.7 the kernel gives MAP_STACK mappings VM_NOHUGEPAGE ("nh"), so
 * their absence there means no glibc stack; before, only the layout is
 * left to go by. */
static bool kernel_marks_map_stack(const struct pass *p, bool any_pair)
{
	bool vmflags = false;
	for (size_t i = 0; i < p->snap->nregions && !vmflags; i++)
		vmflags = at(p, i)->vmflags != NULL;
	return vmflags && (any_pair || kernel_at_least(p->snap->host.kernel, 6, 7));
}

struct candidate {
	uint32_t region;
	uint8_t ev;
	bool usual;     /* the size most stacks here have */
	uint64_t bytes; /* stack and guard */
};

/* MAP_STACK before the bare pattern, the usual size first, then from
 * the top down (mmap places new stacks below older ones). */
static int by_likelihood(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	if (a->ev != b->ev)
		return a->ev == SNAP_EV_MAP_STACK ? -1 : 1;
	if (a->usual != b->usual)
		return a->usual ? -1 : 1;
	return a->region > b->region ? -1 : a->region < b->region;
}

static int by_size(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return a < b ? -1 : a > b;
}

/* The most common Size of the stacks found by stack pointer (or of the
 * first candidate when there are none): a look-alike of another size is
 * the less likely stack. */
static uint64_t usual_stack_size(const struct pass *p, const struct candidate *c,
				 size_t n, uint64_t *sizes)
{
	size_t count = 0;
	for (size_t i = 0; i < p->snap->nregions; i++)
		if (p->kinds[i] == SNAP_KIND_THREAD_STACK)
			sizes[count++] = span(at(p, i));
	if (count == 0)
		return n ? span(at(p, c[0].region)) : 0;
	qsort(sizes, count, sizeof(*sizes), by_size);
	uint64_t best = sizes[0];
	size_t best_run = 0, run = 0;
	for (size_t k = 0; k < count; k++) {
		run = k && sizes[k] == sizes[k - 1] ? run + 1 : 1;
		if (run > best_run) {
			best_run = run;
			best = sizes[k];
		}
	}
	return best;
}

/* How many more stacks the threads can be using: those that were running
 * (no stack pointer read) when the snapshot was taken. */
static size_t stacks_in_use_left(const snap_stack_evidence *st, bool *unlimited)
{
	*unlimited = st->threads < 1;
	size_t others = st->threads > 1 ? (size_t)st->threads - 1 : 0;
	return others > st->by_pointer ? others - st->by_pointer : 0;
}

/* Accepts candidates up to the threads left without a stack, then (for
 * MAP_STACK ones) glibc's cache of exited threads' stacks; the rest are
 * refused: a buffer over a guard page is no stack of a thread that does
 * not exist. */
static void accept_candidates(struct pass *p, struct candidate *c, size_t n,
			      uint64_t *sizes)
{
	uint64_t usual = usual_stack_size(p, c, n, sizes);
	for (size_t k = 0; k < n; k++)
		c[k].usual = span(at(p, c[k].region)) == usual;
	qsort(c, n, sizeof(*c), by_likelihood);
	bool unlimited;
	size_t in_use = stacks_in_use_left(p->stacks, &unlimited);
	uint64_t cached = 0;
	for (size_t k = 0; k < n; k++) {
		bool take = unlimited || in_use > 0;
		if (take && !unlimited) {
			in_use--;
		} else if (!take && c[k].ev == SNAP_EV_MAP_STACK &&
			   cached + c[k].bytes <= STACK_CACHE_MAX) {
			cached += c[k].bytes;
			take = true;
		}
		if (!take) {
			set(p, c[k].region, SNAP_KIND_ANON, SNAP_EV_OVER_THREADS);
			p->stacks->refused++;
			continue;
		}
		set(p, c[k].region, SNAP_KIND_THREAD_STACK, (enum snap_evidence)c[k].ev);
		if (c[k].ev == SNAP_EV_MAP_STACK)
			p->stacks->by_map_stack++;
		else
			p->stacks->by_pattern++;
	}
}

static int classify_thread_stacks(struct pass *p)
{
	size_t n = p->snap->nregions, ncand = 0;
	bool any_pair = false;
	for (size_t i = 0; i < n && !any_pair; i++)
		any_pair = unnamed(at(p, i)) && map_stack_pair(p, i);
	p->stacks->map_stack_marked = kernel_marks_map_stack(p, any_pair);
	struct candidate *c = malloc((n + 1) * sizeof(*c));
	uint64_t *sizes = malloc((n + 1) * sizeof(*sizes));
	if (!c || !sizes) {
		free(c);
		free(sizes);
		return SNAP_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const snap_region *r = at(p, i);
		if (!unnamed(r) || p->kinds[i] != SNAP_KIND_ANON || !read_write(r))
			continue;
		if (holds_stack_pointer(p->snap, r)) {
			set(p, i, SNAP_KIND_THREAD_STACK, SNAP_EV_STACK_POINTER);
			p->stacks->by_pointer++;
		} else if (p->stacks->map_stack_marked ? map_stack_pair(p, i)
						       : guard_pattern(p, i)) {
			const snap_region *g = at(p, i - 1);
			c[ncand++] = (struct candidate){
				(uint32_t)i,
				p->stacks->map_stack_marked ? SNAP_EV_MAP_STACK
							    : SNAP_EV_GUARD_PATTERN,
				false, span(r) + span(g) };
		}
	}
	accept_candidates(p, c, ncand, sizes);
	free(c);
	free(sizes);
	return SNAP_OK;
}

/* ---- no-access ranges and the rest ---- */

static bool borders_accessible(const struct pass *p, size_t i)
{
	return (touches_prev(p, i) && accessible(at(p, i - 1))) ||
	       (touches_next(p, i) && accessible(at(p, i + 1)));
}

static void classify_no_access(struct pass *p)
{
	for (size_t i = 0; i < p->snap->nregions; i++) {
		const snap_region *r = at(p, i);
		if (!unnamed(r) || !no_access(r) || p->kinds[i] != SNAP_KIND_ANON)
			continue;
		if (touches_next(p, i) && p->kinds[i + 1] == SNAP_KIND_THREAD_STACK &&
		    span(r) <= STACK_GUARD_MAX)
			set(p, i, SNAP_KIND_GUARD, SNAP_EV_STACK_GUARD);
		else if (span(r) <= SMALL_GUARD_MAX && borders_accessible(p, i))
			set(p, i, SNAP_KIND_GUARD, SNAP_EV_SMALL_GUARD);
		else
			set(p, i, SNAP_KIND_RESERVED, SNAP_EV_RESERVATION);
	}
}

/* Whether r, right after file mapping prev, can be its .bss. When the
 * capture read the file's ELF headers: only if a load maps .bss past its
 * file pages, and r holds at least that much (the kernel merges it with
 * anonymous memory mapped right after); a library whose few bytes of .bss
 * fit in its last file page has none, and what lies right above it is
 * memory mapped earlier (mmap places new mappings below older ones).
 * Without the headers, Android showmap's rule takes any. */
static bool bss_size_fits(const struct pass *p, const snap_region *prev,
			  const snap_region *r)
{
	const snap_file *f = snap_snapshot_file(p->snap, prev->dev_major, prev->dev_minor,
						prev->inode);
	if (!f || f->bss_bytes < 0)
		return true;
	return f->bss_bytes > 0 && span(r) >= (uint64_t)f->bss_bytes;
}

/* Anonymous rw-p memory right after an executable's or library's
 * writable segment is its .bss. */
static void classify_bss(struct pass *p)
{
	for (size_t i = 1; i < p->snap->nregions; i++) {
		const snap_region *r = at(p, i), *prev = at(p, i - 1);
		enum snap_kind pk = p->kinds[i - 1];
		if (p->kinds[i] == SNAP_KIND_ANON && p->ev[i] == SNAP_EV_ANONYMOUS &&
		    unnamed(r) && strcmp(r->perms, "rw-p") == 0 && touches_prev(p, i) &&
		    (pk == SNAP_KIND_EXE || pk == SNAP_KIND_LIB) && prev->inode != 0 &&
		    prev->perms[1] == 'w' && bss_size_fits(p, prev, r))
			p->ev[i] = SNAP_EV_BSS;
	}
}

static int classify_failed(const snap_snapshot *snap, snap_error *err)
{
	return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory classifying "
			      "%zu regions", snap->nregions);
}

int snap_classify(const snap_snapshot *snap, enum snap_kind *kinds,
		  uint8_t *evidence, snap_stack_evidence *stacks, snap_error *err)
{
	uint8_t *own = evidence ? NULL : malloc(snap->nregions + 1);
	snap_stack_evidence scratch;
	struct pass p = { snap, kinds, evidence ? evidence : own,
			  stacks ? stacks : &scratch };
	if (!p.ev)
		return classify_failed(snap, err);
	enum snap_evidence exe_ev;
	const char *exe = exe_path(snap, &exe_ev);
	memset(p.stacks, 0, sizeof(*p.stacks));
	/* Threads: may come from a saved status alone (no stat: not known) */
	p.stacks->threads = snap->process.threads > 0 ? snap->process.threads : -1;
	p.stacks->pointers = snap->process.nthread_sp;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		struct verdict v = unnamed(r) && r->perms[3] == 'p'
			? (struct verdict){ SNAP_KIND_ANON, SNAP_EV_ANONYMOUS }
			: by_name(r, exe, exe_ev);
		set(&p, i, v.kind, v.ev);
	}
	classify_arenas(&p);
	classify_image_gaps(&p);
	int rc = classify_thread_stacks(&p);
	classify_no_access(&p);
	classify_bss(&p);
	free(own);
	return rc < 0 ? classify_failed(snap, err) : rc;
}
