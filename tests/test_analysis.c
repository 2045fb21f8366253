/* analysis.c: the summary's totals, kinds, top regions, libraries by
 * image, thread stacks, arenas and the smaps_rollup cross-check, on the
 * crafted fixtures/check/summary*.smaps (numbers worked out by hand from
 * their design, fixtures/check/README.md) and on real captures, whose
 * totals are summed here line by line from the smaps text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

static snap_snapshot *load(const char *path, bool siblings)
{
	snap_snapshot *snap;
	snap_error err;
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	if (snap_capture_files(snap, path, siblings, &err) != 0)
		fail_msg("%s: %s", err.source, err.message);
	return snap;
}

static snap_summary *summarise(const snap_snapshot *snap, const snap_summary_opts *o)
{
	snap_summary *sum;
	assert_int_equal(snap_summary_new(&sum, snap, o, NULL), 0);
	return sum;
}

/* ---- sums taken straight from the text, independently of libsnap ---- */

struct text_sums {
	int64_t regions, size, rss, pss, dirty, swap;
};

static void add_line(struct text_sums *t, const char *line)
{
	char key[64];
	long long v;
	if (sscanf(line, "%63[^:]: %lld kB", key, &v) != 2)
		return;
	int64_t *to = strcmp(key, "Size") == 0 ? &t->size
		    : strcmp(key, "Rss") == 0 ? &t->rss
		    : strcmp(key, "Pss") == 0 ? &t->pss
		    : strcmp(key, "Private_Dirty") == 0 ? &t->dirty
		    : strcmp(key, "Swap") == 0 ? &t->swap : NULL;
	if (to)
		*to += v;
}

/* Sums an smaps or smaps_rollup text (regions: its header lines). */
static struct text_sums sum_text(const char *path)
{
	struct text_sums t = { 0 };
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char line[8192];
	unsigned long long a, b;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, ' '))
			t.regions++;
		else
			add_line(&t, line);
	}
	fclose(f);
	return t;
}

/* ---- the crafted summary fixture ---- */

static void totals_match_the_text(void **state)
{
	(void)state;
	const char *path = "fixtures/check/summary.smaps";
	struct text_sums t = sum_text(path);
	snap_snapshot *snap = load(path, true);
	snap_summary *sum = summarise(snap, NULL);
	assert_int_equal(sum->total.regions, t.regions);
	assert_int_equal(sum->total.regions, 34);
	assert_int_equal(sum->total.kb[SNAP_M_SIZE], t.size);
	assert_int_equal(sum->total.kb[SNAP_M_RSS], t.rss);
	assert_int_equal(sum->total.kb[SNAP_M_PSS], t.pss);
	assert_int_equal(sum->total.kb[SNAP_M_PRIVATE_DIRTY], t.dirty);
	assert_int_equal(sum->total.kb[SNAP_M_SWAP], t.swap);
	assert_false(sum->filtered);
	snap_summary_free(sum);
	snap_summary_free(NULL);
	snap_snapshot_free(snap);
}

