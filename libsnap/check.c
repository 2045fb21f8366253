/* The checks: one small function per warning sign that people grep
 * smaps for by hand (../shared/notes/smaps-semantics.md §3), each
 * appending findings with the regions involved and one sentence of
 * advice. Kinds, images and duplicates come from identity.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIB 1024

static const char *const severity_names[SNAP_SEV_COUNT] = {
	[SNAP_SEV_INFO] = "info",
	[SNAP_SEV_WARNING] = "warning",
	[SNAP_SEV_ERROR] = "error",
};

const char *snap_severity_name(enum snap_severity sev)
{
	return (unsigned)sev < SNAP_SEV_COUNT ? severity_names[sev] : "?";
}

int snap_check_opts_init(snap_check_opts *o, unsigned int version)
{
	if (version != SNAP_CHECK_OPTS_VERSION)
		return SNAP_EINVAL;
	memset(o, 0, sizeof(*o));
	o->version = version;
	o->heap_min_kb = 16 * MIB;
	o->heap_ratio = 4.0;
	o->small_maps = 256;
	o->small_max_kb = 1 * MIB;
	o->dirty_ratio = 0.9;
	o->dirty_min_kb = 64 * MIB;
	o->swap_ratio = 0.5;
	o->swap_min_kb = 1 * MIB;
	o->large_anon_kb = 256 * MIB;
	o->thread_stacks_max = 256;
	o->map_count_ratio = 0.5;
	o->max_map_count = 0;
	return SNAP_OK;
}

/* ---- small helpers ---- */

static const char *human(char *buf, size_t size, int64_t kb)
{
	snap_format_kb(buf, size, (double)kb, false);
	return buf;
}

static int64_t size_kb(const snap_region *r)
{
	return (int64_t)((r->end - r->start) >> 10);
}

static int64_t value(const snap_check *c, const snap_region *r, enum snap_measure m)
{
	if (m == SNAP_M_SIZE)
		return size_kb(r);
	return c->internal->fields[m] >= 0 ? (int64_t)snap_region_value(r, c->internal->fields[m]) : 0;
}

static const snap_region *region(const snap_check *c, size_t i)
{
	return &c->snap->regions[i];
}

static bool starts_with(const snap_region *r, const char *prefix)
{
	size_t n = strlen(prefix);
	return r->path_len >= n && memcmp(r->path, prefix, n) == 0;
}

static bool executable(const snap_region *r)
{
	return r->perms[2] == 'x';
}

/* A growable list of region indexes, for the finding being built. */
struct list {
	uint32_t *v;
	size_t n, cap;
};

static int list_add(struct list *l, size_t i)
{
	if (array_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 16) < 0)
		return SNAP_ENOMEM;
	l->v[l->n++] = (uint32_t)i;
	return SNAP_OK;
}

static void list_free(struct list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int64_t list_size_kb(const snap_check *c, const struct list *l)
{
	int64_t kb = 0;
	for (size_t k = 0; k < l->n; k++)
		kb = ck_sat_add(kb, size_kb(region(c, l->v[k])));
	return kb;
}

/* ---- findings ---- */

/* Appends a finding over the regions of l (copied); returns 1 (one
 * finding added) or SNAP_ENOMEM. */
__attribute__((format(printf, 6, 7)))
static int add(snap_check *c, const char *rule, enum snap_severity sev,
	       const struct list *l, const char *advice, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (array_grow(&c->findings, &c->internal->cap, c->nfindings, sizeof(*c->findings), 16) < 0)
		return SNAP_ENOMEM;
	size_t n = l ? l->n : 0;
	uint32_t *regions = arena_alloc(c->internal->arena, n * sizeof(*regions) + 1);
	const char *message = arena_strndup(c->internal->arena, msg, strlen(msg));
	if (!regions || !message)
		return SNAP_ENOMEM;
	if (n)
		memcpy(regions, l->v, n * sizeof(*regions));
	c->findings[c->nfindings++] = (snap_finding){
		.rule = rule, .severity = sev, .message = message, .advice = advice,
		.regions = regions, .nregions = n, .size_kb = l ? list_size_kb(c, l) : 0,
	};
	c->by_severity[sev]++;
	return 1;
}

static int skip(snap_check *c, const char *why)
{
	if (array_grow(&c->skipped, &c->internal->skipped_cap, c->nskipped, sizeof(*c->skipped), 4) < 0)
		return SNAP_ENOMEM;
	c->skipped[c->nskipped++] = why;
	return 0;
}

/* The path of region r, without " (deleted)", as printf arguments. */
#define PATH_ARGS(r) (int)snap_path_undeleted(r, NULL), (r)->path

/* ---- duplicated-library ---- */

static int image_regions(const snap_image *img, struct list *l)
{
	for (size_t k = 0; k < img->count; k++)
		if (list_add(l, img->first + k) < 0)
			return SNAP_ENOMEM;
	return SNAP_OK;
}

static bool one_file(const snap_check *c, const snap_duplicate *dup)
{
	const snap_image *first = &c->id->images[dup->images[0]];
	for (size_t k = 1; k < dup->nimages; k++) {
		const snap_image *img = &c->id->images[dup->images[k]];
		if (img->inode != first->inode || img->dev_major != first->dev_major ||
		    img->dev_minor != first->dev_minor)
			return false;
	}
	return true;
}

/* "/a/libz.so.1, /b/libz.so.1": the distinct paths of the images. */
static void dup_paths(const snap_check *c, const snap_duplicate *dup, char *buf,
		      size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < dup->nimages && used < size; k++) {
		const snap_image *img = &c->id->images[dup->images[k]];
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++) {
			const snap_image *o = &c->id->images[dup->images[j]];
			seen = o->path_len == img->path_len &&
			       memcmp(o->path, img->path, img->path_len) == 0;
		}
		if (!seen)
			used += (size_t)snprintf(buf + used, size - used, "%s%.*s",
						 used ? ", " : "", (int)img->path_len,
						 img->path);
	}
}

