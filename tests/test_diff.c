/* diff.c and gate.c through the public API: same-process matching (grow,
 * shrink, split, merge, unmap, address reuse, mprotect, a file deleted
 * under the process), cross-process matching (ASLR-shifted copies, an
 * inserted region, thread churn, duplicated and replaced libraries), the
 * noise floor, the gate expressions, and the JSON report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "render.h"
#include "fuzz/diff_invariants.h"
#include "snap.h"
#include "util.h"

static snap_snapshot *load(const char *path)
{
	snap_snapshot *snap;
	snap_error err;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	if (snap_capture_files(snap, path, false, &err) != 0)
		fail_msg("%s: %s", err.source, err.message);
	return snap;
}

static snap_diff *diff_with(const snap_snapshot *a, const snap_snapshot *b,
			    enum snap_match_mode match, enum snap_measure metric,
			    int64_t min_kb)
{
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.match = match;
	opts.metric = metric;
	opts.min_change_kb = min_kb;
	snap_diff *d;
	snap_error err;
	if (snap_diff_new(&d, a, b, &opts, &err) != 0)
		fail_msg("diff: %s", err.message);
	return d;
}

static snap_diff *diff_of(const snap_snapshot *a, const snap_snapshot *b,
			  enum snap_match_mode match)
{
	return diff_with(a, b, match, SNAP_M_RSS, 4);
}

/* The change whose main side (new, else old) starts at start. */
static const snap_change *change_at(const snap_diff *d, uint64_t start)
{
	for (size_t i = 0; i < d->nchanges; i++) {
		const snap_change *c = &d->changes[i];
		if ((c->new.present ? c->new.start : c->old.start) == start)
			return c;
	}
	fail_msg("no change at %lx", (unsigned long)start);
	return NULL;
}

static size_t count_type(const snap_diff *d, enum snap_change_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nchanges; i++)
		n += d->changes[i].type == t;
	return n;
}

/* ---- building variants of a snapshot ---- */

static snap_snapshot *empty_like(const snap_snapshot *in)
{
	snap_snapshot *out;
	assert_int_equal(snap_snapshot_new(&out, NULL), 0);
	for (size_t f = 0; f < in->nfields; f++)
		assert_int_equal(snap_field_intern(out, in->fields[f].name,
						   strlen(in->fields[f].name),
						   in->fields[f].unit, NULL), (int)f);
	return out;
}

/* ASLR: the executable, the mmap area and the stack each move by their
 * own random amount (multiples of 64 MiB keep glibc arenas aligned). */
static uint64_t aslr(uint64_t addr)
{
	if (addr >= 0xffffffff00000000ull)
		return addr; /* [vsyscall] does not move */
	if (addr >= 0x7ff000000000ull)
		return addr + 0x10000000ull;
	if (addr >= 0x700000000000ull)
		return addr - 0x2340000000ull;
	return addr + 0x1000000000ull;
}

static void copy_region(snap_snapshot *out, const snap_region *r, int64_t extra)
{
	snap_region c = *r;
	c.start = aslr(r->start) + (uint64_t)extra;
	c.end = aslr(r->end) + (uint64_t)extra;
	assert_int_equal(snap_snapshot_add_region(out, &c, NULL), 0);
}

static void add_anon_flags(snap_snapshot *out, uint64_t start, uint64_t kb,
			   const char *perms, uint64_t rss_kb, const char *vmflags)
{
	const char *names[] = { "Size", "Rss", "Private_Dirty", "Anonymous" };
	uint64_t values[] = { kb, rss_kb, rss_kb, rss_kb };
	snap_entry entries[4];
	for (int k = 0; k < 4; k++) {
		int f = snap_field_intern(out, names[k], strlen(names[k]), SNAP_UNIT_KB, NULL);
		assert_true(f >= 0);
		entries[k] = (snap_entry){ .field = (uint32_t)f, .value = values[k] };
	}
	snap_region r = { .start = start, .end = start + kb * 1024, .path = "",
			  .vmflags = vmflags, .entries = entries, .nentries = 4 };
	memcpy(r.perms, perms, 5);
	assert_int_equal(snap_snapshot_add_region(out, &r, NULL), 0);
}

static void add_anon(snap_snapshot *out, uint64_t start, uint64_t kb,
		     const char *perms, uint64_t rss_kb)
{
	add_anon_flags(out, start, kb, perms, rss_kb, NULL);
}

static snap_snapshot *shifted_copy(const snap_snapshot *in)
{
	snap_snapshot *out = empty_like(in);
	for (size_t i = 0; i < in->nregions; i++)
		copy_region(out, &in->regions[i], 0);
	return out;
}

static void give_process(snap_snapshot *s, long pid, long long start_time,
			 const char *boot_id)
{
	s->process.known = true;
	s->process.pid = pid;
	s->process.start_time = start_time;
	s->host.boot_id = boot_id;
}

/* ---- one process seen twice: fixtures/diff/proc_{before,after}.smaps ---- */