static void kinds_add_up(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	snap_summary *sum = summarise(snap, NULL);
	const snap_sums *k = sum->by_kind;
	assert_int_equal(k[SNAP_KIND_EXE].regions, 4);
	assert_int_equal(k[SNAP_KIND_EXE].kb[SNAP_M_SIZE], 36);
	assert_int_equal(k[SNAP_KIND_HEAP].regions, 1);
	assert_int_equal(k[SNAP_KIND_HEAP].kb[SNAP_M_RSS], 12);
	assert_int_equal(k[SNAP_KIND_ARENA].regions, 4);
	assert_int_equal(k[SNAP_KIND_ARENA].kb[SNAP_M_SIZE], 131072);
	assert_int_equal(k[SNAP_KIND_THREAD_STACK].regions, 2);
	assert_int_equal(k[SNAP_KIND_GUARD].regions, 2);
	assert_int_equal(k[SNAP_KIND_LIB].regions, 18);
	assert_int_equal(k[SNAP_KIND_ANON].regions, 1); /* libc's .bss */
	assert_int_equal(k[SNAP_KIND_STACK].regions, 1);
	assert_int_equal(k[SNAP_KIND_SPECIAL].regions, 1);
	snap_sums all = { 0 };
	for (int m = 0; m < SNAP_KIND_COUNT; m++) {
		all.regions += k[m].regions;
		for (int x = 0; x < SNAP_M_COUNT; x++)
			all.kb[x] += k[m].kb[x];
	}
	assert_memory_equal(&all, &sum->total, sizeof(all));
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

static void stacks_and_arenas(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	snap_summary *sum = summarise(snap, NULL);
	assert_int_equal(sum->stacks.count, 2);
	assert_int_equal(sum->stacks.size_kb, 2 * 8192);
	assert_int_equal(sum->stacks.rss_kb, 24);
	assert_int_equal(sum->stacks.threads, -1); /* no status saved */
	assert_int_equal(sum->arenas.count, 2);
	assert_int_equal(sum->arenas.committed_kb, 132 + 1024);
	assert_int_equal(sum->arenas.reserved_kb, 2 * 65536);
	assert_int_equal(sum->arenas.rss_kb, 132 + 512);
	snap_summary_free(sum);
	snap_snapshot_free(snap);

	snap = load("fixtures/check/thread-stacks.smaps", true);
	sum = summarise(snap, NULL);
	assert_int_equal(sum->stacks.count, 3);
	assert_int_equal(sum->stacks.threads, 4);
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

static void libraries_by_image(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	snap_summary *sum = summarise(snap, NULL);
	assert_int_equal(sum->nlibs, 5); /* app, libfoo twice, libc, ld.so */
	static const struct {
		const char *path;
		unsigned ordinal;
		int64_t segments, size, rss;
	} want[] = {
		{ "/usr/lib/x86_64-linux-gnu/libc.so.6", 0, 5, 1912, 1184 },
		{ "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 0, 5, 212, 212 },
		{ "/opt/a/lib/libfoo.so.1", 0, 4, 100, 68 },
		{ "/opt/a/lib/libfoo.so.1", 1, 4, 100, 68 },
		{ "/usr/bin/app", 0, 4, 36, 36 },
	};
	for (size_t k = 0; k < 5; k++) {
		const snap_summary_lib *lib = &sum->libs[k];
		assert_int_equal(lib->image->path_len, strlen(want[k].path));
		assert_memory_equal(lib->image->path, want[k].path, strlen(want[k].path));
		assert_int_equal(lib->image->ordinal, want[k].ordinal);
		assert_int_equal(lib->sums.regions, want[k].segments);
		assert_int_equal(lib->sums.kb[SNAP_M_SIZE], want[k].size);
		assert_int_equal(lib->sums.kb[SNAP_M_RSS], want[k].rss);
	}
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

static uint64_t region_value(const snap_snapshot *snap, size_t i, enum snap_measure m)
{
	const snap_region *r = &snap->regions[i];
	return m == SNAP_M_SIZE ? (r->end - r->start) >> 10
				: snap_region_get(snap, r, snap_measure_name(m));
}

static void check_top(const snap_snapshot *snap, enum snap_measure m, size_t top)
{
	snap_summary_opts o;
	snap_summary_opts_init(&o, SNAP_SUMMARY_OPTS_VERSION);
	o.metric = m;
	o.top = top;
	snap_summary *sum = summarise(snap, &o);
	assert_int_equal(sum->ntop, top < snap->nregions ? top : snap->nregions);
	uint64_t max = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		if (region_value(snap, i, m) > max)
			max = region_value(snap, i, m);
	if (top)
		assert_int_equal(region_value(snap, sum->top[0], m), max);
	for (size_t k = 1; k < sum->ntop; k++)
		assert_true(region_value(snap, sum->top[k - 1], m) >=
			    region_value(snap, sum->top[k], m));
	snap_summary_free(sum);
}

static void top_regions_by_metric(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	check_top(snap, SNAP_M_RSS, 5);
	check_top(snap, SNAP_M_SIZE, 3);
	check_top(snap, SNAP_M_PRIVATE_DIRTY, 100);
	check_top(snap, SNAP_M_PSS, 0);
	snap_summary_opts o;
	snap_summary_opts_init(&o, SNAP_SUMMARY_OPTS_VERSION);
	assert_int_equal(o.metric, SNAP_M_RSS);
	assert_int_equal(o.top, 10);
	o.metric = SNAP_M_SIZE;
	snap_summary *sum = summarise(snap, &o);
	/* the largest: arena 1's 65404K reserve */
	const snap_region *r = &snap->regions[sum->top[0]];
	assert_string_equal(r->perms, "---p");
	assert_int_equal((r->end - r->start) >> 10, 65404);
	snap_summary_free(sum);
	o.metric = SNAP_M_COUNT;
	assert_int_equal(snap_summary_new(&sum, snap, &o, NULL), SNAP_EINVAL);
	snap_snapshot_free(snap);
}

/* ---- the rollup cross-check ---- */

static const snap_rollup_row *row(const snap_summary *sum, enum snap_measure m)
{
	for (size_t k = 0; k < sum->nrollup; k++)
		if (sum->rollup[k].measure == m)
			return &sum->rollup[k];
	fail_msg("no rollup row for %s", snap_measure_name(m));
	return NULL;
}

static void rollup_agrees(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	struct text_sums r = sum_text("fixtures/check/summary.smaps_rollup");
	snap_summary *sum = summarise(snap, NULL);
	assert_int_equal(sum->nrollup, 4);
	assert_false(sum->torn);
	assert_int_equal(row(sum, SNAP_M_RSS)->rollup_kb, r.rss);
	assert_int_equal(row(sum, SNAP_M_RSS)->summed_kb, r.rss);
	assert_int_equal(row(sum, SNAP_M_PSS)->rollup_kb, r.pss);
	/* each Pss line is truncated alone: the sum is 16 kB short */
	assert_int_equal(row(sum, SNAP_M_PSS)->summed_kb, r.pss - 16);
	assert_int_equal(row(sum, SNAP_M_PSS)->tolerance_kb, 34);
	assert_true(row(sum, SNAP_M_PSS)->agrees);
	assert_int_equal(row(sum, SNAP_M_RSS)->tolerance_kb, 0);
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

static void rollup_torn(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary-torn.smaps", true);
	snap_summary *sum = summarise(snap, NULL);
	assert_true(sum->torn);
	assert_false(row(sum, SNAP_M_RSS)->agrees);
	assert_int_equal(row(sum, SNAP_M_RSS)->rollup_kb -
			 row(sum, SNAP_M_RSS)->summed_kb, 64);
	assert_false(row(sum, SNAP_M_PRIVATE_DIRTY)->agrees);
	assert_true(row(sum, SNAP_M_PSS)->agrees);
	assert_true(row(sum, SNAP_M_SWAP)->agrees);
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

/* The Pss tolerance is one kB per region, and no more. */
static void rollup_pss_tolerance(void **state)
{
	(void)state;
	static const int64_t gaps[] = { 34, 35, -34, -35 };
	for (size_t k = 0; k < 4; k++) {
		snap_snapshot *snap = load("fixtures/check/summary.smaps", false);
		assert_int_equal(snap->nrollup, 0);
		struct text_sums t = sum_text("fixtures/check/summary.smaps");
		char text[256];
		int n = snprintf(text, sizeof(text),
				 "Rss: %" PRId64 " kB\nPss: %" PRId64 " kB\n"
				 "Private_Dirty: %" PRId64 " kB\nSwap: 0 kB\n",
				 t.rss, t.pss + gaps[k], t.dirty);
		assert_int_equal(snap_parse_rollup(snap, text, (size_t)n, "test", NULL), 0);
		snap_summary *sum = summarise(snap, NULL);
		bool within = gaps[k] == 34 || gaps[k] == -34;
		assert_int_equal(row(sum, SNAP_M_PSS)->agrees, within);
		assert_int_equal(sum->torn, !within);
		snap_summary_free(sum);
		snap_snapshot_free(snap);
	}
}

static void no_rollup_no_check(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", false);
	snap_summary *sum = summarise(snap, NULL);
	assert_int_equal(sum->nrollup, 0);
	assert_false(sum->torn);
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

/* ---- filters ---- */

static bool only_kind(void *ctx, const snap_snapshot *snap, const snap_region *r,
		      enum snap_kind kind)
{
	(void)snap;
	(void)r;
	return kind == *(enum snap_kind *)ctx;
}

static void filter_counts_only_what_it_keeps(void **state)
{
	(void)state;
	snap_snapshot *snap = load("fixtures/check/summary.smaps", true);
	enum snap_kind want = SNAP_KIND_THREAD_STACK;
	snap_summary_opts o;
	snap_summary_opts_init(&o, SNAP_SUMMARY_OPTS_VERSION);
	o.filter = only_kind;
	o.filter_ctx = &want;
	snap_summary *sum = summarise(snap, &o);
	assert_true(sum->filtered);
	assert_int_equal(sum->total.regions, 2);
	assert_int_equal(sum->total.kb[SNAP_M_SIZE], 16384);
	assert_int_equal(sum->by_kind[SNAP_KIND_LIB].regions, 0);
	assert_int_equal(sum->ntop, 2);
	assert_int_equal(sum->nlibs, 0);
	assert_int_equal(sum->stacks.count, 2);
	assert_int_equal(sum->arenas.count, 0);
	assert_int_equal(sum->nrollup, 0); /* a part never matches the whole */
	snap_summary_free(sum);
	snap_snapshot_free(snap);
}

/* ---- real captures ---- */

static void real_captures_add_up(void **state)
{
	(void)state;
	static const char *const dirs[] = { "bigvirt/", "evolve_after/", "evolve_before/",
					    "mapzoo/", "python3/proc.", "sleep/proc.",
					    "zoo/proc." };
	for (size_t k = 0; k < sizeof(dirs) / sizeof(*dirs); k++) {
		char smaps[256], rollup[256];
		snprintf(smaps, sizeof(smaps), "fixtures/ref/%ssmaps", dirs[k]);
		snprintf(rollup, sizeof(rollup), "fixtures/ref/%ssmaps_rollup", dirs[k]);
		struct text_sums t = sum_text(smaps), r = sum_text(rollup);
		snap_snapshot *snap = load(smaps, true);
		snap_summary *sum = summarise(snap, NULL);
		assert_int_equal(sum->total.regions, t.regions);
		assert_int_equal(sum->total.kb[SNAP_M_SIZE], t.size);
		assert_int_equal(sum->total.kb[SNAP_M_RSS], t.rss);
		assert_int_equal(sum->total.kb[SNAP_M_PSS], t.pss);
		assert_int_equal(sum->total.kb[SNAP_M_PRIVATE_DIRTY], t.dirty);
		assert_int_equal(sum->nrollup, 4);
		/* these were captured with nothing changing: they agree */
		if (sum->torn)
			fail_msg("%s: torn", smaps);
		assert_int_equal(row(sum, SNAP_M_RSS)->rollup_kb, r.rss);
		assert_int_equal(row(sum, SNAP_M_RSS)->summed_kb, r.rss);
		assert_int_equal(row(sum, SNAP_M_PRIVATE_DIRTY)->rollup_kb, r.dirty);
		assert_true(r.pss >= t.pss && r.pss - t.pss <= t.regions);
		snap_summary_free(sum);
		snap_snapshot_free(snap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(totals_match_the_text),
		cmocka_unit_test(kinds_add_up),
		cmocka_unit_test(stacks_and_arenas),
		cmocka_unit_test(libraries_by_image),
		cmocka_unit_test(top_regions_by_metric),
		cmocka_unit_test(rollup_agrees),
		cmocka_unit_test(rollup_torn),
		cmocka_unit_test(rollup_pss_tolerance),
		cmocka_unit_test(no_rollup_no_check),
		cmocka_unit_test(filter_counts_only_what_it_keeps),
		cmocka_unit_test(real_captures_add_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