static int dup_finding(snap_check *c, const snap_duplicate *dup)
{
	static const char same_advice[] =
		"One file loaded twice (dlmopen into another namespace, or a manual "
		"mmap) keeps two copies of its code, data and global state: load it "
		"once unless the isolation is intended.";
	static const char builds_advice[] =
		"Two versions of one library keep two copies of its global state that "
		"disagree (allocators, locks, caches): make every component use one "
		"build (check LD_LIBRARY_PATH, RPATH and bundled copies).";
	static const char copies_advice[] =
		"Make every component use one copy (check LD_LIBRARY_PATH, RPATH and "
		"libraries bundled in plugins or wheels): each copy costs memory and "
		"has its own global state.";
	struct list l = { 0 };
	int rc = SNAP_OK;
	for (size_t k = 0; k < dup->nimages && rc == SNAP_OK; k++)
		rc = image_regions(&c->id->images[dup->images[k]], &l);
	char paths[700];
	dup_paths(c, dup, paths, sizeof(paths));
	if (rc == SNAP_OK && one_file(c, dup))
		rc = add(c, "duplicated-library", SNAP_SEV_WARNING, &l, same_advice,
			 "%s is loaded %zu times from one file, %s (inode %llu).",
			 dup->name, dup->nimages, paths,
			 (unsigned long long)c->id->images[dup->images[0]].inode);
	else if (rc == SNAP_OK && dup->kind == SNAP_DUP_TWO_BUILDS)
		rc = add(c, "duplicated-library", SNAP_SEV_WARNING, &l, builds_advice,
			 "%s is loaded in two builds (other build-ids, %zu loads): %s.",
			 dup->name, dup->nimages, paths);
	else if (rc == SNAP_OK)
		rc = add(c, "duplicated-library", SNAP_SEV_WARNING, &l, copies_advice,
			 "%s is loaded %zu times from different files%s: %s.", dup->name,
			 dup->nimages, dup->kind == SNAP_DUP_SAME_BUILD ? " (one build)" : "",
			 paths);
	list_free(&l);
	return rc;
}

static int rule_duplicated_library(snap_check *c)
{
	int found = 0;
	for (size_t d = 0; d < c->id->ndups; d++) {
		int rc = dup_finding(c, &c->id->dups[d]);
		if (rc < 0)
			return rc;
		found += rc;
	}
	return found;
}

/* ---- deleted-mapping ---- */

/* Shared memory objects always print " (deleted)": nothing was
 * replaced (the needrestart ignore list, smaps-semantics §3.3 C). */
static bool never_on_disk(const snap_region *r)
{
	static const char *const prefixes[] = {
		"/memfd:", "/SYSV", "/dev/zero", "/dev/shm/", "/[aio]",
		"/drm mm object", "/anon_hugepage",
	};
	for (size_t k = 0; k < sizeof(prefixes) / sizeof(*prefixes); k++)
		if (starts_with(r, prefixes[k]))
			return true;
	return false;
}

static bool deleted_file(const snap_region *r)
{
	bool deleted;
	snap_path_undeleted(r, &deleted);
	return deleted && r->path[0] == '/' && r->inode != 0 && !never_on_disk(r);
}

/* Whether region j belongs with region i: one image, or (for mappings
 * outside images, e.g. shared ones) the next region of the same file. */