static void same_process_explains_every_change(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	assert_true(d->by_address);
	/* the new thread's guard page is a change of its own */
	assert_int_equal(d->nchanges, 11);
	assert_int_equal(d->hidden, 0);

	const snap_change *heap = change_at(d, 0x555555560000);
	assert_int_equal(heap->type, SNAP_CHANGE_GROWN);
	assert_int_equal(heap->kind, SNAP_KIND_HEAP);
	assert_int_equal(heap->delta.kb[SNAP_M_SIZE], 128);
	assert_int_equal(heap->delta.kb[SNAP_M_RSS], 128);
	assert_int_equal(heap->nmapped, 1);
	assert_true(heap->mapped[0].start == 0x555555581000 &&
		    heap->mapped[0].end == 0x5555555a1000);

	/* a new mmap merged into the region above it is new memory */
	const snap_change *merged = change_at(d, 0x7f0000180000);
	assert_int_equal(merged->type, SNAP_CHANGE_GROWN);
	assert_int_equal(merged->old.start, 0x7f0000200000);
	assert_int_equal(merged->nmapped, 1);
	assert_true(merged->mapped[0].start == 0x7f0000180000 &&
		    merged->mapped[0].end == 0x7f0000200000);
	assert_int_equal(merged->delta.kb[SNAP_M_SIZE], 512);

	/* mprotect of the middle: split 1 -> 3, no memory change */
	const snap_change *split = change_at(d, 0x7f0000000000);
	assert_int_equal(split->type, SNAP_CHANGE_PERMS);
	assert_int_equal(split->old.nregions, 1);
	assert_int_equal(split->new.nregions, 3);
	assert_int_equal(split->nperms_changes, 1);
	assert_true(split->perms_changes[0].start == 0x7f0000040000 &&
		    split->perms_changes[0].end == 0x7f0000080000);
	assert_string_equal(split->perms_changes[0].old_perms, "rw-p");
	assert_string_equal(split->perms_changes[0].new_perms, "r--p");
	assert_int_equal(split->nmapped + split->nunmapped, 0);

	/* mprotect back: merge 2 -> 1 */
	const snap_change *merge = change_at(d, 0x7f0000700000);
	assert_int_equal(merge->type, SNAP_CHANGE_PERMS);
	assert_int_equal(merge->old.nregions, 2);
	assert_int_equal(merge->new.nregions, 1);
	assert_string_equal(merge->perms_changes[0].new_perms, "rw-p");

	const snap_change *gone = change_at(d, 0x7f0000400000);
	assert_int_equal(gone->type, SNAP_CHANGE_VANISHED);
	assert_int_equal(gone->delta.kb[SNAP_M_SIZE], -1024);
	assert_false(gone->new.present);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void same_process_reuse_threads_deleted(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	/* address reuse: the data file vanished, anon memory is new there */
	size_t file = 0, anon = 0;
	for (size_t i = 0; i < d->nchanges; i++) {
		const snap_change *c = &d->changes[i];
		uint64_t s = c->new.present ? c->new.start : c->old.start;
		if (s != 0x7f0000600000)
			continue;
		file += c->type == SNAP_CHANGE_VANISHED && c->kind == SNAP_KIND_FILE;
		anon += c->type == SNAP_CHANGE_NEW && c->kind == SNAP_KIND_ANON;
	}
	assert_int_equal(file, 1);
	assert_int_equal(anon, 1);
	/* a new thread: its stack and its guard page, one change each (a
	 * change is one kind of memory) */
	const snap_change *g = change_at(d, 0x7f0001800000);
	assert_int_equal(g->type, SNAP_CHANGE_NEW);
	assert_int_equal(g->kind, SNAP_KIND_GUARD);
	assert_int_equal(g->delta.kb[SNAP_M_SIZE], 4);
	const snap_change *t = change_at(d, 0x7f0001801000);
	assert_int_equal(t->type, SNAP_CHANGE_NEW);
	assert_int_equal(t->kind, SNAP_KIND_THREAD_STACK);
	assert_int_equal(t->new.nregions, 1);
	assert_int_equal(t->delta.kb[SNAP_M_SIZE], 8192);
	assert_int_equal(d->old_id->thread_stacks, 1);
	assert_int_equal(d->new_id->thread_stacks, 2);
	/* the library deleted on disk: one change for its five segments */
	const snap_change *foo = change_at(d, 0x7f0020000000);
	assert_int_equal(foo->type, SNAP_CHANGE_REPLACED);
	assert_true(foo->image);
	assert_int_equal(foo->new.nregions, 5);
	assert_int_equal(count_type(d, SNAP_CHANGE_REPLACED), 1);
	/* [stack] grew down */
	const snap_change *st = change_at(d, 0x7ffbffff0000);
	assert_int_equal(st->kind, SNAP_KIND_STACK);
	assert_true(st->nmapped == 1 && st->mapped[0].end == 0x7ffc00000000);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* libc's text lost half its Pss (another process mapped it): not a
 * change, unless the metric is Pss. */
static void pss_only_changes_need_metric_pss(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_with(a, b, SNAP_MATCH_ADDRESS, SNAP_M_PSS, 4);
	assert_int_equal(d->nchanges, 12);
	const snap_change *libc = change_at(d, 0x7f0010026000);
	assert_int_equal(libc->type, SNAP_CHANGE_SHRUNK);
	assert_int_equal(libc->delta.kb[SNAP_M_PSS], -200);
	assert_int_equal(libc->delta.kb[SNAP_M_RSS], 0);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* With every change listed, a row whose Rss and Size did not move says
 * which counter did (libc's text lost Pss to another process). */
static void zero_rows_say_what_moved(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_with(a, b, SNAP_MATCH_ADDRESS, SNAP_M_RSS, 0);
	const snap_change *libc = change_at(d, 0x7f0010026000);
	assert_int_equal(libc->delta.kb[SNAP_M_RSS], 0);
	assert_int_equal(libc->delta.kb[SNAP_M_SIZE], 0);
	char moved[200];
	assert_string_equal(fmt_change_moved(moved, sizeof(moved), libc, SNAP_M_RSS,
					     SNAP_M_SIZE), "Pss -200K");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fmt_diff_opts o = { "old", "new", NULL, false, 0 };
	assert_int_equal(fmt_diff_text(f, d, &o), 0);
	fclose(f);
	assert_non_null(strstr(text, "moved: Pss -200K"));
	free(text);
	/* a change that moved Rss says nothing more */
	const snap_change *heap = change_at(d, 0x555555560000);
	assert_string_equal(fmt_change_moved(moved, sizeof(moved), heap, SNAP_M_RSS,
					     SNAP_M_SIZE), "");
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void min_change_hides_small_changes(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_with(a, b, SNAP_MATCH_ADDRESS, SNAP_M_RSS, 256);
	/* hidden: heap +128K, [stack] +64K, new anon 128K, vanished file 64K,
	 * the new thread's 4K guard page */
	assert_int_equal(d->hidden, 5);
	assert_int_equal(d->nchanges, 6);
	/* sorted by |delta Rss|, the vanished 1M first */
	assert_int_equal(d->changes[0].type, SNAP_CHANGE_VANISHED);
	assert_int_equal(d->changes[0].delta.kb[SNAP_M_RSS], -1024);
	for (size_t i = 1; i < d->nchanges; i++)
		assert_true(llabs(d->changes[i - 1].delta.kb[SNAP_M_RSS]) >=
			    llabs(d->changes[i].delta.kb[SNAP_M_RSS]));
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void totals_and_kinds(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	assert_int_equal(d->total_old.regions, (int64_t)a->nregions);
	assert_int_equal(d->total_new.regions, (int64_t)b->nregions);
	int64_t sum = 0, size = 0;
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		sum += d->kind_new[k].kb[SNAP_M_RSS];
	for (size_t i = 0; i < b->nregions; i++)
		size += (int64_t)((b->regions[i].end - b->regions[i].start) >> 10);
	assert_int_equal(sum, d->total_new.kb[SNAP_M_RSS]);
	assert_int_equal(size, d->total_new.kb[SNAP_M_SIZE]);
	assert_int_equal(d->kind_new[SNAP_KIND_HEAP].kb[SNAP_M_RSS], 260);
	assert_int_equal(d->kind_old[SNAP_KIND_FILE].regions, 1);
	assert_int_equal(d->kind_new[SNAP_KIND_FILE].regions, 0);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void auto_matching_needs_the_same_process(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	give_process(a, 4242, 1000, "boot-a");
	give_process(b, 4242, 1000, "boot-a");
	assert_true(snap_same_process(a, b));
	snap_diff *d = diff_of(a, b, SNAP_MATCH_AUTO);
	assert_true(d->same_process && d->by_address);
	snap_diff_free(d);
	b->process.start_time = 2000; /* the pid was reused */
	assert_false(snap_same_process(a, b));
	b->process.start_time = 1000;
	b->host.boot_id = "boot-b";
	assert_false(snap_same_process(a, b));
	d = diff_of(a, b, SNAP_MATCH_AUTO);
	assert_false(d->by_address);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* ---- two processes ---- */

static void aslr_shifted_copy_has_no_changes(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/zoo/proc.smaps");
	snap_snapshot *b = shifted_copy(a);
	snap_diff *d = diff_with(a, b, SNAP_MATCH_AUTO, SNAP_M_RSS, 0);
	assert_false(d->by_address);
	assert_int_equal(d->nchanges, 0);
	assert_int_equal(d->hidden, 0);
	assert_memory_equal(&d->total_old, &d->total_new, sizeof(snap_sums));
	snap_diff_free(d);
	/* matched by address instead, everything would look new */
	d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	assert_true(count_type(d, SNAP_CHANGE_NEW) > 10);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* snap_diff_match labels what the diff pairs; regions that overlap are
 * an error naming the snapshot and the regions. */
static void match_labels_or_says_why(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/zoo/proc.smaps");
	snap_snapshot *b = shifted_copy(a), *bad = empty_like(a);
	add_anon(bad, 0x10000, 8, "rw-p", 4);
	add_anon(bad, 0x11000, 4, "rw-p", 4); /* starts inside the one before */
	snap_identity *ia, *ib, *ibad;
	snap_error err = { 0 };
	assert_int_equal(snap_identity_new(&ia, a, &err), 0);
	assert_int_equal(snap_identity_new(&ib, b, &err), 0);
	assert_int_equal(snap_identity_new(&ibad, bad, &err), 0);
	int32_t *old_groups = malloc(a->nregions * sizeof(int32_t));
	int32_t *new_groups = malloc(a->nregions * sizeof(int32_t));
	bool by_address = true;
	assert_int_equal(snap_diff_match(old_groups, new_groups, &by_address, ia, ib,
					 SNAP_MATCH_AUTO, &err), 0);
	assert_false(by_address);
	for (size_t i = 0; i < a->nregions; i++)
		assert_true(new_groups[i] >= 0); /* an ASLR copy: all matched */
	assert_string_equal(err.message, "");
	assert_int_equal(snap_diff_match(old_groups, new_groups, NULL, ia, ibad,
					 SNAP_MATCH_IDENTITY, &err), SNAP_EFORMAT);
	assert_string_equal(err.message, "the new snapshot's regions overlap or are out of "
			    "address order: region 2 starts at 11000, before region 1 "
			    "ends at 12000");
	assert_int_equal(snap_diff_match(old_groups, new_groups, NULL, ibad, ia,
					 SNAP_MATCH_ADDRESS, NULL), SNAP_EFORMAT);
	free(old_groups);
	free(new_groups);
	snap_identity_free(ia);
	snap_identity_free(ib);
	snap_identity_free(ibad);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	snap_snapshot_free(bad);
}

struct to_compare {
	snap_identity *old_id, *new_id;
	snap_diff *diff;
	snap_gate *gate;
};

static int compare_without_memory(void *ctx)
{
	struct to_compare *c = ctx;
	snap_error err = { 0 };
	snap_gate *g;
	int32_t groups[2][64];
	char want[96];
	snprintf(want, sizeof(want), "out of memory matching %zu regions with %zu",
		 c->old_id->snap->nregions, c->new_id->snap->nregions);
	int bad = error_says(snap_diff_match(groups[0], groups[1], NULL, c->old_id,
					     c->new_id, SNAP_MATCH_IDENTITY, &err),
			     SNAP_ENOMEM, &err, want);
	bad |= snap_diff_match(groups[0], groups[1], NULL, c->old_id, c->new_id,
			       SNAP_MATCH_ADDRESS, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_gate_new(&g, &err), SNAP_ENOMEM, &err,
			  "out of memory creating a gate");
	bad |= snap_gate_new(&g, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_gate_check(c->gate, c->diff, &err), SNAP_ENOMEM, &err,
			  "out of memory building the gate's list of violations");
	bad |= snap_gate_check(c->gate, c->diff, NULL) != SNAP_ENOMEM;
	return bad;
}

static void compare_out_of_memory(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/sleep/proc.smaps");
	snap_snapshot *b = shifted_copy(a);
	assert_true(a->nregions <= 64);
	struct to_compare c;
	snap_error err = { 0 };
	assert_int_equal(snap_identity_new(&c.old_id, a, NULL), 0);
	assert_int_equal(snap_identity_new(&c.new_id, b, NULL), 0);
	c.diff = diff_of(a, b, SNAP_MATCH_IDENTITY);
	assert_int_equal(snap_gate_new(&c.gate, &err), 0);
	assert_int_equal(snap_gate_add(c.gate, "rss>+1M", &err), 0);
	int rc = run_out_of_memory(compare_without_memory, &c);
	snap_gate_free(c.gate);
	snap_diff_free(c.diff);
	snap_identity_free(c.old_id);
	snap_identity_free(c.new_id);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	assert_int_equal(rc, 0);
}

/* Regions of distinct sizes under one anchor, and one more inserted
 * among them: only that one is new. */
static void inserted_region_is_the_only_change(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *old = empty_like(a), *new = empty_like(a);
	static const uint64_t sizes[] = { 64, 128, 256, 512, 1024 };
	for (int side = 0; side < 2; side++) {
		snap_snapshot *s = side ? new : old;
		uint64_t base = side ? 0x7f1100000000ull : 0x7f2200000000ull;
		copy_region(s, &a->regions[0], 0); /* the exe: an anchor */
		for (size_t k = 0; k < 5; k++) {
			if (side && k == 2)
				add_anon(s, base + 2 * 0x1000000 - 0x800000, 100, "rw-p", 100);
			add_anon(s, base + k * 0x1000000, sizes[k], "rw-p", sizes[k] / 2);
		}
	}
	snap_diff *d = diff_with(old, new, SNAP_MATCH_IDENTITY, SNAP_M_RSS, 0);
	assert_int_equal(d->nchanges, 1);
	assert_int_equal(d->changes[0].type, SNAP_CHANGE_NEW);
	assert_int_equal(d->changes[0].delta.kb[SNAP_M_SIZE], 100);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(old);
	snap_snapshot_free(new);
}

/* The same in a real process: an anonymous region inserted in zoo's run
 * of alternating one-page regions. */
static void inserted_region_in_a_real_layout(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/zoo/proc.smaps");
	snap_snapshot *b = empty_like(a);
	size_t at = 0;
	for (size_t i = 1; i < a->nregions && !at; i++)
		if (a->regions[i].path_len == 0 && a->regions[i - 1].path_len == 0 &&
		    a->regions[i].end - a->regions[i].start == 4096 && i > 20)
			at = i;
	assert_true(at > 0);
	for (size_t i = 0; i < a->nregions; i++) {
		if (i == at)
			add_anon(b, aslr(a->regions[i].start) + 0x1000, 12, "rw-p", 12);
		copy_region(b, &a->regions[i], i >= at ? 0x5000 : 0);
	}
	snap_diff *d = diff_with(a, b, SNAP_MATCH_IDENTITY, SNAP_M_RSS, 0);
	assert_int_equal(d->nchanges, 1);
	assert_int_equal(d->changes[0].type, SNAP_CHANGE_NEW);
	assert_int_equal(d->changes[0].delta.kb[SNAP_M_SIZE], 12);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* Three more threads in the other process (glibc stacks: MAP_STACK, so
 * VmFlags nh on the stack and its guard): three new thread stacks and
 * three new guard pages, one change each, and nothing else. */
static void thread_churn_is_new_stacks(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/zoo/proc.smaps");
	snap_snapshot *b = empty_like(a);
	size_t first_guard = 0;
	for (size_t i = 0; i < a->nregions && !first_guard; i++)
		if (strcmp(a->regions[i].perms, "---p") == 0 && !a->regions[i].path_len)
			first_guard = i;
	uint64_t at = aslr(a->regions[first_guard].start) - 3 * 0x801000;
	for (size_t i = 0; i < a->nregions; i++) {
		if (i == first_guard)
			for (int t = 0; t < 3; t++) {
				uint64_t g = at + (uint64_t)t * 0x801000;
				add_anon_flags(b, g, 4, "---p", 0, "mr mw me nh");
				add_anon_flags(b, g + 0x1000, 8192, "rw-p", 8,
					       "rd wr mr mw me ac nh");
			}
		copy_region(b, &a->regions[i], 0);
	}
	snap_diff *d = diff_with(a, b, SNAP_MATCH_IDENTITY, SNAP_M_RSS, 4);
	assert_int_equal(d->old_id->thread_stacks, 2);
	assert_int_equal(d->new_id->thread_stacks, 5);
	assert_int_equal(d->nchanges, 6);
	assert_int_equal(count_type(d, SNAP_CHANGE_NEW), 6);
	for (size_t i = 0; i < d->nchanges; i++) {
		const snap_change *c = &d->changes[i];
		assert_int_equal(c->new.nregions, 1);
		if (c->kind == SNAP_KIND_THREAD_STACK) {
			assert_int_equal(c->delta.kb[SNAP_M_SIZE], 8192);
			assert_int_equal(c->evidence, SNAP_EV_MAP_STACK);
		} else {
			assert_int_equal(c->kind, SNAP_KIND_GUARD);
			assert_int_equal(c->delta.kb[SNAP_M_SIZE], 4);
		}
	}
	snap_diff_free(d);
	/* and the other way round, fewer threads */
	d = diff_with(b, a, SNAP_MATCH_IDENTITY, SNAP_M_RSS, 4);
	assert_int_equal(count_type(d, SNAP_CHANGE_VANISHED), 6);
	assert_int_equal(d->nchanges, 6);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* old: dups.smaps without the libz copy and the dlmopen'ed libz (and its
 * bss); new: all of it, ASLR-shifted. */
static void new_duplicates_across_processes(void **state)
{
	(void)state;
	snap_snapshot *all = load("fixtures/diff/dups.smaps");
	snap_snapshot *old = empty_like(all), *new = shifted_copy(all);
	for (size_t i = 0; i < all->nregions; i++) {
		uint64_t s = all->regions[i].start;
		if (s < 0x7f0002000000ull || s >= 0x7f0004000000ull)
			assert_int_equal(snap_snapshot_add_region(old, &all->regions[i], NULL), 0);
	}
	snap_diff *d = diff_of(old, new, SNAP_MATCH_AUTO);
	assert_int_equal(count_type(d, SNAP_CHANGE_DUPLICATED), 2);
	assert_int_equal(count_type(d, SNAP_CHANGE_NEW), 1); /* the bss */
	assert_int_equal(d->nchanges, 3);
	assert_int_equal(d->new_libs, 2);
	for (size_t i = 0; i < d->nchanges; i++)
		if (d->changes[i].type == SNAP_CHANGE_DUPLICATED) {
			assert_true(d->changes[i].image);
			assert_int_equal(d->changes[i].new.nregions, 5);
			assert_int_equal(d->changes[i].kind, SNAP_KIND_LIB);
		}
	assert_int_equal(d->ndups, 3);
	for (size_t k = 0; k < d->ndups; k++)
		assert_int_equal(d->dups[k].new_in_new,
				 strcmp(d->dups[k].dup->name, "libz.so") == 0);
	snap_diff_free(d);
	snap_snapshot_free(all);
	snap_snapshot_free(old);
	snap_snapshot_free(new);
}

static void replaced_library_across_processes(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/dups.smaps");
	snap_snapshot *b = empty_like(a);
	for (size_t i = 0; i < a->nregions; i++) {
		snap_region r = a->regions[i];
		if (r.inode == 8002)
			r.inode = 9999; /* libssl.so.3 upgraded on disk */
		r.start = aslr(r.start);
		r.end = aslr(r.end);
		assert_int_equal(snap_snapshot_add_region(b, &r, NULL), 0);
	}
	snap_diff *d = diff_of(a, b, SNAP_MATCH_IDENTITY);
	assert_int_equal(d->nchanges, 1);
	const snap_change *c = &d->changes[0];
	assert_int_equal(c->type, SNAP_CHANGE_REPLACED);
	assert_true(c->image);
	assert_int_equal(c->old.inode, 8002);
	assert_int_equal(c->new.inode, 9999);
	assert_int_equal(c->new.nregions, 5);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* ---- the gate ---- */

static snap_gate *gate_of(const char *const *exprs, size_t n)
{
	snap_gate *g;
	assert_int_equal(snap_gate_new(&g, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		snap_error err;
		if (snap_gate_add(g, exprs[i], &err) != 0)
			fail_msg("%s: %s", exprs[i], err.message);
	}
	return g;
}

static bool violates(const snap_diff *d, const char *expr)
{
	snap_gate *g = gate_of(&expr, 1);
	int n = snap_gate_check(g, d, NULL);
	assert_true(n == 0 || n == 1);
	snap_gate_free(g);
	return n == 1;
}

static void gate_expressions(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	int64_t ro = d->total_old.kb[SNAP_M_RSS], rn = d->total_new.kb[SNAP_M_RSS];
	assert_true(rn < ro); /* Rss fell overall: -1M, +512K, ... */
	assert_false(violates(d, "rss>+0"));
	assert_true(violates(d, "rss<-100K"));
	assert_true(violates(d, "rss<=-1%"));
	assert_false(violates(d, "rss>+10%"));
	assert_true(violates(d, "heap.rss>+100K"));  /* heap +128K */
	assert_false(violates(d, "heap.rss>+128K"));
	assert_true(violates(d, "heap.rss>=+128K"));
	assert_true(violates(d, "heap.rss>+48%"));   /* 132K -> 260K: +97% */
	assert_false(violates(d, "heap.rss>+98%"));
	assert_true(violates(d, "heap.rss>200K"));   /* a bare value: new */
	assert_true(violates(d, "thread-stacks>+0")); /* 1 -> 2 */
	assert_false(violates(d, "thread-stacks>+1"));
	assert_true(violates(d, "regions>+1"));      /* 26 -> 28 */
	assert_false(violates(d, "regions > +2"));
	assert_false(violates(d, "dup-libs>0"));
	assert_false(violates(d, "new-libs>0"));
	assert_true(violates(d, "size>+7M"));        /* + a thread stack */
	assert_true(violates(d, "thread-stack.size>=+8M")); /* its guard is a guard */
	assert_false(violates(d, "thread-stack.size>+8M"));
	assert_true(violates(d, "file.regions<+0"));  /* 1 -> 0 */
	assert_true(violates(d, "FILE.Regions<1"));
	assert_false(violates(d, "anon.dirty>+64M"));
	assert_true(violates(d, "guard.size>+0"));
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void gate_messages_and_percent_from_zero(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/dups.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_IDENTITY);
	const char *exprs[] = { "dup-libs>0", "new-libs>+2", "heap.rss>+1M",
				"regions>+100%" };
	snap_gate *g = gate_of(exprs, 4);
	assert_int_equal(snap_gate_check(g, d, NULL), 3);
	size_t n;
	const snap_violation *v = snap_gate_violations(g, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].expr, "dup-libs>0");
	assert_true(v[0].actual == 3 && v[0].limit == 0);
	assert_non_null(strstr(v[0].message, "dup-libs>0"));
	assert_string_equal(v[1].expr, "new-libs>+2");
	/* new library images: 3 libz, libc-2.31.so, 2 libssl, the module,
	 * ld.so (libc.so.6 at the same path and offsets matches the old one) */
	assert_true(v[1].actual == 8);
	assert_string_equal(v[2].expr, "regions>+100%");
	assert_true(fabs(v[2].actual - (55.0 - 26) * 100 / 26) < 0.01);
	snap_gate_free(g);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void bad_gate_expressions_are_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"rss", "rss>", ">1M", "rss>>1", "rss=1", "rss>1X", "rss>+",
		"bogus>1", "heap.bogus>1", "nokind.rss>1", "heap.dup-libs>0",
		"dup-libs>1M", "rss>+x%", "rss>1<2", "",
	};
	snap_gate *g;
	assert_int_equal(snap_gate_new(&g, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snap_error err = { 0 };
		if (snap_gate_add(g, bad[i], &err) != SNAP_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(err.source, bad[i]);
		assert_non_null(strstr(err.message, "bad --fail-if expression"));
	}
	assert_int_equal(snap_gate_size(g), 0);
	snap_gate_free(g);
}

/* ---- the JSON report ---- */

static void json_report_has_the_documented_shape(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/diff/proc_before.smaps");
	snap_snapshot *b = load("fixtures/diff/proc_after.smaps");
	snap_diff *d = diff_of(a, b, SNAP_MATCH_ADDRESS);
	const char *expr = "thread-stacks>+0";
	snap_gate *g = gate_of(&expr, 1);
	assert_int_equal(snap_gate_check(g, d, NULL), 1);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fmt_diff_opts o = { "a", "b", g, false, 0 };
	assert_int_equal(fmt_diff_json(f, d, &o), 0);
	fclose(f);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	if (!doc)
		fail_msg("invalid JSON: %s (line %d)", jerr.text, jerr.line);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")),
			    "mapsnap.diff/1");
	assert_true(json_is_false(json_object_get(doc, "same_process")));
	json_t *changes = json_object_get(doc, "changes");
	assert_int_equal(json_array_size(changes), d->nchanges);
	json_t *first = json_array_get(changes, 0);
	assert_string_equal(json_string_value(json_object_get(first, "change")),
			    "vanished");
	assert_true(json_is_null(json_object_get(first, "new")));
	json_t *old = json_object_get(first, "old");
	assert_string_equal(json_string_value(json_object_get(old, "start")),
			    "7f0000400000");
	assert_int_equal(json_integer_value(json_object_get(old, "Rss")), 1024);
	json_t *delta = json_object_get(first, "delta");
	assert_int_equal(json_integer_value(json_object_get(delta, "Size")), -1024);
	json_t *totals = json_object_get(doc, "totals");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(totals, "new"), "regions")), 28);
	json_t *ts = json_object_get(doc, "thread_stacks");
	assert_int_equal(json_integer_value(json_object_get(ts, "old")), 1);
	assert_int_equal(json_integer_value(json_object_get(ts, "new")), 2);
	json_t *gate = json_object_get(doc, "gate");
	assert_true(json_is_false(json_object_get(gate, "passed")));
	assert_int_equal(json_array_size(json_object_get(gate, "violations")), 1);
	assert_true(json_is_array(json_object_get(doc, "by_kind")));
	assert_true(json_is_array(json_object_get(doc, "duplicated_libraries")));
	json_decref(doc);
	free(text);
	snap_gate_free(g);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

/* The zoo process again, its libraries installed under /srv/root (a
 * container's view): without build-ids the libraries vanish and appear
 * again, unless --map-path says where the old prefix went. */
static void map_path_aligns_prefixes(void **state)
{
	(void)state;
	snap_snapshot *a = load("fixtures/ref/zoo/proc.smaps");
	snap_snapshot *b = empty_like(a);
	for (size_t i = 0; i < a->nregions; i++) {
		snap_region r = a->regions[i];
		char path[4200];
		if (strncmp(r.path, "/usr/lib/", 9) == 0) {
			snprintf(path, sizeof(path), "/srv/root%s", r.path);
			r.path = snap_snapshot_strdup(b, path);
			r.path_len = (uint32_t)strlen(path);
		}
		copy_region(b, &r, 0);
	}
	snap_diff *d = diff_with(a, b, SNAP_MATCH_IDENTITY, SNAP_M_RSS, 4);
	assert_true(count_type(d, SNAP_CHANGE_VANISHED) >= 2); /* libc, ld.so */
	assert_true(count_type(d, SNAP_CHANGE_NEW) >= 2);
	snap_diff_free(d);

	char text[] = "/usr/lib/=/srv/root/usr/lib";
	snap_path_map map;
	assert_int_equal(snap_path_map_parse(&map, text, NULL), 0);
	assert_string_equal(map.from, "/usr/lib");
	snap_diff_opts o;
	snap_diff_opts_init(&o, SNAP_DIFF_OPTS_VERSION);
	o.match = SNAP_MATCH_IDENTITY;
	o.path_maps = &map;
	o.npath_maps = 1;
	snap_error err;
	assert_int_equal(snap_diff_new(&d, a, b, &o, &err), 0);
	assert_int_equal(d->nchanges, 0);
	snap_diff_free(d);
	/* a prefix ends at a '/': /usr/li is no prefix of /usr/lib */
	char partial[] = "/usr/li=/srv/root/usr/li";
	assert_int_equal(snap_path_map_parse(&map, partial, &err), 0);
	assert_int_equal(snap_diff_new(&d, a, b, &o, &err), 0);
	assert_true(d->nchanges >= 4);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
}

static void expect_bad_map(const char *text, const char *why)
{
	char copy[64], want[256];
	snap_path_map map;
	snap_error err = { 0 };
	snprintf(copy, sizeof(copy), "%s", text);
	assert_int_equal(snap_path_map_parse(&map, copy, &err), SNAP_EINVAL);
	snprintf(want, sizeof(want), "bad path map '%s': %s (expected OLD=NEW, two "
		 "absolute paths)", text, why);
	assert_string_equal(err.message, want);
	assert_string_equal(copy, text); /* left as it was */
	assert_int_equal(snap_path_map_parse(&map, copy, NULL), SNAP_EINVAL);
}

/* A malformed path map says which half is wrong. */
static void test_path_map_errors(void **state)
{
	(void)state;
	expect_bad_map("usr/lib=/srv", "OLD is not an absolute path");
	expect_bad_map("/usr/lib=srv", "NEW is not an absolute path");
	expect_bad_map("/=/srv", "OLD is /, which would map every path");
	expect_bad_map("/usr/lib", "no '='");
	expect_bad_map("", "no '='");
	char ok[] = "/opt/app/=/srv/app/";
	snap_path_map map;
	assert_int_equal(snap_path_map_parse(&map, ok, NULL), 0);
	assert_string_equal(map.from, "/opt/app");
	assert_string_equal(map.to, "/srv/app");
}

/* Every pair of fixtures, both ways, both matching modes, and the
 * synthetic thread churn: with --min-change 0 no region is in two changes
 * and the changes of each kind add up to that kind's delta in the totals,
 * in every counter. */
static void changes_add_up_to_the_totals(void **state)
{
	(void)state;
	const char *paths[] = { "fixtures/diff/proc_before.smaps",
				"fixtures/diff/proc_after.smaps", "fixtures/diff/dups.smaps",
				"fixtures/ref/python3/proc.smaps",
				"fixtures/ref/sleep/proc.smaps", "fixtures/ref/zoo/proc.smaps" };
	enum { N = sizeof(paths) / sizeof(*paths) };
	snap_snapshot *snaps[N + 1];
	for (size_t i = 0; i < N; i++)
		snaps[i] = load(paths[i]);
	snaps[N] = shifted_copy(snaps[N - 1]);
	for (size_t i = 0; i <= N; i++)
		for (size_t j = 0; j <= N; j++)
			for (int mode = SNAP_MATCH_ADDRESS; mode <= SNAP_MATCH_IDENTITY; mode++) {
				snap_diff *d = diff_with(snaps[i], snaps[j], mode, SNAP_M_RSS, 0);
				char why[256];
				if (!diff_invariants_hold(d, why, sizeof(why)))
					fail_msg("%zu -> %zu by %s: %s", i, j,
						 mode == SNAP_MATCH_ADDRESS ? "address" : "identity",
						 why);
				assert_int_equal(d->hidden, 0);
				snap_diff_free(d);
			}
	for (size_t i = 0; i <= N; i++)
		snap_snapshot_free(snaps[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(changes_add_up_to_the_totals),
		cmocka_unit_test(map_path_aligns_prefixes),
		cmocka_unit_test(test_path_map_errors),
		cmocka_unit_test(same_process_explains_every_change),
		cmocka_unit_test(same_process_reuse_threads_deleted),
		cmocka_unit_test(pss_only_changes_need_metric_pss),
		cmocka_unit_test(zero_rows_say_what_moved),
		cmocka_unit_test(min_change_hides_small_changes),
		cmocka_unit_test(totals_and_kinds),
		cmocka_unit_test(auto_matching_needs_the_same_process),
		cmocka_unit_test(aslr_shifted_copy_has_no_changes),
		cmocka_unit_test(match_labels_or_says_why),
		cmocka_unit_test(compare_out_of_memory),
		cmocka_unit_test(inserted_region_is_the_only_change),
		cmocka_unit_test(inserted_region_in_a_real_layout),
		cmocka_unit_test(thread_churn_is_new_stacks),
		cmocka_unit_test(new_duplicates_across_processes),
		cmocka_unit_test(replaced_library_across_processes),
		cmocka_unit_test(gate_expressions),
		cmocka_unit_test(gate_messages_and_percent_from_zero),
		cmocka_unit_test(bad_gate_expressions_are_errors),
		cmocka_unit_test(json_report_has_the_documented_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
