#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "truth.h"

#define STACK_GUARD_MAX MIB          /* pthread_attr_setguardsize can be large */
#define SMALL_GUARD_MAX (64ull << 10)

static const char *const measure_names[] = {
	"Size", "Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean",
	"Private_Dirty", "Anonymous", "Swap", "SwapPss",
};

long region_at(const snap_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nregions && s->regions[lo].start <= addr ? (long)lo : -1;
}

/* ---- small facts about regions ---- */

static bool unnamed(const snap_region *r)
{
	return r->path_len == 0;
}

static bool no_access_private(const snap_region *r)
{
	return strcmp(r->perms, "---p") == 0;
}

static bool accessible(const snap_region *r)
{
	return r->perms[0] != '-' || r->perms[1] != '-' || r->perms[2] != '-';
}

static uint64_t span(const snap_region *r)
{
	return r->end - r->start;
}

static const snap_region *touching_below(const snap_snapshot *s, size_t i)
{
	return i > 0 && s->regions[i - 1].end == s->regions[i].start
		? &s->regions[i - 1] : NULL;
}

static const snap_region *touching_above(const snap_snapshot *s, size_t i)
{
	return i + 1 < s->nregions && s->regions[i + 1].start == s->regions[i].end
		? &s->regions[i + 1] : NULL;
}

static bool borders_accessible(const snap_snapshot *s, size_t i)
{
	const snap_region *lo = touching_below(s, i), *hi = touching_above(s, i);
	return (lo && accessible(lo)) || (hi && accessible(hi));
}

static bool starts_with(const snap_region *r, const char *prefix)
{
	return strncmp(r->path, prefix, strlen(prefix)) == 0;
}

static bool shmem_name(const snap_region *r)
{
	return starts_with(r, "/dev/shm/") || starts_with(r, "/memfd:") ||
	       starts_with(r, "/SYSV") || starts_with(r, "[anon_shmem:") ||
	       strcmp(r->path, "/dev/zero (deleted)") == 0;
}

/* A basename with ".so" at its end or before a version: "libz.so.1". */
static bool shared_object_name(const snap_region *r)
{
	size_t n = snap_path_undeleted(r, NULL);
	const char *base = r->path;
	for (size_t i = 0; i < n; i++)
		if (r->path[i] == '/')
			base = r->path + i + 1;
	size_t len = n - (size_t)(base - r->path);
	for (size_t i = 0; i + 3 <= len; i++)
		if (memcmp(base + i, ".so", 3) == 0 && (i + 3 == len || base[i + 3] == '.'))
			return true;
	return false;
}

static bool is_exe(const snap_snapshot *s, const snap_region *r)
{
	const char *exe = s->process.known ? s->process.exe : NULL;
	size_t n = snap_path_undeleted(r, NULL);
	return exe && strlen(exe) == n && memcmp(exe, r->path, n) == 0;
}

/* A load of a shared object: its private mapping at offset 0. */
static bool library_load(const snap_snapshot *s, const snap_region *r)
{
	return r->inode != 0 && r->perms[3] == 'p' && r->offset == 0 &&
	       r->path[0] == '/' && shared_object_name(r) && !is_exe(s, r);
}

/* The program's load: the executable's private mapping at offset 0. */
static bool exe_load(const snap_snapshot *s, const snap_region *r)
{
	return r->inode != 0 && r->perms[3] == 'p' && r->offset == 0 && is_exe(s, r);
}