static bool same_mapping(const snap_check *c, size_t i, size_t j)
{
	const snap_region *a = region(c, i), *b = region(c, j);
	if (c->id->image_of[i] >= 0)
		return c->id->image_of[j] == c->id->image_of[i];
	return c->id->image_of[j] < 0 && a->inode == b->inode &&
	       a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0;
}

/* The capture found another build at the deleted file's path: an
 * upgrade, which is stronger evidence than " (deleted)" alone. */
static bool upgraded(const snap_file *f)
{
	return f->build_id.len && f->at_path_known && f->at_path.len &&
	       (f->at_path.len != f->build_id.len ||
		memcmp(f->at_path.bytes, f->build_id.bytes, f->build_id.len) != 0);
}

static int upgrade_finding(snap_check *c, const struct list *l, const snap_file *f,
			   const char *size)
{
	static const char advice[] =
		"Restart the process to load the upgraded library: until then it runs "
		"the old build, which may lack the fixes the upgrade brought.";
	const snap_region *r = region(c, l->v[0]);
	char old_id[2 * SNAP_BUILD_ID_MAX + 1], new_id[2 * SNAP_BUILD_ID_MAX + 1];
	snap_build_id_hex(old_id, sizeof(old_id), &f->build_id);
	snap_build_id_hex(new_id, sizeof(new_id), &f->at_path);
	size_t path_len = snap_path_undeleted(r, NULL);
	return add(c, "deleted-mapping", SNAP_SEV_WARNING, l, advice,
		   "%.*s was upgraded on disk, restart to load it: build %s is mapped, "
		   "build %s is on disk now (%zu region%s, %s).", (int)path_len, r->path,
		   old_id, new_id, l->n, l->n == 1 ? "" : "s", size);
}

static int deleted_finding(snap_check *c, const struct list *l)
{
	static const char code_advice[] =
		"Restart the process: it still runs the old code of an upgraded or "
		"removed file, which may lack security fixes.";
	static const char data_advice[] =
		"Harmless for a temporary file; otherwise the process still sees the "
		"old contents, and the disk space is freed only when it unmaps them.";
	bool code = false;
	for (size_t k = 0; k < l->n; k++)
		code |= executable(region(c, l->v[k]));
	const snap_region *r = region(c, l->v[0]);
	char size[32];
	human(size, sizeof(size), list_size_kb(c, l));
	const snap_file *f = snap_snapshot_file(c->snap, r->dev_major, r->dev_minor, r->inode);
	if (code && f && upgraded(f))
		return upgrade_finding(c, l, f, size);
	if (code)
		return add(c, "deleted-mapping", SNAP_SEV_WARNING, l, code_advice,
			   "%.*s was deleted or replaced on disk but its code is still "
			   "mapped (%zu region%s, %s).", PATH_ARGS(r), l->n,
			   l->n == 1 ? "" : "s", size);
	return add(c, "deleted-mapping", SNAP_SEV_INFO, l, data_advice,
		   "%.*s was deleted or replaced on disk but is still mapped "
		   "(%zu region%s, %s).", PATH_ARGS(r), l->n, l->n == 1 ? "" : "s", size);
}

static int rule_deleted_mapping(snap_check *c)
{
	int found = 0, rc = SNAP_OK;
	struct list l = { 0 };
	for (size_t i = 0; i < c->snap->nregions && rc == SNAP_OK;) {
		if (!deleted_file(region(c, i))) {
			i++;
			continue;
		}
		size_t j = i;
		l.n = 0;
		for (; j < c->snap->nregions && deleted_file(region(c, j)) &&
		       same_mapping(c, i, j) && rc == SNAP_OK; j++)
			rc = list_add(&l, j);
		int added = rc < 0 ? rc : deleted_finding(c, &l);
		if (added < 0)
			rc = added;
		else
			found += added;
		i = j;
	}
	list_free(&l);
	return rc < 0 ? rc : found;
}

/* ---- writable-executable ---- */

