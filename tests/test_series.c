/* series.c through the public API: durations, rates and times; the
 * Theil-Sen slope (exact lines, outliers, ties, the sampled path); the
 * growth measures and every verdict rule on synthetic series; trends of
 * synthetic snapshot series (one process, several processes, merging
 * regions, input order); the trend gate; and a series file cut off in
 * the middle of its last document. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "render.h"
#include "snap.h"
#include "util.h"

/* ---- durations, rates, times ---- */

static void durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{ "500ms", 500 }, { "2s", 2000 },   { "1m", 60000 },  { "1min", 60000 },
		{ "1h", 3600000 }, { "1.5s", 1500 }, { "3", 3000 },   { "1d", 86400000 },
		{ "0.25s", 250 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		int64_t ms = -1;
		assert_int_equal(snap_parse_duration(good[i].text, &ms, NULL), 0);
		if (ms != good[i].ms)
			fail_msg("%s: %lld ms, want %lld", good[i].text, (long long)ms,
				 (long long)good[i].ms);
	}
	static const char *const bad[] = { "", "0", "0s", "-1s", "5x", "ms", "1 s",
					   "s1", "0.1ms", "1e400s", "1e13s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int64_t ms;
		snap_error err = { 0 };
		char want[64];
		if (snap_parse_duration(bad[i], &ms, &err) != SNAP_EINVAL ||
		    snap_parse_duration(bad[i], &ms, NULL) != SNAP_EINVAL)
			fail_msg("'%s' should be refused", bad[i]);
		snprintf(want, sizeof(want), "bad duration '%s': ", bad[i]);
		if (strncmp(err.message, want, strlen(want)) != 0)
			fail_msg("'%s': %s", bad[i], err.message);
	}
	/* why, for each kind of mistake */
	int64_t ms;
	snap_error err = { 0 };
	assert_int_equal(snap_parse_duration("5q", &ms, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "bad duration '5q': expected a number and a unit "
			    "ms, s, m, h, d");
	assert_string_equal(err.source, "");
	assert_int_equal(snap_parse_duration("0.1ms", &ms, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "bad duration '0.1ms': shorter than a millisecond");
	assert_int_equal(snap_parse_duration("1e13s", &ms, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "bad duration '1e13s': longer than 10^12 seconds");
}

static void rates(void **state)
{
	(void)state;
	double v;
	snap_error err = { 0 };
	assert_int_equal(snap_parse_rate("1M/min", true, &v, &err), 0);
	assert_true(fabs(v - 1024) < 1e-9);
	assert_int_equal(snap_parse_rate("+64K/s", true, &v, NULL), 0);
	assert_true(fabs(v - 64 * 60) < 1e-9);
	assert_int_equal(snap_parse_rate("2G/h", true, &v, NULL), 0);
	assert_true(fabs(v - 2.0 * 1024 * 1024 / 60) < 1e-6);
	assert_int_equal(snap_parse_rate("-1M/min", true, &v, NULL), 0);
	assert_true(fabs(v + 1024) < 1e-9);
	assert_int_equal(snap_parse_rate("10/min", false, &v, NULL), 0);
	assert_true(fabs(v - 10) < 1e-9);
	assert_int_equal(snap_parse_rate("-5/s", false, &v, NULL), 0);
	assert_true(fabs(v + 300) < 1e-9);
	assert_int_equal(snap_parse_rate("0/min", false, &v, NULL), 0);
	assert_true(v == 0);
	assert_string_equal(err.message, "");
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "1M", "expected an amount, '/' and a time unit, such as 64K/min or 1M/h" },
		{ "/min", "expected an amount, '/' and a time unit, such as 64K/min or 1M/h" },
		{ "1M/", "'' is not a time unit (s, min, h, d)" },
		{ "1M/week", "'week' is not a time unit (s, min, h, d)" },
		{ "1M/min/s", "'min/s' is not a time unit (s, min, h, d)" },
		{ "abc/min", "'abc' is not a size (such as 64K or +1.5M)" },
		{ "1X/min", "'1X' is not a size (such as 64K or +1.5M)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[160];
		snprintf(want, sizeof(want), "bad rate '%s': %s", bad[i].text, bad[i].why);
		if (snap_parse_rate(bad[i].text, true, &v, &err) != SNAP_EINVAL ||
		    snap_parse_rate(bad[i].text, true, &v, NULL) != SNAP_EINVAL)
			fail_msg("'%s' should be refused", bad[i].text);
		assert_string_equal(err.message, want);
	}
	assert_int_equal(snap_parse_rate("1M/min", false, &v, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "bad rate '1M/min': '1M' is not a number");
	assert_int_equal(snap_parse_rate("1/d", false, &v, &err), 0);
	assert_int_equal(snap_parse_rate("x", false, &v, &err), SNAP_EINVAL);
	assert_string_equal(err.message, "bad rate 'x': expected an amount, '/' and a time "
			    "unit, such as 10/min or 1/s");
}

static void utc_times(void **state)
{
	(void)state;
	double s;
	assert_int_equal(snap_parse_utc("1970-01-01T00:00:01.500Z", &s, NULL), 0);
	assert_true(fabs(s - 1.5) < 1e-9);
	/* 2000-01-01 is 10957 days after the epoch. */
	assert_int_equal(snap_parse_utc("2000-01-01T00:00:00Z", &s, NULL), 0);
	assert_true(fabs(s - 10957.0 * 86400) < 1e-6);
	assert_int_equal(snap_parse_utc("2000-01-02T01:02:03.004Z", &s, NULL), 0);
	assert_true(fabs(s - (10958.0 * 86400 + 3723.004)) < 1e-6);
	static const char *const bad[] = { "", "2000-01-01", "2000-01-01T00:00:00",
					   "2000-13-01T00:00:00Z", "2000-01-01T24:00:00Z",
					   "2000-01-01T00:00:00.Z", "2000-01-01T00:00:00Zx" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snap_error err = { 0 };
		char want[128];
		if (snap_parse_utc(bad[i], &s, &err) != SNAP_EINVAL ||
		    snap_parse_utc(bad[i], &s, NULL) != SNAP_EINVAL)
			fail_msg("'%s' should be refused", bad[i]);
		snprintf(want, sizeof(want), "bad time '%s': expected UTC as "
			 "2026-11-22T02:05:53.123Z", bad[i]);
		assert_string_equal(err.message, want);
	}
}

/* ---- Theil-Sen ---- */

static double theil_sen(const double *t, const double *y, size_t n)
{
	double slope = NAN;
	assert_int_equal(snap_theil_sen(&slope, t, y, n, NULL), 0);
	return slope;
}

static void slope_of_lines(void **state)
{
	(void)state;
	double t[10], y[10];
	for (int i = 0; i < 10; i++) {
		t[i] = i;
		y[i] = 3 * i + 7;
	}
	assert_true(fabs(theil_sen(t, y, 10) - 3) < 1e-12);
	/* Two wild points out of ten: 28 of the 45 pair slopes are still
	 * exactly 2, so the median is 2 (least squares would say ~-8). */
	for (int i = 0; i < 10; i++)
		y[i] = 2 * i;
	y[4] = 1000;
	y[7] = -500;
	assert_true(fabs(theil_sen(t, y, 10) - 2) < 1e-12);
	for (int i = 0; i < 10; i++)
		y[i] = 5;
	assert_true(theil_sen(t, y, 10) == 0);
	assert_true(theil_sen(t, y, 1) == 0);
	assert_true(theil_sen(t, y, 0) == 0);
}

static void slope_median_and_ties(void **state)
{
	(void)state;
	/* Pair slopes 1, 1, 2, 1, 2.5, 4: an even count, the median is the
	 * mean of the middle two, 1.5. */
	double t[] = { 0, 1, 2, 3 }, y[] = { 0, 1, 2, 6 };
	assert_true(fabs(theil_sen(t, y, 4) - 1.5) < 1e-12);
	/* Equal times give no slope: (0,2)=20 (0,3)=30 (1,2)=10 (1,3)=20. */
	double tt[] = { 0, 0, 1, 1 }, yy[] = { 0, 10, 20, 30 };
	assert_true(fabs(theil_sen(tt, yy, 4) - 20) < 1e-12);
	double same[] = { 4, 4, 4 }, ys[] = { 1, 2, 3 };
	assert_true(theil_sen(same, ys, 3) == 0);
}

static void slope_sampled(void **state)
{
	(void)state;
	/* 1500 points: 1,124,250 pairs, over the limit, so a sample is taken;
	 * on an exact line every sampled slope is the slope. */
	enum { N = 1500 };
	double *t = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
	for (int i = 0; i < N; i++) {
		t[i] = i * 0.5;
		y[i] = 5 * t[i] + 11;
	}
	assert_true(fabs(theil_sen(t, y, N) - 5) < 1e-9);
	/* One point in ten wildly off: the sample's median stays near 5. */
	for (int i = 0; i < N; i += 10)
		y[i] = 1e6;
	double s = theil_sen(t, y, N);
	if (fabs(s - 5) > 0.5)
		fail_msg("sampled slope with outliers: %f", s);
	free(t);
	free(y);
}

/* ---- growth and verdicts ---- */

enum { MAXP = 64 };

/* A series at one point per second (or per `step` seconds). */
struct series {
	double t[MAXP];
	int64_t v[MAXP];
	size_t n;
};

static void push(struct series *s, int64_t v, double step)
{
	s->t[s->n] = (double)s->n * step;
	s->v[s->n++] = v;
}

static snap_growth growth_of(const struct series *s)
{
	snap_growth g;
	assert_int_equal(snap_growth_compute(&g, s->t, s->v, s->n, NULL), 0);
	return g;
}

static enum snap_trend_verdict judge(const struct series *s)
{
	snap_trend_opts o;
	snap_trend_opts_init(&o, SNAP_TREND_OPTS_VERSION);
	snap_growth g = growth_of(s);
	return snap_growth_judge(&g, o.min_slope_kb, &o);
}

static void expect_verdict(const struct series *s, enum snap_trend_verdict want,
			   const char *what)
{
	enum snap_trend_verdict got = judge(s);
	if (got != want)
		fail_msg("%s: %s, want %s", what, snap_trend_verdict_name(got),
			 snap_trend_verdict_name(want));
}

static int series_without_memory(void *ctx)
{
	(void)ctx;
	double t[5] = { 0, 1, 2, 3, 4 }, y[5] = { 1, 2, 3, 5, 8 }, slope;
	int64_t v[5] = { 1, 2, 3, 5, 8 };
	snap_growth g;
	snap_trend_gate *gate;
	snap_error err = { 0 };
	int bad = error_says(snap_theil_sen(&slope, t, y, 5, &err), SNAP_ENOMEM, &err,
			     "out of memory for the 10 slopes between 5 points");
	bad |= snap_theil_sen(&slope, t, y, 5, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_growth_compute(&g, t, v, 5, &err), SNAP_ENOMEM, &err,
			  "out of memory for a series of 5 points");
	bad |= snap_growth_compute(&g, t, v, 5, NULL) != SNAP_ENOMEM;
	bad |= error_says(snap_trend_gate_new(&gate, &err), SNAP_ENOMEM, &err,
			  "out of memory creating a trend gate");
	bad |= snap_trend_gate_new(&gate, NULL) != SNAP_ENOMEM;
	/* what needs no memory still works */
	bad |= snap_theil_sen(&slope, t, y, 1, &err) != 0;
	return bad;
}

/* Out of memory, the series calls say how much they needed. */
static void series_out_of_memory(void **state)
{
	(void)state;
	int rc = run_out_of_memory(series_without_memory, NULL);
	assert_int_equal(rc, 0);
}

static void growth_measures(void **state)
{
	(void)state;
	/* Absent for two points, then 60 kB more every second, then flat. */
	struct series s = { 0 };
	int64_t v[] = { -1, -1, 100, 160, 220, 280, 280, 250, 250 };
	for (size_t i = 0; i < 9; i++)
		push(&s, v[i], 1);
	snap_growth g = growth_of(&s);
	assert_int_equal(g.points, 7);
	assert_int_equal(g.first, 100);
	assert_int_equal(g.last, 250);
	assert_int_equal(g.min, 100);
	assert_int_equal(g.max, 280);
	assert_int_equal(g.grew, 3);
	assert_int_equal(g.shrank, 1);
	assert_int_equal(g.flat_tail, 3);  /* 280 -> 280 -> 250 -> 250 */
	/* Pair slopes of 7 points, median: 30 kB/s is 1800 kB/min. */
	double t[7], y[7];
	for (int i = 0; i < 7; i++) {
		t[i] = i + 2;
		y[i] = (double)v[i + 2];
	}
	double per_s;
	assert_int_equal(snap_theil_sen(&per_s, t, y, 7, NULL), 0);
	assert_true(fabs(g.slope - per_s * 60) < 1e-9);
	assert_true(g.slope > 0);
}

static void verdict_steady_and_slow(void **state)
{
	(void)state;
	struct series s = { 0 };
	for (int i = 0; i < 20; i++)
		push(&s, 100 + 10 * i, 1);
	expect_verdict(&s, SNAP_TREND_STEADY, "a straight leak");
	/* One dip in 19 steps keeps 95% of the steps: still steady. */
	s.v[9] -= 15;
	expect_verdict(&s, SNAP_TREND_STEADY, "a leak with one dip");
	/* Two dips: 17 of 19 held, 89%: not steady enough. */
	s.v[15] -= 15;
	expect_verdict(&s, SNAP_TREND_UNSTEADY, "a leak with two dips");
	/* A leak that rises every other step is still a leak. */
	struct series st = { 0 };
	for (int i = 0; i < 20; i++)
		push(&st, 100 + 10 * (i / 2), 1);
	expect_verdict(&st, SNAP_TREND_STEADY, "a staircase leak");
	/* 1 kB a minute (one point a minute) is under the 16 kB/min default. */
	struct series slow = { 0 };
	for (int i = 0; i < 20; i++)
		push(&slow, 1000 + i, 60);
	expect_verdict(&slow, SNAP_TREND_SLOW, "a slow leak");
	/* Exactly at the threshold counts: 16 kB per minute. */
	struct series edge = { 0 };
	for (int i = 0; i < 20; i++)
		push(&edge, 1000 + 16 * i, 60);
	expect_verdict(&edge, SNAP_TREND_STEADY, "a leak at the threshold");
}

static void verdict_plateaus(void **state)
{
	(void)state;
	/* Grows for 8 of 20 points, then stays: nothing in the later half. */
	struct series early = { 0 };
	for (int i = 0; i < 20; i++)
		push(&early, 100 + 50 * (i < 8 ? i : 8), 1);
	expect_verdict(&early, SNAP_TREND_PLATEAU, "growth that stopped early");
	/* Three rises at the start of 15 points: most pair slopes are 0, so
	 * the slope is 0 and the flat tail (11) is under 3 x 14 / 3; only the
	 * late slope of 0 tells it stopped. */
	struct series burst = { 0 };
	for (int i = 0; i < 15; i++)
		push(&burst, 100 + 300 * (i < 3 ? i : 3), 1);
	snap_growth g = growth_of(&burst);
	assert_int_equal(g.grew, 3);
	assert_true(g.slope == 0 && g.late_slope == 0);
	expect_verdict(&burst, SNAP_TREND_PLATEAU, "a burst, then nothing");
	/* One big allocation, then 1 kB/s steadily: the jump does not hide
	 * the leak after it (60 kB/min). */
	struct series jump = { 0 };
	for (int i = 0; i < 20; i++)
		push(&jump, 100 + i + (i >= 2 ? 1000 : 0), 1);
	g = growth_of(&jump);
	assert_true(fabs(g.slope - 60) < 1e-9);
	expect_verdict(&jump, SNAP_TREND_STEADY, "a jump, then a leak");
	/* Grows for 15 of 20, then 4 flat steps: the slopes still look like
	 * growth, but it has not risen for longer than 3 mean gaps. */
	struct series late = { 0 };
	for (int i = 0; i < 20; i++)
		push(&late, 100 + 50 * (i < 15 ? i : 15), 1);
	g = growth_of(&late);
	assert_int_equal(g.flat_tail, 4);
	assert_true(g.late_slope >= g.slope / 2);
	expect_verdict(&late, SNAP_TREND_PLATEAU, "growth that stopped late");
	/* Rises every step, but slowed from 100 to 1 per step: the late slope
	 * is far below half the overall slope. */
	struct series slowed = { 0 };
	int64_t v = 0;
	for (int i = 0; i < 20; i++) {
		push(&slowed, v, 1);
		v += i < 10 ? 100 : 1;
	}
	g = growth_of(&slowed);
	assert_int_equal(g.flat_tail, 0);
	assert_true(g.late_slope < g.slope / 2);
	expect_verdict(&slowed, SNAP_TREND_PLATEAU, "growth that slowed down");
}

static void verdict_others(void **state)
{
	(void)state;
	struct series flat = { 0 }, wave = { 0 }, down = { 0 }, brief = { 0 };
	for (int i = 0; i < 12; i++) {
		push(&flat, 4096, 1);
		push(&wave, i % 2 ? 5000 : 1000, 1);
		push(&down, 9000 - 100 * i, 1);
	}
	expect_verdict(&flat, SNAP_TREND_FLAT, "flat");
	expect_verdict(&wave, SNAP_TREND_UNSTEADY, "up and down");
	expect_verdict(&down, SNAP_TREND_SHRINKING, "falling");
	for (int i = 0; i < 4; i++)
		push(&brief, 100 * i, 1);
	expect_verdict(&brief, SNAP_TREND_SHORT, "four points");
	/* One big drop among rises: 90% held, but it ends lower. */
	struct series drop = { 0 };
	for (int i = 0; i < 12; i++)
		push(&drop, i < 11 ? 1000 + 10 * i : 10, 1);
	expect_verdict(&drop, SNAP_TREND_SHRINKING, "rises then a big drop");
	/* Names of every verdict. */
	static const char *const names[] = { "flat", "steady", "plateau", "unsteady",
					      "slow", "shrinking", "short", "gone" };
	for (int k = 0; k < SNAP_TREND_VERDICTS; k++)
		assert_string_equal(snap_trend_verdict_name((enum snap_trend_verdict)k),
				    names[k]);
}

/* ---- trends of synthetic snapshots ---- */

#define HEAP 0x55550000000ull
#define LIB 0x7f0000000000ull
#define ANON_A 0x7f1000000000ull
#define ANON_B 0x7f2000000000ull

static void add_region(snap_snapshot *snap, uint64_t start, uint64_t kb,
		       const char *perms, const char *path, uint64_t inode,
		       uint64_t rss_kb)
{
	const char *names[] = { "Size", "Rss", "Private_Dirty" };
	uint64_t values[] = { kb, rss_kb, rss_kb };
	snap_entry entries[3];
	for (int k = 0; k < 3; k++) {
		int f = snap_field_intern(snap, names[k], strlen(names[k]), SNAP_UNIT_KB, NULL);
		assert_true(f >= 0);
		entries[k] = (snap_entry){ .field = (uint32_t)f, .value = values[k] };
	}
	snap_region r = { .start = start, .end = start + kb * 1024, .path = path,
			  .path_len = (uint32_t)strlen(path), .inode = inode,
			  .dev_major = inode ? 8 : 0, .entries = entries, .nentries = 3 };
	memcpy(r.perms, perms, 5);
	assert_int_equal(snap_snapshot_add_region(snap, &r, NULL), 0);
}

static snap_snapshot *new_snapshot(long pid, int second)
{
	snap_snapshot *snap;
	char at[40];
	assert_int_equal(snap_snapshot_new(&snap, NULL), 0);
	snprintf(at, sizeof(at), "2026-11-22T03:00:%02d.000Z", second);
	snap->captured_at = snap_snapshot_strdup(snap, at);
	snap->process.known = true;
	snap->process.pid = pid;
	snap->process.start_time = 1000 + pid;
	snap->process.comm = "synthetic";
	return snap;
}

/* Second i of a process with a leaking heap, an anon mapping that grows
 * for four seconds, one that swings, and a library that never moves.
 * pid_for(i) picks the process (a restart moves the mappings). */
static snap_snapshot *synthetic(int i, long pid, uint64_t shift)
{
	snap_snapshot *snap = new_snapshot(pid, i);
	add_region(snap, HEAP + shift, 132 + 64 * (uint64_t)i, "rw-p", "[heap]", 0,
		   100 + 64 * (uint64_t)i);
	add_region(snap, LIB + shift, 400, "r-xp", "/usr/lib/libsynth.so.1", 42, 300);
	add_region(snap, ANON_A + shift, 8192, "rw-p", "", 0,
		   1024 + 256 * (uint64_t)(i < 4 ? i : 4));
	add_region(snap, ANON_B + shift, 8192, "rw-p", "", 0, i % 2 ? 6000 : 1500);
	return snap;
}

static snap_trend *trend_of(snap_snapshot **snaps, size_t n)
{
	snap_trend *t;
	snap_error err = { 0 };
	if (snap_trend_new(&t, snaps, n, NULL, &err) != 0)
		fail_msg("trend: %s", err.message);
	return t;
}

static const snap_trend_region *region_starting(const snap_trend *t, uint64_t start)
{
	for (size_t k = 0; k < t->nregions; k++)
		if (t->regions[k].start == start)
			return &t->regions[k];
	fail_msg("no trend region at %llx", (unsigned long long)start);
	return NULL;
}

static void free_all(snap_snapshot **snaps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snap_snapshot_free(snaps[i]);
}

static void trend_one_process(void **state)
{
	(void)state;
	enum { N = 12 };
	snap_snapshot *snaps[N];
	/* Given newest first: the trend orders them by captured_at. */
	for (int i = 0; i < N; i++)
		snaps[i] = synthetic(N - 1 - i, 77, 0);
	snap_trend *t = trend_of(snaps, N);
	assert_int_equal(t->nsnaps, N);
	assert_ptr_equal(t->snaps[0], snaps[N - 1]);
	assert_true(fabs(t->seconds[N - 1] - (N - 1)) < 1e-9);
	assert_int_equal(t->address_steps, N - 1);
	assert_int_equal(t->suspects, 1);
	assert_int_equal(t->nregions, 4);
	const snap_trend_region *heap = &t->regions[0];
	assert_int_equal(heap->verdict, SNAP_TREND_STEADY);
	assert_int_equal(heap->kind, SNAP_KIND_HEAP);
	assert_int_equal(heap->path_len, 6);
	assert_memory_equal(heap->path, "[heap]", 6);
	/* 64 kB a second is 3840 kB a minute, in Rss, Private_Dirty and Size. */
	for (int m = 0; m < SNAP_TREND_MEASURES; m++)
		assert_true(fabs(heap->growth[m].slope - 3840) < 1e-6);
	assert_int_equal(heap->values[0][0], 100);
	assert_int_equal(heap->values[0][N - 1], 100 + 64 * (N - 1));
	assert_int_equal(heap->first, 0);
	assert_int_equal(heap->last, N - 1);
	assert_int_equal(region_starting(t, ANON_A)->verdict, SNAP_TREND_PLATEAU);
	assert_int_equal(region_starting(t, ANON_B)->verdict, SNAP_TREND_UNSTEADY);
	assert_int_equal(region_starting(t, LIB)->verdict, SNAP_TREND_FLAT);
	assert_int_equal(t->flat, 1);
	/* Whole process: Rss sums the four regions at each point. */
	int rss = snap_trend_measure_index(SNAP_M_RSS);
	assert_int_equal(t->total[rss].values[0], 100 + 300 + 1024 + 1500);
	assert_int_equal(t->region_count.verdict, SNAP_TREND_FLAT);
	assert_true(t->kind_seen[SNAP_KIND_HEAP] && t->kind_seen[SNAP_KIND_LIB]);
	assert_false(t->kind_seen[SNAP_KIND_STACK]);
	assert_int_equal(t->kind[SNAP_KIND_HEAP][rss].verdict, SNAP_TREND_STEADY);
	snap_trend_free(t);
	free_all(snaps, N);
}

static void trend_across_processes(void **state)
{
	(void)state;
	/* The process restarts every four seconds, its mappings elsewhere:
	 * identity matching still follows the heap. */
	enum { N = 12 };
	snap_snapshot *snaps[N];
	for (int i = 0; i < N; i++)
		snaps[i] = synthetic(i, 100 + i / 4, (uint64_t)(i / 4) << 32);
	snap_trend *t = trend_of(snaps, N);
	assert_int_equal(t->address_steps, N - 1 - 2);
	assert_int_equal(t->suspects, 1);
	assert_memory_equal(t->regions[0].path, "[heap]", 6);
	assert_int_equal(t->regions[0].first, 0);
	assert_int_equal(t->regions[0].values[0][N - 1], 100 + 64 * (N - 1));
	snap_trend_free(t);
	free_all(snaps, N);
}

static void trend_merges_histories(void **state)
{
	(void)state;
	/* Two anonymous regions side by side become one (the kernel merged
	 * them): one object whose past is the sum of both. */
	snap_snapshot *snaps[3];
	for (int i = 0; i < 3; i++) {
		snaps[i] = new_snapshot(9, i);
		if (i == 0) {
			add_region(snaps[i], ANON_A, 4, "rw-p", "", 0, 4);
			add_region(snaps[i], ANON_A + 4096, 8, "rw-p", "", 0, 8);
		} else {
			add_region(snaps[i], ANON_A, 12 + 4 * (uint64_t)i, "rw-p", "", 0, 12);
		}
	}
	snap_trend *t = trend_of(snaps, 3);
	assert_int_equal(t->nregions, 1);
	const snap_trend_region *r = &t->regions[0];
	int rss = snap_trend_measure_index(SNAP_M_RSS);
	int size = snap_trend_measure_index(SNAP_M_SIZE);
	assert_int_equal(r->values[rss][0], 12);
	assert_int_equal(r->values[size][0], 12);
	assert_int_equal(r->values[size][2], 20);
	assert_int_equal(r->nregions, 1);
	assert_int_equal(r->verdict, SNAP_TREND_FLAT); /* Rss never moved */
	assert_int_equal(t->region_count.values[0], 2);
	assert_int_equal(t->region_count.values[1], 1);
	snap_trend_free(t);
	free_all(snaps, 3);
}

static void trend_born_and_gone(void **state)
{
	(void)state;
	/* A region appears at second 2 and grows; another grows and goes. */
	enum { N = 10 };
	snap_snapshot *snaps[N];
	for (int i = 0; i < N; i++) {
		snaps[i] = new_snapshot(5, i);
		if (i < 6)
			add_region(snaps[i], ANON_A, 1024, "rw-p", "", 0, 10 + 100 * (uint64_t)i);
		if (i >= 2)
			add_region(snaps[i], ANON_B, 1024, "rw-p", "", 0, 100 * (uint64_t)i);
	}
	snap_trend *t = trend_of(snaps, N);
	const snap_trend_region *born = region_starting(t, ANON_B);
	assert_int_equal(born->first, 2);
	assert_int_equal(born->values[0][1], -1);
	assert_int_equal(born->growth[0].points, 8);
	assert_int_equal(born->verdict, SNAP_TREND_STEADY);
	const snap_trend_region *gone = region_starting(t, ANON_A);
	assert_int_equal(gone->last, 5);
	assert_int_equal(gone->verdict, SNAP_TREND_GONE);
	assert_int_equal(t->suspects, 1);
	assert_ptr_equal(&t->regions[0], born);
	snap_trend_free(t);
	free_all(snaps, N);
}

/* Four 64 MiB mappings appear one after another (Python's or glibc's
 * large allocations, Chromium's chunks): no region grows, but the regions
 * born during the series, followed as one group, keep growing: a leak
 * suspect named as that group. */
static void trend_follows_births_as_a_group(void **state)
{
	(void)state;
	enum { N = 8, CHUNK = 65540 }; /* malloc(64 MiB): a page more for its header */
	snap_snapshot *snaps[N];
	for (int i = 0; i < N; i++) {
		snaps[i] = new_snapshot(11, i);
		add_region(snaps[i], HEAP, 132, "rw-p", "[heap]", 0, 100);
		for (int k = 0; k < i && k < 4; k++)
			add_region(snaps[i], ANON_A + (uint64_t)k * 2 * CHUNK * 1024, CHUNK,
				   "rw-p", "", 0, CHUNK);
	}
	snap_trend *t = trend_of(snaps, N);
	int rss = snap_trend_measure_index(SNAP_M_RSS);
	const snap_trend_region *group = NULL;
	size_t born_single = 0;
	for (size_t k = 0; k < t->nregions; k++) {
		const snap_trend_region *r = &t->regions[k];
		if (r->born)
			group = r;
		else if (r->first > 0)
			born_single++;
	}
	assert_non_null(group);
	assert_int_equal(born_single, 4);       /* each still followed alone */
	assert_int_equal(group->members, 4);
	assert_int_equal(group->kind, SNAP_KIND_ANON);
	assert_int_equal(group->first, 0);
	assert_int_equal(group->last, N - 1);
	for (int i = 0; i < N; i++)
		assert_int_equal(group->values[rss][i], (int64_t)CHUNK * (i < 4 ? i : 4));
	assert_int_equal(group->nregions, 4);
	assert_int_equal(group->start, ANON_A);
	/* where its members are now, for a view to point at */
	assert_int_equal(group->nspans, 4);
	for (size_t k = 0; k < 4; k++) {
		uint64_t want = ANON_A + (uint64_t)k * 2 * CHUNK * 1024;
		size_t hits = 0;
		for (size_t m = 0; m < group->nspans; m++)
			hits += group->spans[m].start == want &&
				group->spans[m].end == want + (uint64_t)CHUNK * 1024;
		assert_int_equal(hits, 1);
	}
	/* 0, 64, 128, 192, 256, 256, 256, 256 MiB: growth that stopped */
	assert_int_equal(group->verdict, SNAP_TREND_PLATEAU);
	snap_trend_free(t);
	free_all(snaps, N);

	/* Still being born at the end: the group is the suspect, and the gate
	 * names it as the regions born, never as all regions of a kind. */
	for (int i = 0; i < N; i++) {
		snaps[i] = new_snapshot(12, i);
		for (int k = 0; k < i; k++)
			add_region(snaps[i], ANON_A + (uint64_t)k * 2 * CHUNK * 1024, CHUNK,
				   "rw-p", "", 0, CHUNK);
	}
	t = trend_of(snaps, N);
	assert_int_equal(t->suspects, 1);
	assert_true(t->regions[0].born);
	assert_int_equal(t->regions[0].verdict, SNAP_TREND_STEADY);
	snap_trend_gate *g;
	assert_int_equal(snap_trend_gate_new(&g, NULL), 0);
	assert_int_equal(snap_trend_gate_add(g, "leak-suspects>0", NULL), 0);
	assert_int_equal(snap_trend_gate_check(g, t, NULL), 1);
	size_t nv;
	const snap_violation *v = snap_trend_gate_violations(g, &nv);
	assert_non_null(strstr(v[0].message, "7 anon regions born during the series"));
	assert_null(strstr(v[0].message, "all "));
	snap_trend_gate_free(g);
	snap_trend_free(t);
	free_all(snaps, N);
}

static void trend_refuses(void **state)
{
	(void)state;
	snap_snapshot *snaps[2] = { synthetic(0, 1, 0), synthetic(1, 1, 0) };
	snap_trend *t = NULL;
	snap_error err = { 0 };
	assert_int_equal(snap_trend_new(&t, snaps, 1, NULL, &err), SNAP_EINVAL);
	assert_non_null(strstr(err.message, "two or more"));
	snaps[1]->captured_at = NULL;
	assert_int_equal(snap_trend_new(&t, snaps, 2, NULL, &err), SNAP_EINVAL);
	assert_non_null(strstr(err.message, "snapshot 2"));
	snaps[1]->captured_at = "yesterday";
	assert_int_equal(snap_trend_new(&t, snaps, 2, NULL, &err), SNAP_EINVAL);
	snap_trend_opts o;
	snap_trend_opts_init(&o, SNAP_TREND_OPTS_VERSION);
	o.measure = SNAP_M_PSS;
	snaps[1]->captured_at = "2026-11-22T03:00:01.000Z";
	assert_int_equal(snap_trend_new(&t, snaps, 2, &o, &err), SNAP_EINVAL);
	assert_null(t);
	snap_trend_free(NULL);
	free_all(snaps, 2);
}

/* ---- the gate ---- */

static void gate_terms(void **state)
{
	(void)state;
	enum { N = 12 };
	snap_snapshot *snaps[N];
	for (int i = 0; i < N; i++)
		snaps[i] = synthetic(i, 77, 0);
	snap_trend *t = trend_of(snaps, N);
	snap_trend_gate *g;
	snap_error err = { 0 };
	assert_int_equal(snap_trend_gate_new(&g, NULL), 0);
	/* The heap leaks 3840 kB/min, 3.75M/min. */
	static const char *const exprs[] = {
		"leak-suspects > 0",          /* fails: 1 */
		"leak-suspects>1",            /* passes */
		"heap.rss.slope>+3M/min",     /* fails */
		"heap.rss.slope>4M/min",      /* passes */
		"anon.size.slope>0/min",      /* passes: anon Size never moves */
		"regions.slope>0/min",        /* passes */
		"rss>+1M",                    /* a diff term: Rss +1.3M, fails */
		"heap.dirty.slope>=64K/s",    /* fails: 64K/s is 3840K/min too */
	};
	for (size_t i = 0; i < sizeof(exprs) / sizeof(*exprs); i++)
		if (snap_trend_gate_add(g, exprs[i], &err) != 0)
			fail_msg("%s: %s", exprs[i], err.message);
	assert_int_equal(snap_trend_gate_size(g), 8);
	int bad = snap_trend_gate_check(g, t, &err);
	size_t n;
	const snap_violation *v = snap_trend_gate_violations(g, &n);
	for (size_t k = 0; k < n; k++)
		print_message("violation: %s\n", v[k].message);
	assert_int_equal(bad, 4);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].expr, exprs[0]);
	assert_non_null(strstr(v[0].message, "1 leak suspect ([heap] +3.8M/min)"));
	assert_string_equal(v[1].expr, exprs[2]);
	assert_true(fabs(v[1].actual - 3840) < 1e-6);
	assert_non_null(strstr(v[1].message, "heap Rss slope +3.8M/min"));
	assert_string_equal(v[2].expr, exprs[6]);
	assert_non_null(strstr(v[2].message, "Rss"));
	assert_string_equal(v[3].expr, exprs[7]);
	snap_trend_gate_free(g);
	snap_trend_free(t);
	free_all(snaps, N);
}