static bool same_file(const snap_region *a, const snap_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

static const char *where(char *buf, size_t size, const snap_snapshot *s, size_t i)
{
	const snap_region *r = &s->regions[i];
	snprintf(buf, size, "%" PRIx64 "-%" PRIx64 " %s %.200s", r->start, r->end,
		 r->perms, r->path);
	return buf;
}

static bool kernel_at_least(const char *release, long major, long minor)
{
	char *end;
	long ma = release ? strtol(release, &end, 10) : -1;
	if (ma < 0 || *end != '.')
		return false;
	long mi = strtol(end + 1, NULL, 10);
	return ma > major || (ma == major && mi >= minor);
}

/* ---- thread stacks ---- */

struct stack_counts {
	size_t by_sp, by_map_stack, by_pattern;
	uint64_t *map_stack_bytes; /* Size + guard of each MAP_STACK one */
};

static void check_stack_evidence(const snap_snapshot *s, const snap_identity *id,
				 size_t i, struct stack_counts *c, bool marks,
				 const char *label)
{
	char buf[400];
	const snap_region *r = &s->regions[i];
	const snap_region *guard = touching_below(s, i);
	if (!unnamed(r) || strcmp(r->perms, "rw-p") != 0)
		fail_msg("%s: thread stack %s is no unnamed rw-p region", label,
			 where(buf, sizeof(buf), s, i));
	switch (id->evidence[i]) {
	case SNAP_EV_STACK_POINTER: {
		bool holds = false;
		for (size_t k = 0; k < s->process.nthread_sp; k++)
			holds |= region_at(s, s->process.thread_sp[k]) == (long)i;
		if (!holds)
			fail_msg("%s: thread stack %s claims a stack pointer; none of the %zu read is in it",
				 label, where(buf, sizeof(buf), s, i), s->process.nthread_sp);
		c->by_sp++;
		break;
	}
	case SNAP_EV_MAP_STACK:
		if (!snap_region_has_flag(r, "nh") || !guard || !unnamed(guard) ||
		    !no_access_private(guard) || !snap_region_has_flag(guard, "nh") ||
		    span(guard) > STACK_GUARD_MAX)
			fail_msg("%s: thread stack %s claims MAP_STACK, but it and the page below are not both nh (%s / %s)",
				 label, where(buf, sizeof(buf), s, i), r->vmflags ? r->vmflags : "-",
				 guard && guard->vmflags ? guard->vmflags : "-");
		c->map_stack_bytes[c->by_map_stack++] = span(r) + span(guard);
		break;
	case SNAP_EV_GUARD_PATTERN:
		if (marks)
			fail_msg("%s: thread stack %s by the bare guard pattern, though VmFlags and kernel %s show MAP_STACK",
				 label, where(buf, sizeof(buf), s, i), s->host.kernel);
		if (!guard || !unnamed(guard) || !no_access_private(guard) ||
		    span(guard) > SMALL_GUARD_MAX)
			fail_msg("%s: thread stack %s by guard pattern has no small ---p below",
				 label, where(buf, sizeof(buf), s, i));
		c->by_pattern++;
		break;
	default:
		fail_msg("%s: thread stack %s with evidence '%s'", label,
			 where(buf, sizeof(buf), s, i), snap_evidence_name(id->evidence[i]));
	}
}

static int by_bytes(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return a < b ? -1 : a > b;
}

/* Stacks beyond the threads not seen by stack pointer can only be
 * glibc's cache: MAP_STACK ones, at most GLIBC_STACK_CACHE in all. The
 * most lenient split counts the largest MAP_STACK stacks as in use. */
static void check_stack_bounds(const snap_snapshot *s, struct stack_counts *c,
			       const char *label)
{
	long threads = s->process.known ? s->process.threads : -1;
	if (threads < 1)
		return;
	size_t others = (size_t)threads - 1;
	if (c->by_sp > others)
		fail_msg("%s: %zu thread stacks by stack pointer, but Threads: %ld",
			 label, c->by_sp, threads);
	size_t left = others - c->by_sp;
	if (c->by_pattern > left)
		fail_msg("%s: %zu thread stacks by guard pattern beyond the %zu threads without a stack pointer read",
			 label, c->by_pattern, left);
	left -= c->by_pattern;
	if (c->by_map_stack <= left)
		return;
	size_t cached = c->by_map_stack - left;
	qsort(c->map_stack_bytes, c->by_map_stack, sizeof(uint64_t), by_bytes);
	uint64_t bytes = 0;
	for (size_t k = 0; k < cached; k++)
		bytes += c->map_stack_bytes[k];
	if (bytes > GLIBC_STACK_CACHE)
		fail_msg("%s: Threads: %ld, %zu stacks by stack pointer, %zu by MAP_STACK: the %zu beyond the threads hold %" PRIu64 " MiB, over glibc's cache of %llu MiB",
			 label, threads, c->by_sp, c->by_map_stack, cached, bytes / MIB,
			 GLIBC_STACK_CACHE / MIB);
}

static void check_stack_pointers(const snap_snapshot *s, const snap_identity *id,
				 const char *label)
{
	char buf[400];
	for (size_t k = 0; k < s->process.nthread_sp; k++) {
		uint64_t sp = s->process.thread_sp[k];
		long i = region_at(s, sp);
		if (i < 0)
			fail_msg("%s: stack pointer %" PRIx64 " lies in no region", label, sp);
		if (id->kinds[i] != SNAP_KIND_THREAD_STACK)
			fail_msg("%s: stack pointer %" PRIx64 " lies in %s, kind %s (%s), not thread-stack",
				 label, sp, where(buf, sizeof(buf), s, (size_t)i),
				 snap_kind_name(id->kinds[i]),
				 snap_evidence_name(id->evidence[i]));
	}
}

static void check_stacks(const snap_snapshot *s, const snap_identity *id,
			 const char *label)
{
	bool vmflags = false;
	for (size_t i = 0; i < s->nregions && !vmflags; i++)
		vmflags = s->regions[i].vmflags != NULL;
	bool marks = vmflags && kernel_at_least(s->host.kernel, 6, 7);
	struct stack_counts c = { 0, 0, 0, calloc(s->nregions + 1, sizeof(uint64_t)) };
	assert_non_null(c.map_stack_bytes);
	for (size_t i = 0; i < s->nregions; i++)
		if (id->kinds[i] == SNAP_KIND_THREAD_STACK)
			check_stack_evidence(s, id, i, &c, marks, label);
	check_stack_bounds(s, &c, label);
	check_stack_pointers(s, id, label);
	/* what the identity says it counted */
	assert_int_equal(id->stacks.by_pointer, c.by_sp);
	assert_int_equal(id->stacks.by_map_stack, c.by_map_stack);
	assert_int_equal(id->stacks.by_pattern, c.by_pattern);
	assert_int_equal(id->thread_stacks, c.by_sp + c.by_map_stack + c.by_pattern);
	assert_int_equal(id->stacks.pointers, s->process.nthread_sp);
	free(c.map_stack_bytes);
}

/* ---- no-access regions ---- */

static void check_guard(const snap_snapshot *s, const snap_identity *id, size_t i,
			const char *label)
{
	char buf[400];
	const snap_region *r = &s->regions[i];
	const snap_region *above = touching_above(s, i);
	if (!unnamed(r) || !no_access_private(r))
		fail_msg("%s: guard %s is no unnamed ---p region", label,
			 where(buf, sizeof(buf), s, i));
	if (span(r) > STACK_GUARD_MAX)
		fail_msg("%s: guard %s is %" PRIu64 " KiB, over 1 MiB", label,
			 where(buf, sizeof(buf), s, i), span(r) >> 10);
	bool below_stack = above && id->kinds[i + 1] == SNAP_KIND_THREAD_STACK;
	bool small = span(r) <= SMALL_GUARD_MAX && borders_accessible(s, i);
	if (id->evidence[i] == SNAP_EV_STACK_GUARD && !below_stack)
		fail_msg("%s: stack guard %s has no thread stack right above it", label,
			 where(buf, sizeof(buf), s, i));
	if (id->evidence[i] == SNAP_EV_SMALL_GUARD && !small)
		fail_msg("%s: small guard %s is over 64 KiB or borders no accessible memory",
			 label, where(buf, sizeof(buf), s, i));
	if (id->evidence[i] != SNAP_EV_STACK_GUARD && id->evidence[i] != SNAP_EV_SMALL_GUARD)
		fail_msg("%s: guard %s with evidence '%s'", label,
			 where(buf, sizeof(buf), s, i), snap_evidence_name(id->evidence[i]));
}

static void check_image_gap(const snap_snapshot *s, const snap_identity *id,
			    size_t i, const char *label)
{
	char buf[400];
	int32_t img = id->image_of[i];
	bool inside = img >= 0 && touching_below(s, i) && touching_above(s, i) &&
		      id->image_of[i - 1] == img && id->image_of[i + 1] == img;
	if (!inside)
		fail_msg("%s: no-access %s is kind %s but not between two segments of one image",
			 label, where(buf, sizeof(buf), s, i), snap_kind_name(id->kinds[i]));
}

static void check_no_access(const snap_snapshot *s, const snap_identity *id,
			    const char *label)
{
	char buf[400];
	for (size_t i = 0; i < s->nregions; i++) {
		const snap_region *r = &s->regions[i];
		enum snap_kind k = id->kinds[i];
		if (k == SNAP_KIND_GUARD)
			check_guard(s, id, i, label);
		if (!unnamed(r) || !no_access_private(r))
			continue;
		bool small = span(r) <= SMALL_GUARD_MAX && borders_accessible(s, i);
		bool below_stack = touching_above(s, i) &&
				   id->kinds[i + 1] == SNAP_KIND_THREAD_STACK &&
				   span(r) <= STACK_GUARD_MAX;
		switch (k) {
		case SNAP_KIND_GUARD:
			break;
		case SNAP_KIND_RESERVED:
			if (small || below_stack)
				fail_msg("%s: %s is reserved, but it is a guard (%s)", label,
					 where(buf, sizeof(buf), s, i),
					 below_stack ? "right below a thread stack"
						     : "64 KiB or less, bordering accessible memory");
			break;
		case SNAP_KIND_ARENA:
			if (id->evidence[i] != SNAP_EV_ARENA_RESERVE || i == 0 ||
			    id->kinds[i - 1] != SNAP_KIND_ARENA || !touching_below(s, i))
				fail_msg("%s: no-access %s is arena without its arena below",
					 label, where(buf, sizeof(buf), s, i));
			break;
		case SNAP_KIND_EXE:
		case SNAP_KIND_LIB:
		case SNAP_KIND_FILE:
			check_image_gap(s, id, i, label);
			break;
		default:
			fail_msg("%s: unnamed ---p %s is kind %s", label,
				 where(buf, sizeof(buf), s, i), snap_kind_name(k));
		}
	}
}

/* ---- library loads and duplicates ---- */

static size_t find_root(size_t *parent, size_t i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

static void lib_name(char *buf, size_t size, const snap_region *r)
{
	snap_lib_name(buf, size, r->path, snap_path_undeleted(r, NULL));
}

/* Loads joined by one file or one library name: the duplicates the
 * kernel's offsets imply. parent[] is over region indexes. */
static void join_loads(const snap_snapshot *s, const size_t *loads, size_t n,
		       size_t *parent)
{
	char a[512], b[512];
	for (size_t x = 0; x < n; x++)
		parent[loads[x]] = loads[x];
	for (size_t x = 0; x < n; x++) {
		const snap_region *rx = &s->regions[loads[x]];
		lib_name(a, sizeof(a), rx);
		for (size_t y = 0; y < x; y++) {
			const snap_region *ry = &s->regions[loads[y]];
			lib_name(b, sizeof(b), ry);
			if (same_file(rx, ry) || strcmp(a, b) == 0)
				parent[find_root(parent, loads[x])] = find_root(parent, loads[y]);
		}
	}
}

static void check_duplicates(const snap_snapshot *s, const snap_identity *id,
			     const size_t *loads, size_t n, size_t *parent,
			     const char *label)
{
	join_loads(s, loads, n, parent);
	size_t groups = 0;
	for (size_t x = 0; x < n; x++) {
		size_t root = find_root(parent, loads[x]), members = 0;
		bool same = false, first = true;
		for (size_t y = 0; y < n; y++) {
			if (find_root(parent, loads[y]) != root)
				continue;
			members++;
			first &= y >= x;
			for (size_t z = 0; z < y; z++)
				same |= find_root(parent, loads[z]) == root &&
					same_file(&s->regions[loads[y]], &s->regions[loads[z]]);
		}
		if (members < 2 || !first)
			continue;
		groups++;
		/* the dup holding this load must hold exactly this group */
		const snap_duplicate *dup = NULL;
		for (size_t d = 0; d < id->ndups && !dup; d++)
			for (size_t k = 0; k < id->dups[d].nimages; k++)
				if (id->images[id->dups[d].images[k]].first == loads[x])
					dup = &id->dups[d];
		if (!dup)
			fail_msg("%s: %s is loaded %zu times (offset-0 mappings), not reported duplicated",
				 label, s->regions[loads[x]].path, members);
		assert_int_equal(dup->nimages, members);
		for (size_t k = 0; k < dup->nimages; k++)
			assert_int_equal(find_root(parent, id->images[dup->images[k]].first), root);
		if (dup->same_file != same)
			fail_msg("%s: duplicate %s: same_file %d, the offsets say %d", label,
				 dup->name, dup->same_file, same);
	}
	if (id->ndups != groups)
		fail_msg("%s: %zu duplicated libraries reported (first: %s), the offset-0 mappings give %zu",
			 label, id->ndups, id->ndups ? id->dups[0].name : "-", groups);
}

/* Every private offset-0 mapping of a shared object (or of the program)
 * starts one image, and a file loaded once has all its private mappings
 * in that image, wherever the kernel placed them (the ELF loader leaves
 * unmapped pages between the segments of some executables). */
static void check_load_images(const snap_snapshot *s, const snap_identity *id,
			      const size_t *loads, size_t n, const char *label)
{
	char buf[400];
	for (size_t x = 0; x < n; x++) {
		int32_t img = id->image_of[loads[x]];
		if (img < 0 || id->images[img].first != loads[x] || !id->images[img].has_offset0)
			fail_msg("%s: the load at %s starts no image", label,
				 where(buf, sizeof(buf), s, loads[x]));
		size_t same = 0;
		for (size_t y = 0; y < n; y++)
			same += same_file(&s->regions[loads[x]], &s->regions[loads[y]]);
		if (same != 1)
			continue;
		for (size_t i = 0; i < s->nregions; i++) {
			const snap_region *r = &s->regions[i];
			if (r->perms[3] == 'p' && same_file(r, &s->regions[loads[x]]) &&
			    id->image_of[i] != img)
				fail_msg("%s: %s is loaded once, but its mapping %s is not in that load",
					 label, s->regions[loads[x]].path,
					 where(buf, sizeof(buf), s, i));
		}
	}
}

static void check_images(const snap_snapshot *s, const snap_identity *id,
			 const size_t *loads, size_t n, const char *label)
{
	check_load_images(s, id, loads, n, label);
	size_t lib_loads = 0;
	for (size_t k = 0; k < id->nimages; k++)
		lib_loads += id->images[k].kind == SNAP_KIND_LIB && id->images[k].has_offset0;
	if (lib_loads != n)
		fail_msg("%s: %zu library images with a load, %zu offset-0 mappings of shared objects",
			 label, lib_loads, n);
}

/* The program's mappings: the images of its loads, nothing else. */
static void check_program_images(const snap_snapshot *s, const snap_identity *id,
				 const size_t *loads, size_t n, const char *label)
{
	check_load_images(s, id, loads, n, label);
	size_t images = 0;
	char listed[600] = "";
	for (size_t k = 0; k < id->nimages; k++) {
		if (id->images[k].kind != SNAP_KIND_EXE)
			continue;
		images++;
		size_t len = strlen(listed);
		snprintf(listed + len, sizeof(listed) - len, " %" PRIx64 " (%zu regions)",
			 s->regions[id->images[k].first].start, id->images[k].count);
	}
	if (images != n)
		fail_msg("%s: the program is loaded %zu time(s) (offset-0 mappings of %s), but has %zu images:%s",
			 label, n, s->process.exe, images, listed);
}

static void check_loads(const snap_snapshot *s, const snap_identity *id,
			const char *label)
{
	size_t *loads = calloc(s->nregions + 1, sizeof(size_t));
	size_t *parent = calloc(s->nregions + 1, sizeof(size_t));
	assert_non_null(loads);
	assert_non_null(parent);
	size_t n = 0;
	for (size_t i = 0; i < s->nregions; i++)
		if (library_load(s, &s->regions[i]))
			loads[n++] = i;
	check_images(s, id, loads, n, label);
	check_duplicates(s, id, loads, n, parent, label);
	/* without /proc/PID/exe (a saved smaps) the program is a guess */
	size_t programs = 0;
	for (size_t i = 0; i < s->nregions; i++)
		if (exe_load(s, &s->regions[i]))
			loads[programs++] = i;
	if (s->process.known && s->process.exe)
		check_program_images(s, id, loads, programs, label);
	free(loads);
	free(parent);
}

/* ---- what the names say ---- */

static void check_names(const snap_snapshot *s, const snap_identity *id,
			const char *label)
{
	char buf[400];
	for (size_t i = 0; i < s->nregions; i++) {
		const snap_region *r = &s->regions[i];
		enum snap_kind k = id->kinds[i], want = k;
		if (strcmp(r->path, "[heap]") == 0)
			want = r->perms[2] == 'x' ? SNAP_KIND_ANON : SNAP_KIND_HEAP;
		else if (strcmp(r->path, "[stack]") == 0)
			want = SNAP_KIND_STACK;
		else if (shmem_name(r))
			want = SNAP_KIND_SHMEM;
		else if (r->path[0] == '/' && r->perms[3] == 's')
			want = r->perms[1] == 'w' ? SNAP_KIND_SHMEM : SNAP_KIND_FILE;
		if (k != want)
			fail_msg("%s: %s is %s, not %s", label, where(buf, sizeof(buf), s, i),
				 snap_kind_name(k), snap_kind_name(want));
	}
}

void assert_layout_truth(const snap_snapshot *s, const snap_identity *id,
			 const char *label)
{
	check_stacks(s, id, label);
	check_no_access(s, id, label);
	check_loads(s, id, label);
	check_names(s, id, label);
}

/* ---- diffs add up ---- */

static void check_side(const snap_identity *id, const snap_side *side,
		       enum snap_kind kind, uint8_t *seen, const char *label)
{
	for (size_t k = 0; k < side->nregions; k++) {
		uint32_t i = side->regions[k];
		if (id->kinds[i] != kind)
			fail_msg("%s: a %s change holds a %s region at %" PRIx64, label,
				 snap_kind_name(kind), snap_kind_name(id->kinds[i]),
				 id->snap->regions[i].start);
		if (seen[i]++)
			fail_msg("%s: region at %" PRIx64 " is in two changes", label,
				 id->snap->regions[i].start);
	}
}

/* Bytes of [lo, hi) that the side's regions cover. */
static uint64_t covered(const snap_snapshot *s, const snap_side *side, uint64_t lo,
			uint64_t hi)
{
	uint64_t bytes = 0;
	for (size_t k = 0; k < side->nregions; k++) {
		const snap_region *r = &s->regions[side->regions[k]];
		uint64_t a = r->start > lo ? r->start : lo, b = r->end < hi ? r->end : hi;
		bytes += b > a ? b - a : 0;
	}
	return bytes;
}

/* The perms of the side's region at addr, or NULL. */
static const char *perms_at(const snap_snapshot *s, const snap_side *side, uint64_t addr)
{
	for (size_t k = 0; k < side->nregions; k++) {
		const snap_region *r = &s->regions[side->regions[k]];
		if (r->start <= addr && addr < r->end)
			return r->perms;
	}
	return NULL;
}

/* What a change says about addresses is what its regions show: an
 * unmapped range was the old side's and is none of the new side's, a
 * mapped range the reverse, and a permission change covers both sides
 * with the old and new permissions it names. */
static void check_ranges(const snap_diff *d, const snap_change *c, const char *label)
{
	for (size_t k = 0; k < c->nunmapped; k++) {
		uint64_t lo = c->unmapped[k].start, hi = c->unmapped[k].end;
		if (covered(d->old, &c->old, lo, hi) != hi - lo || covered(d->new, &c->new, lo, hi))
			fail_msg("%s: a %s %s change says %" PRIx64 "-%" PRIx64 " was unmapped, but its regions do not show that",
				 label, snap_change_name(c->type), snap_kind_name(c->kind), lo, hi);
	}
	for (size_t k = 0; k < c->nmapped; k++) {
		uint64_t lo = c->mapped[k].start, hi = c->mapped[k].end;
		if (covered(d->new, &c->new, lo, hi) != hi - lo || covered(d->old, &c->old, lo, hi))
			fail_msg("%s: a %s %s change says %" PRIx64 "-%" PRIx64 " was mapped, but its regions do not show that",
				 label, snap_change_name(c->type), snap_kind_name(c->kind), lo, hi);
	}
	for (size_t k = 0; k < c->nperms_changes; k++) {
		const snap_perms_change *p = &c->perms_changes[k];
		uint64_t lo = p->start, hi = p->end;
		const char *was = perms_at(d->old, &c->old, lo), *is = perms_at(d->new, &c->new, lo);
		if (covered(d->old, &c->old, lo, hi) != hi - lo ||
		    covered(d->new, &c->new, lo, hi) != hi - lo || !was || !is ||
		    strcmp(was, p->old_perms) != 0 || strcmp(is, p->new_perms) != 0 ||
		    strcmp(was, is) == 0)
			fail_msg("%s: %" PRIx64 "-%" PRIx64 " said to change %s -> %s, the regions show %s -> %s",
				 label, lo, hi, p->old_perms, p->new_perms, was ? was : "nothing",
				 is ? is : "nothing");
	}
}

/* A region's measures as the kernel printed them (Size: end - start). */
static void region_measures(const snap_snapshot *s, const snap_region *r,
			    int64_t *kb)
{
	kb[SNAP_M_SIZE] = (int64_t)((r->end - r->start) >> 10);
	for (int m = 1; m < SNAP_M_COUNT; m++)
		kb[m] = (int64_t)snap_region_get(s, r, measure_names[m]);
}

/* The diff's totals by kind are the snapshot's regions added up. */
static void check_kind_totals(const snap_identity *id, const snap_sums *by_kind,
			      const char *side, const char *label)
{
	snap_sums want[SNAP_KIND_COUNT];
	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < id->snap->nregions; i++) {
		int64_t kb[SNAP_M_COUNT];
		region_measures(id->snap, &id->snap->regions[i], kb);
		for (int m = 0; m < SNAP_M_COUNT; m++)
			want[id->kinds[i]].kb[m] += kb[m];
		want[id->kinds[i]].regions++;
	}
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (by_kind[k].regions != want[k].regions)
			fail_msg("%s: %s totals count %" PRId64 " %s regions, the snapshot has %" PRId64,
				 label, side, by_kind[k].regions, snap_kind_name(k), want[k].regions);
		for (int m = 0; m < SNAP_M_COUNT; m++)
			if (by_kind[k].kb[m] != want[k].kb[m])
				fail_msg("%s: %s totals give %s %s %" PRId64 " kB, its regions %" PRId64,
					 label, side, snap_kind_name(k), measure_names[m],
					 by_kind[k].kb[m], want[k].kb[m]);
	}
}