struct keyed {
	uint64_t key;
	uint32_t index;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int wx_finding(snap_check *c, const struct list *l)
{
	static const char advice[] =
		"Memory both writable and executable lets injected data run as code "
		"(a W^X violation): expected only from JIT compilers (Java, V8, "
		"LuaJIT); otherwise map code read-only.";
	const snap_region *r = region(c, l->v[0]);
	char size[32];
	human(size, sizeof(size), list_size_kb(c, l));
	if (r->path_len == 0)
		return add(c, "writable-executable", SNAP_SEV_WARNING, l, advice,
			   "%zu anonymous region%s (%s) %s mapped rwx, writable and "
			   "executable.", l->n, l->n == 1 ? "" : "s", size,
			   l->n == 1 ? "is" : "are");
	return add(c, "writable-executable", SNAP_SEV_WARNING, l, advice,
		   "%.*s is mapped rwx, writable and executable (%zu region%s, %s).",
		   (int)r->path_len, r->path, l->n, l->n == 1 ? "" : "s", size);
}

/* Groups the rwx regions by name (one finding per file, one for all
 * anonymous memory), hashing rather than comparing every pair: a JIT
 * can map thousands. */
static int rule_writable_executable(snap_check *c)
{
	size_t n = 0;
	struct keyed *wx = malloc((c->snap->nregions + 1) * sizeof(*wx));
	if (!wx)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < c->snap->nregions; i++) {
		const snap_region *r = region(c, i);
		if (r->perms[1] == 'w' && r->perms[2] == 'x')
			wx[n++] = (struct keyed){ snap_hash64(r->path, r->path_len),
						  (uint32_t)i };
	}
	qsort(wx, n, sizeof(*wx), cmp_keyed);
	struct list l = { 0 };
	int found = 0, rc = SNAP_OK;
	for (size_t k = 0; k < n && rc == SNAP_OK;) {
		size_t j = k;
		l.n = 0;
		for (; j < n && wx[j].key == wx[k].key && rc == SNAP_OK; j++)
			rc = list_add(&l, wx[j].index);
		int added = rc < 0 ? rc : wx_finding(c, &l);
		if (added < 0)
			rc = added;
		else
			found += added;
		k = j;
	}
	list_free(&l);
	free(wx);
	return rc < 0 ? rc : found;
}

/* ---- heap-fragmentation ---- */

static int sparse_heap(snap_check *c, size_t i)
{
	static const char advice[] =
		"Freed memory the allocator keeps or could not return leaves the heap "
		"far larger than what it holds: try malloc_trim(0), "
		"MALLOC_ARENA_MAX or another allocator, and look for long-lived "
		"allocations pinning the top of the heap.";
	const snap_region *r = region(c, i);
	int64_t size = size_kb(r), rss = value(c, r, SNAP_M_RSS);
	char s1[32], s2[32];
	struct list l = { .v = (uint32_t[]){ (uint32_t)i }, .n = 1 };
	return add(c, "heap-fragmentation", SNAP_SEV_WARNING, &l, advice,
		   "%s at %08llx is %s but only %s of it is resident (%.0f%%).",
		   c->id->kinds[i] == SNAP_KIND_HEAP ? "[heap]" : "A malloc arena heap",
		   (unsigned long long)r->start, human(s1, sizeof(s1), size),
		   human(s2, sizeof(s2), rss), 100.0 * (double)rss / (double)size);
}

static bool no_access_kind(const snap_check *c, size_t i)
{
	return c->id->kinds[i] == SNAP_KIND_RESERVED || c->id->kinds[i] == SNAP_KIND_GUARD;
}

/* Memory committed inside a reservation (PartitionAlloc's super pages,
 * V8's cage) touches no-access ranges: one large mapping carved up by
 * mprotect, not scattered mmaps. */
static bool inside_reservation(const snap_check *c, size_t i)
{
	const snap_region *r = region(c, i);
	return (i > 0 && region(c, i - 1)->end == r->start && no_access_kind(c, i - 1)) ||
	       (i + 1 < c->snap->nregions && region(c, i + 1)->start == r->end &&
		no_access_kind(c, i + 1));
}

/* A library's .bss and commits inside a reservation are no allocations
 * of their own. */
static bool small_anon(const snap_check *c, size_t i)
{
	const snap_region *r = region(c, i);
	return c->id->kinds[i] == SNAP_KIND_ANON && strcmp(r->perms, "rw-p") == 0 &&
	       size_kb(r) <= c->opts.small_max_kb && c->id->attached[i] < 0 &&
	       !inside_reservation(c, i);
}

static int scattered_small(snap_check *c)
{
	static const char advice[] =
		"Many separate small mappings (malloc's mmap'd chunks or a custom "
		"allocator's) cost kernel memory and count toward vm.max_map_count: "
		"pool the allocations or raise M_MMAP_THRESHOLD.";
	struct list l = { 0 };
	int rc = SNAP_OK;
	for (size_t i = 0; i < c->snap->nregions && rc == SNAP_OK; i++)
		if (small_anon(c, i))
			rc = list_add(&l, i);
	char s1[32], s2[32];
	if (rc == SNAP_OK && l.n >= c->opts.small_maps && l.n > 0)
		rc = add(c, "heap-fragmentation", SNAP_SEV_WARNING, &l, advice,
			 "%zu small anonymous regions (at most %s each, %s in all) are "
			 "scattered through the address space.", l.n,
			 human(s1, sizeof(s1), c->opts.small_max_kb),
			 human(s2, sizeof(s2), list_size_kb(c, &l)));
	list_free(&l);
	return rc;
}