static void gate_refuses(void **state)
{
	(void)state;
	snap_trend_gate *g;
	assert_int_equal(snap_trend_gate_new(&g, NULL), 0);
	static const struct {
		const char *expr, *words;
	} bad[] = {
		{ "pss.slope>1M/min", "no slope of 'pss'" },
		{ "rss.slope>1M", "bad rate" },
		{ "rss.slope>1M/fortnight", "bad rate" },
		{ "bogus.rss.slope>1M/min", "unknown kind" },
		{ "heap.regions.slope>1/min", "takes no kind" },
		{ "leak-suspects>many", "bad count" },
		{ "leak-suspects>0>1", "bad count" },
		{ "rss", "no comparison" },
		{ "nonsense>+1M", "unknown metric" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snap_error err = { 0 };
		if (snap_trend_gate_add(g, bad[i].expr, &err) != SNAP_EINVAL ||
		    !strstr(err.message, bad[i].words))
			fail_msg("%s: '%s'", bad[i].expr, err.message);
		assert_string_equal(err.source, bad[i].expr);
	}
	assert_int_equal(snap_trend_gate_size(g), 0);
	snap_trend_gate_free(g);
	snap_trend_gate_free(NULL);
}

/* One reader serves both gates (libsnap/gate_expr.c): an expression that
 * is not a trend term means what it means to the diff gate, read the
 * same way (case, spaces, KIND. prefix), and fails with the same words. */
static void both_gates_read_one_grammar(void **state)
{
	(void)state;
	snap_trend_gate *tg;
	snap_gate *dg;
	assert_int_equal(snap_trend_gate_new(&tg, NULL), 0);
	assert_int_equal(snap_gate_new(&dg, NULL), 0);
	static const char *const good[] = { "Heap . RSS > +1M", "total.regions>=+3",
					    "anon.regions < 10%" };
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		snap_error err = { 0 };
		if (snap_gate_add(dg, good[i], &err) != 0 ||
		    snap_trend_gate_add(tg, good[i], &err) != 0)
			fail_msg("%s: %s", good[i], err.message);
	}
	static const struct {
		const char *expr, *words;
	} bad[] = {
		{ "bogus.rss>1M", "unknown kind 'bogus'" },
		{ "rss>>1", "more than one comparison" },
		{ "heap.dup-libs>0", "'dup-libs' takes no kind" },
		{ "rss>+1Q", "bad size '+1q'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snap_error de = { 0 }, te = { 0 };
		assert_int_equal(snap_gate_add(dg, bad[i].expr, &de), SNAP_EINVAL);
		assert_int_equal(snap_trend_gate_add(tg, bad[i].expr, &te), SNAP_EINVAL);
		if (!strstr(de.message, bad[i].words) || !strstr(te.message, bad[i].words))
			fail_msg("%s: diff '%s', trend '%s'", bad[i].expr, de.message, te.message);
	}
	assert_int_equal(snap_gate_size(dg), 3);
	assert_int_equal(snap_trend_gate_size(tg), 3);
	snap_gate_free(dg);
	snap_trend_gate_free(tg);
}

/* ---- a series cut off mid-document ---- */

static void truncated_series(void **state)
{
	(void)state;
	char *dir = make_tmpdir(), path[4096];
	snprintf(path, sizeof(path), "%s/series.json", dir);
	FILE *f = fopen(path, "w");
	snap_snapshot *snaps[3];
	for (int i = 0; i < 3; i++) {
		snaps[i] = synthetic(i, 3, 0);
		assert_int_equal(fmt_json_write(f, snaps[i]), 0);
	}
	long whole = ftell(f);
	fclose(f);
	free_all(snaps, 3);
	/* Cut the third document in half, as a kill mid-write would. */
	size_t len;
	char *text = read_file(path, &len);
	assert_int_equal((long)len, whole);
	const char *third = strstr(strstr(strstr(text, "{\"schema\"") + 1, "{\"schema\"") + 1,
				   "{\"schema\"");
	assert_non_null(third);
	size_t cut = (size_t)(third - text) + (len - (size_t)(third - text)) / 2;
	assert_int_equal(truncate(path, (off_t)cut), 0);
	f = fopen(path, "r");
	snap_snapshot *got[3] = { NULL, NULL, NULL };
	snap_error err = { 0 };
	assert_int_equal(fmt_json_load(&got[0], f, path, &err), 0);
	assert_int_equal(fmt_json_load(&got[1], f, path, &err), 0);
	assert_int_equal(fmt_json_load(&got[2], f, path, &err), SNAP_ETRUNC);
	assert_null(got[2]);
	assert_non_null(strstr(err.message, "cut off"));
	assert_string_equal(snap_strerror(SNAP_ETRUNC), "truncated input");
	fclose(f);
	assert_string_equal(got[1]->captured_at, "2026-11-22T03:00:01.000Z");
	assert_int_equal(got[1]->nregions, 4);
	/* A document broken in the middle, not at the end, is not "cut off". */
	text[(size_t)(third - text) - 5] = '#';
	assert_int_equal(write_file(path, text, cut), 0);
	f = fopen(path, "r");
	snap_snapshot *x = NULL;
	assert_int_equal(fmt_json_load(&x, f, path, &err), 0);
	snap_snapshot_free(x);
	assert_int_equal(fmt_json_load(&x, f, path, &err), SNAP_EFORMAT);
	fclose(f);
	free_all(got, 2);
	free(text);
	remove_tree(dir);
	free(dir);
}

/* ---- sparklines (the text report's) ---- */

static void sparklines(void **state)
{
	(void)state;
	char buf[128];
	int64_t v[] = { 0, 50, 100, -1, 100 };
	assert_string_equal(fmt_sparkline(buf, sizeof(buf), v, 5, 32, true), "_=# #");
	assert_string_equal(fmt_sparkline(buf, sizeof(buf), v, 5, 32, false),
			    "▁▅█ █");
	int64_t flat[] = { 7, 7, 7 };
	assert_string_equal(fmt_sparkline(buf, sizeof(buf), flat, 3, 32, true), "___");
	/* 8 values in 4 cells: the mean of each pair. */
	int64_t ramp[] = { 0, 0, 10, 10, 20, 20, 30, 30 };
	assert_string_equal(fmt_sparkline(buf, sizeof(buf), ramp, 8, 4, true), "_-+#");
	/* A buffer too small keeps whole cells. */
	assert_string_equal(fmt_sparkline(buf, 7, v, 5, 32, false), "▁▅");
	assert_string_equal(fmt_rate(buf, sizeof(buf), 5120, true), "+5.0M/min");
	assert_string_equal(fmt_rate(buf, sizeof(buf), -4.5, true), "-4.5K/min");
	assert_string_equal(fmt_rate(buf, sizeof(buf), 2.5, false), "+2.5/min");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(rates),
		cmocka_unit_test(utc_times),
		cmocka_unit_test(slope_of_lines),
		cmocka_unit_test(slope_median_and_ties),
		cmocka_unit_test(slope_sampled),
		cmocka_unit_test(growth_measures),
		cmocka_unit_test(series_out_of_memory),
		cmocka_unit_test(verdict_steady_and_slow),
		cmocka_unit_test(verdict_plateaus),
		cmocka_unit_test(verdict_others),
		cmocka_unit_test(trend_one_process),
		cmocka_unit_test(trend_across_processes),
		cmocka_unit_test(trend_merges_histories),
		cmocka_unit_test(trend_born_and_gone),
		cmocka_unit_test(trend_follows_births_as_a_group),
		cmocka_unit_test(trend_refuses),
		cmocka_unit_test(gate_terms),
		cmocka_unit_test(gate_refuses),
		cmocka_unit_test(both_gates_read_one_grammar),
		cmocka_unit_test(truncated_series),
		cmocka_unit_test(sparklines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