/* Matched by address, a region in no change is the same region, with the
 * same counters, on the other side. */
static void check_unlisted(const snap_snapshot *a, const snap_snapshot *b,
			   const uint8_t *seen, const char *label)
{
	char buf[400];
	for (size_t i = 0; i < a->nregions; i++) {
		if (seen[i])
			continue;
		const snap_region *r = &a->regions[i];
		long j = region_at(b, r->start);
		const snap_region *o = j >= 0 ? &b->regions[j] : NULL;
		int64_t ka[SNAP_M_COUNT], kb[SNAP_M_COUNT];
		region_measures(a, r, ka);
		if (o)
			region_measures(b, o, kb);
		if (!o || o->start != r->start || o->end != r->end ||
		    strcmp(o->perms, r->perms) != 0 || o->inode != r->inode ||
		    memcmp(ka, kb, sizeof(ka)) != 0)
			fail_msg("%s: %s is in no change, but it is not the same on the other side",
				 label, where(buf, sizeof(buf), a, i));
	}
}

void assert_diff_adds_up(const snap_diff *d, const char *label)
{
	snap_sums sum[SNAP_KIND_COUNT];
	memset(sum, 0, sizeof(sum));
	uint8_t *seen_old = calloc(d->old->nregions + 1, 1);
	uint8_t *seen_new = calloc(d->new->nregions + 1, 1);
	assert_non_null(seen_old);
	assert_non_null(seen_new);
	for (size_t c = 0; c < d->nchanges; c++) {
		const snap_change *ch = &d->changes[c];
		check_side(d->old_id, &ch->old, ch->kind, seen_old, label);
		check_side(d->new_id, &ch->new, ch->kind, seen_new, label);
		check_ranges(d, ch, label);
		for (int m = 0; m < SNAP_M_COUNT; m++)
			sum[ch->kind].kb[m] += ch->delta.kb[m];
		sum[ch->kind].regions += ch->delta.regions;
	}
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		for (int m = 0; m <= SNAP_M_COUNT; m++) {
			int64_t want = m == SNAP_M_COUNT
				? d->kind_new[k].regions - d->kind_old[k].regions
				: d->kind_new[k].kb[m] - d->kind_old[k].kb[m];
			int64_t got = m == SNAP_M_COUNT ? sum[k].regions : sum[k].kb[m];
			if (got != want)
				fail_msg("%s: %s changes add up to %+" PRId64 " %s, the totals say %+" PRId64,
					 label, snap_kind_name(k), got,
					 m == SNAP_M_COUNT ? "regions" : measure_names[m], want);
		}
	}
	check_kind_totals(d->old_id, d->kind_old, "old", label);
	check_kind_totals(d->new_id, d->kind_new, "new", label);
	if (d->by_address) {
		check_unlisted(d->old, d->new, seen_old, label);
		check_unlisted(d->new, d->old, seen_new, label);
	}
	free(seen_old);
	free(seen_new);
}