static bool heap_like(const snap_check *c, size_t i)
{
	enum snap_kind k = c->id->kinds[i];
	return k == SNAP_KIND_HEAP ||
	       (k == SNAP_KIND_ARENA && strcmp(region(c, i)->perms, "---p") != 0);
}

static int rule_heap_fragmentation(snap_check *c)
{
	int found = 0, rc;
	for (size_t i = 0; i < c->snap->nregions; i++) {
		if (!heap_like(c, i))
			continue;
		const snap_region *r = region(c, i);
		int64_t size = size_kb(r), rss = value(c, r, SNAP_M_RSS);
		if (size < c->opts.heap_min_kb ||
		    (double)size < c->opts.heap_ratio * (double)rss)
			continue;
		if ((rc = sparse_heap(c, i)) < 0)
			return rc;
		found += rc;
	}
	if ((rc = scattered_small(c)) < 0)
		return rc;
	return found + rc;
}

/* ---- private-dirty-ratio ---- */

static int dirty_finding(snap_check *c, size_t i, int64_t dirty)
{
	static const char anon_advice[] =
		"Normal for a buffer or heap in full use, but only swap can reclaim "
		"it: if it is not meant to stay, watch its growth with mapsnap diff.";
	static const char file_advice[] =
		"Most of a private file mapping was copied on write and no longer "
		"shares the page cache: map it shared or read-only if the writes need "
		"not be private.";
	const snap_region *r = region(c, i);
	struct list l = { .v = (uint32_t[]){ (uint32_t)i }, .n = 1 };
	char s1[32], s2[32];
	double pct = 100.0 * (double)dirty / (double)size_kb(r);
	human(s1, sizeof(s1), dirty);
	human(s2, sizeof(s2), size_kb(r));
	if (r->path[0] == '/' && r->inode != 0)
		return add(c, "private-dirty-ratio", SNAP_SEV_WARNING, &l, file_advice,
			   "%.*s at %08llx: %s of its %s (%.0f%%) is Private_Dirty.",
			   PATH_ARGS(r), (unsigned long long)r->start, s1, s2, pct);
	return add(c, "private-dirty-ratio", SNAP_SEV_INFO, &l, anon_advice,
		   "%s region at %08llx: %s of its %s (%.0f%%) is Private_Dirty.",
		   snap_kind_name(c->id->kinds[i]), (unsigned long long)r->start, s1,
		   s2, pct);
}

static int rule_private_dirty_ratio(snap_check *c)
{
	int found = 0;
	for (size_t i = 0; i < c->snap->nregions; i++) {
		const snap_region *r = region(c, i);
		int64_t dirty = value(c, r, SNAP_M_PRIVATE_DIRTY);
		if (size_kb(r) < c->opts.dirty_min_kb ||
		    (double)dirty <= c->opts.dirty_ratio * (double)size_kb(r))
			continue;
		int rc = dirty_finding(c, i, dirty);
		if (rc < 0)
			return rc;
		found += rc;
	}
	return found;
}

/* ---- swap-pressure ---- */

static bool mostly_swapped(const snap_check *c, int64_t swap, int64_t rss)
{
	return swap >= c->opts.swap_min_kb && swap > 0 &&
	       (double)swap > c->opts.swap_ratio * (double)ck_sat_add(rss, swap);
}

static int rule_swap_pressure(snap_check *c)
{
	static const char advice[] =
		"The memory is being pushed out to swap: the host or the cgroup is "
		"short of RAM, or this memory is cold (never touched again, often a "
		"leak); check the memory limit and the growth with mapsnap diff.";
	struct list any = { 0 }, heavy = { 0 };
	int64_t swap = 0, rss = 0, heavy_swap = 0;
	int rc = SNAP_OK;
	for (size_t i = 0; i < c->snap->nregions && rc == SNAP_OK; i++) {
		const snap_region *r = region(c, i);
		int64_t s = value(c, r, SNAP_M_SWAP), res = value(c, r, SNAP_M_RSS);
		swap = ck_sat_add(swap, s);
		rss = ck_sat_add(rss, res);
		if (s > 0)
			rc = list_add(&any, i);
		if (rc == SNAP_OK && mostly_swapped(c, s, res)) {
			rc = list_add(&heavy, i);
			heavy_swap = ck_sat_add(heavy_swap, s);
		}
	}
	char s1[32], s2[32], s3[32];
	human(s1, sizeof(s1), swap);
	human(s2, sizeof(s2), rss);
	human(s3, sizeof(s3), heavy_swap);
	if (rc == SNAP_OK && mostly_swapped(c, swap, rss))
		rc = add(c, "swap-pressure", SNAP_SEV_WARNING, &any, advice,
			 "The process has %s in swap and %s resident: %.0f%% of its "
			 "memory is swapped out.", s1, s2,
			 100.0 * (double)swap / (double)ck_sat_add(swap, rss));
	else if (rc == SNAP_OK && heavy.n)
		rc = add(c, "swap-pressure", SNAP_SEV_WARNING, &heavy, advice,
			 "%zu region%s %s mostly swapped out (%s of the process's %s "
			 "in swap).", heavy.n, heavy.n == 1 ? "" : "s",
			 heavy.n == 1 ? "is" : "are", s3, s1);
	list_free(&any);
	list_free(&heavy);
	return rc;
}

/* ---- large-anonymous ---- */

static int rule_large_anonymous(snap_check *c)
{
	static const char used_advice[] =
		"Find who maps it (a large malloc, a cache, a leak): compare snapshots "
		"over time with mapsnap diff, or name it with PR_SET_VMA_ANON_NAME.";
	static const char reserved_advice[] =
		"Mostly untouched, so a reservation (a runtime's heap, a "
		"MAP_NORESERVE pool) that costs address space, not memory, for now.";
	int found = 0;
	for (size_t i = 0; i < c->snap->nregions; i++) {
		const snap_region *r = region(c, i);
		int64_t size = size_kb(r);
		if (c->id->kinds[i] != SNAP_KIND_ANON || size < c->opts.large_anon_kb)
			continue;
		int64_t used = value(c, r, SNAP_M_RSS) + value(c, r, SNAP_M_SWAP);
		bool mostly_used = used * 2 >= size;
		struct list l = { .v = (uint32_t[]){ (uint32_t)i }, .n = 1 };
		char s1[32], s2[32];
		int rc = add(c, "large-anonymous",
			     mostly_used ? SNAP_SEV_WARNING : SNAP_SEV_INFO, &l,
			     mostly_used ? used_advice : reserved_advice,
			     "An %s anonymous region of %s at %08llx, %s of it "
			     "resident or swapped.",
			     c->id->evidence[i] == SNAP_EV_EXEC_HEAP ? "executable" : "unnamed",
			     human(s1, sizeof(s1), size), (unsigned long long)r->start,
			     human(s2, sizeof(s2), used));
		if (rc < 0)
			return rc;
		found += rc;
	}
	return found;
}

/* ---- thread-stacks ---- */

/* The evidence, and the threads: Threads: in status counts the main
 * thread, whose stack is [stack]; MAP_STACK stacks beyond the other
 * threads are glibc's cache of exited threads' stacks (§3.6). */
static const char *threads_note(char *note, size_t size, const snap_check *c,
				size_t stacks)
{
	const snap_stack_evidence *st = &c->id->stacks;
	size_t n = (size_t)snprintf(note, size, " (%zu by stack pointer, %zu by the "
				    "MAP_STACK mark, %zu by guard page alone)",
				    st->by_pointer, st->by_map_stack, st->by_pattern);
	if (st->threads <= 0 || n >= size)
		return note;
	size_t others = (size_t)st->threads - 1;
	n += (size_t)snprintf(note + n, size - n, "; the process has %ld thread%s",
			      st->threads, st->threads == 1 ? "" : "s");
	if (stacks > others && n < size)
		snprintf(note + n, size - n, ", so %zu %s glibc's cache of exited "
			 "threads' stacks", stacks - others,
			 stacks - others == 1 ? "is in" : "are in");
	return note;
}

static int rule_thread_stacks(snap_check *c)
{
	static const char info_advice[] =
		"Each thread reserves a stack (8M by default with glibc): a pool or a "
		"smaller stack size (pthread_attr_setstacksize, ulimit -s) saves "
		"address space if the work does not need them all.";
	static const char warn_advice[] =
		"So many threads suggests a thread leak: check that threads are "
		"joined or detached, and bound them with a pool.";
	struct list l = { 0 };
	int64_t rss = 0;
	int rc = SNAP_OK;
	for (size_t i = 0; i < c->snap->nregions && rc == SNAP_OK; i++)
		if (c->id->kinds[i] == SNAP_KIND_THREAD_STACK) {
			rc = list_add(&l, i);
			rss = ck_sat_add(rss, value(c, region(c, i), SNAP_M_RSS));
		}
	bool many = l.n > c->opts.thread_stacks_max;
	char s1[32], s2[32], limit[64] = "", note[256];
	if (many)
		snprintf(limit, sizeof(limit), ", more than %zu", c->opts.thread_stacks_max);
	if (rc == SNAP_OK && l.n)
		rc = add(c, "thread-stacks", many ? SNAP_SEV_WARNING : SNAP_SEV_INFO, &l,
			 many ? warn_advice : info_advice,
			 "%zu thread stack%s%s: %s reserved, %s resident%s.", l.n,
			 l.n == 1 ? "" : "s", limit,
			 human(s1, sizeof(s1), list_size_kb(c, &l)),
			 human(s2, sizeof(s2), rss),
			 threads_note(note, sizeof(note), c, l.n));
	list_free(&l);
	return rc;
}