int64_t json_counter(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

uint64_t json_hex(json_t *obj, const char *name)
{
	const char *text = json_string_value(json_object_get(obj, name));
	if (!text)
		fail_msg("no address '%s' in the JSON", name);
	return strtoull(text, NULL, 16);
}

json_t *json_parse_output(const char *out, const char *what)
{
	json_error_t jerr;
	json_t *doc = json_loads(out, 0, &jerr);
	if (!doc)
		fail_msg("%s: not JSON (%s): %.300s", what, jerr.text, out);
	return doc;
}

static void add_counters(int64_t *sum, json_t *counters)
{
	sum[0] += json_counter(counters, "regions");
	for (size_t m = 0; m < SNAP_M_COUNT; m++)
		sum[m + 1] += json_counter(counters, measure_names[m]);
}

static void compare_counters(const int64_t *got, const int64_t *want,
			     const char *kind, const char *label)
{
	for (size_t m = 0; m <= SNAP_M_COUNT; m++)
		if (got[m] != want[m])
			fail_msg("%s: %s changes add up to %+" PRId64 " %s, by_kind says %+" PRId64,
				 label, kind, got[m], m ? measure_names[m - 1] : "regions",
				 want[m]);
}

void assert_diff_json_adds_up(json_t *diff, const char *label)
{
	json_t *by_kind = json_object_get(diff, "by_kind");
	json_t *changes = json_object_get(diff, "changes");
	assert_true(json_is_array(by_kind));
	assert_true(json_is_array(changes));
	int64_t total[SNAP_M_COUNT + 1] = { 0 }, kinds[SNAP_M_COUNT + 1] = { 0 };
	size_t k, c;
	json_t *kv, *cv;
	json_array_foreach(by_kind, k, kv) {
		const char *kind = json_string_value(json_object_get(kv, "kind"));
		int64_t sum[SNAP_M_COUNT + 1] = { 0 }, want[SNAP_M_COUNT + 1] = { 0 };
		json_array_foreach(changes, c, cv)
			if (strcmp(json_string_value(json_object_get(cv, "kind")), kind) == 0)
				add_counters(sum, json_object_get(cv, "delta"));
		add_counters(want, json_object_get(kv, "delta"));
		add_counters(kinds, json_object_get(kv, "delta"));
		compare_counters(sum, want, kind, label);
	}
	json_array_foreach(changes, c, cv) {
		const char *kind = json_string_value(json_object_get(cv, "kind"));
		bool listed = false;
		json_array_foreach(by_kind, k, kv)
			listed |= strcmp(json_string_value(json_object_get(kv, "kind")), kind) == 0;
		if (!listed)
			fail_msg("%s: a %s change, and no %s in by_kind", label, kind, kind);
	}
	add_counters(total, json_object_get(json_object_get(diff, "totals"), "delta"));
	compare_counters(kinds, total, "all kinds'", label);
}

void assert_no_all_regions(const char *text, const char *label)
{
	for (const char *p = strstr(text, "all "); p; p = strstr(p + 1, "all ")) {
		char *end;
		strtol(p + 4, &end, 10);
		const char *regions = strstr(end, " regions");
		if (end != p + 4 && regions && regions - end < 40)
			fail_msg("%s: a suspect named as every region of a kind: %.80s", label, p);
	}
}