/* ---- map-count ---- */

static int rule_map_count(snap_check *c)
{
	static const char advice[] =
		"mmap, mprotect and thread creation fail with ENOMEM at the limit: "
		"find what creates so many mappings (small mmaps, mprotect splitting "
		"regions, a guard page per allocation) or raise vm.max_map_count.";
	if (c->opts.max_map_count <= 0)
		return skip(c, "map-count: vm.max_map_count is unknown "
			       "(snapshots do not record it)");
	size_t n = 0;
	for (size_t i = 0; i < c->snap->nregions; i++)
		/* The gate VMA is printed but is not in the process's map count. */
		n += strcmp(region(c, i)->path, "[vsyscall]") != 0;
	double share = (double)n / (double)c->opts.max_map_count;
	if (share <= c->opts.map_count_ratio)
		return 0;
	return add(c, "map-count", share >= 0.9 ? SNAP_SEV_ERROR : SNAP_SEV_WARNING,
		   NULL, advice, "%zu regions are %.0f%% of vm.max_map_count (%ld).", n,
		   100.0 * share, c->opts.max_map_count);
}

/* ---- patched-code ---- */

/* Written code pages are copies on write, so Anonymous too. Dirty page
 * cache of a file written just before it was mapped is Private_Dirty
 * alone, until writeback: that is no patch. Kernels without the
 * Anonymous field leave only Private_Dirty to go by. */
static bool dirty_code(const snap_check *c, size_t i)
{
	const snap_region *r = region(c, i);
	int anon = c->internal->fields[SNAP_M_ANONYMOUS];
	if (r->path[0] != '/' || r->inode == 0 || !executable(r) || r->perms[1] != '-' ||
	    value(c, r, SNAP_M_PRIVATE_DIRTY) == 0)
		return false;
	return anon < 0 || !snap_region_printed(r, anon) ||
	       snap_region_value(r, anon) > 0;
}

/* The dirty code segments of the mapping that holds region i, into l;
 * returns the index after that mapping. */
static size_t dirty_segments(const snap_check *c, size_t i, struct list *l,
			     int64_t *dirty, int *rc)
{
	size_t j = i;
	l->n = 0;
	*dirty = 0;
	for (; j < c->snap->nregions && same_mapping(c, i, j) && *rc == SNAP_OK; j++)
		if (dirty_code(c, j)) {
			*rc = list_add(l, j);
			*dirty = ck_sat_add(*dirty, value(c, region(c, j), SNAP_M_PRIVATE_DIRTY));
		}
	return j;
}

static int rule_patched_code(snap_check *c)
{
	static const char advice[] =
		"Code pages were written to (text relocations, a debugger's "
		"breakpoints, live patching or hooking) and are no longer shared: "
		"if nobody debugs or patches this process, find out who did.";
	struct list l = { 0 };
	int found = 0, rc = SNAP_OK;
	for (size_t i = 0; i < c->snap->nregions && rc == SNAP_OK;) {
		if (!dirty_code(c, i)) {
			i++;
			continue;
		}
		int64_t dirty;
		size_t next = dirty_segments(c, i, &l, &dirty, &rc);
		const snap_region *r = region(c, i);
		char s1[32];
		int added = rc < 0 ? rc :
			add(c, "patched-code", SNAP_SEV_WARNING, &l, advice,
			    "%.*s: %s of its executable mapping%s %s Private_Dirty.",
			    PATH_ARGS(r), human(s1, sizeof(s1), dirty),
			    l.n == 1 ? "" : "s", l.n == 1 ? "is" : "are");
		if (added < 0)
			rc = added;
		else
			found += added;
		i = next;
	}
	list_free(&l);
	return rc < 0 ? rc : found;
}

/* ---- the rules and the runner ---- */

static const snap_rule rules[] = {
	{ "duplicated-library", "one library loaded twice: same file, or same name "
	  "from different files", rule_duplicated_library },
	{ "deleted-mapping", "a file deleted or replaced on disk while mapped "
	  "(memfd, SysV and /dev/zero aside)", rule_deleted_mapping },
	{ "writable-executable", "rwx mappings: a W^X violation, or a JIT",
	  rule_writable_executable },
	{ "heap-fragmentation", "a heap far larger than its Rss, or many small "
	  "anonymous regions", rule_heap_fragmentation },
	{ "private-dirty-ratio", "a large region almost all Private_Dirty",
	  rule_private_dirty_ratio },
	{ "swap-pressure", "Swap over a share of Rss + Swap, in a region or the "
	  "process", rule_swap_pressure },
	{ "large-anonymous", "an unnamed anonymous region above a size",
	  rule_large_anonymous },
	{ "thread-stacks", "thread stacks: count and size, a warning above a count",
	  rule_thread_stacks },
	{ "map-count", "regions above a share of vm.max_map_count", rule_map_count },
	{ "patched-code", "Private_Dirty in an executable file mapping",
	  rule_patched_code },
};

const snap_rule *snap_check_rules(size_t *count)
{
	*count = sizeof(rules) / sizeof(*rules);
	return rules;
}

const snap_rule *snap_check_rule(const char *name)
{
	for (size_t k = 0; k < sizeof(rules) / sizeof(*rules); k++)
		if (strcmp(rules[k].name, name) == 0)
			return &rules[k];
	return NULL;
}

/* A check and what the library keeps of it, in one allocation. */
struct check_block {
	snap_check pub;
	struct snap_check_internal in;
};

int snap_check_new(snap_check **out, const snap_snapshot *snap,
		   const snap_check_opts *opts, snap_error *err)
{
	if (opts) {
		int rc = opts_version_check(opts->version, SNAP_CHECK_OPTS_VERSION,
					    "snap_check_opts", err);
		if (rc < 0)
			return rc;
	}
	struct check_block *block = calloc(1, sizeof(*block));
	if (!block)
		return snap_error_set(err, SNAP_ENOMEM, "check", 0, "out of memory");
	snap_check *c = &block->pub;
	c->internal = &block->in;
	c->snap = snap;
	if (opts)
		c->opts = *opts;
	else
		snap_check_opts_init(&c->opts, SNAP_CHECK_OPTS_VERSION);
	measure_fields(snap, c->internal->fields);
	int rc = SNAP_ENOMEM;
	if (!(c->internal->arena = arena_new()) || (rc = snap_identity_new(&c->id, snap, NULL)) < 0) {
		snap_check_free(c);
		return snap_error_set(err, rc, "check", 0, "out of memory");
	}
	*out = c;
	return SNAP_OK;
}

void snap_check_free(snap_check *c)
{
	if (!c)
		return;
	snap_identity_free(c->id);
	free(c->findings);
	free(c->skipped);
	arena_free(c->internal->arena);
	free(c);
}

/* Most severe first; within a severity, the order the rules found them. */
static int order_findings(snap_check *c)
{
	if (c->nfindings < 2)
		return SNAP_OK;
	snap_finding *sorted = malloc((c->nfindings + 1) * sizeof(*sorted));
	if (!sorted)
		return SNAP_ENOMEM;
	size_t n = 0;
	for (int sev = SNAP_SEV_COUNT - 1; sev >= 0; sev--)
		for (size_t k = 0; k < c->nfindings; k++)
			if ((int)c->findings[k].severity == sev)
				sorted[n++] = c->findings[k];
	memcpy(c->findings, sorted, n * sizeof(*sorted));
	free(sorted);
	return SNAP_OK;
}

static int rule_failed(snap_error *err, const snap_rule *rule, int rc)
{
	if (rc == SNAP_ENOMEM)
		return snap_error_set(err, rc, "check", 0, "out of memory running the "
				      "rule %s", rule->name);
	return snap_error_set(err, rc, "check", 0, "the rule %s failed: %s", rule->name,
			      snap_strerror(rc));
}

static int order_failed(snap_error *err, const snap_check *c)
{
	return snap_error_set(err, SNAP_ENOMEM, "check", 0, "out of memory ordering "
			      "%zu findings", c->nfindings);
}

int snap_check_run(snap_check *c, const snap_rule *rule, snap_error *err)
{
	int found = rule->run(c);
	if (found < 0)
		return rule_failed(err, rule, found);
	return order_findings(c) < 0 ? order_failed(err, c) : found;
}

int snap_check_run_all(snap_check *c, snap_error *err)
{
	int total = 0;
	for (size_t k = 0; k < sizeof(rules) / sizeof(*rules); k++) {
		int rc = rules[k].run(c);
		if (rc < 0)
			return rule_failed(err, &rules[k], rc);
		total += rc;
	}
	return order_findings(c) < 0 ? order_failed(err, c) : total;
}
