/* The trend as a readable report: which regions keep growing (with a
 * sparkline of each), what else moved, and the process as a whole. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "formats.h"
#include "render.h"

#define SPARK_WIDTH 32

/* ---- colour ---- */

struct out {
	FILE *f;
	bool color, ascii;
	int mi; /* the flagging measure's index */
	fmt_safe_out *safe; /* colours go around its filter */
};

static void paint(const struct out *o, const char *code)
{
	fmt_paint(o->safe, o->color, code);
}

/* text in colour (when colours are on). */
static void painted(const struct out *o, const char *code, const char *text)
{
	paint(o, code);
	fputs(text, o->f);
	paint(o, *code ? FMT_RESET : "");
}

static const char *verdict_color(enum snap_trend_verdict v)
{
	switch (v) {
	case SNAP_TREND_STEADY: return FMT_RED;
	case SNAP_TREND_PLATEAU:
	case SNAP_TREND_SLOW: return FMT_YELLOW;
	case SNAP_TREND_SHRINKING:
	case SNAP_TREND_GONE: return FMT_GREEN;
	case SNAP_TREND_UNSTEADY: return FMT_CYAN;
	default: return "";
	}
}

static void put_verdict(const struct out *o, enum snap_trend_verdict v, int width)
{
	const char *c = verdict_color(v);
	paint(o, c);
	fprintf(o->f, "%-*s", width, snap_trend_verdict_name(v));
	paint(o, *c ? FMT_RESET : "");
}

/* ---- header ---- */

static void duration_text(char *buf, size_t size, double s)
{
	if (s < 60)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm %02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, size, "%dh %02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static size_t count_processes(const snap_trend *t)
{
	size_t n = 1;
	for (size_t s = 1; s < t->nsnaps; s++)
		n += !snap_same_process(t->snaps[s - 1], t->snaps[s]);
	return n;
}

static void put_matching(const struct out *o, const snap_trend *t)
{
	size_t steps = t->nsnaps - 1;
	if (t->address_steps == steps)
		fputs("matched by address", o->f);
	else if (t->address_steps == 0)
		fputs("matched by identity (build-id, path, name, kind and size)", o->f);
	else
		fprintf(o->f, "matched by address (%zu steps) and identity (%zu)",
			t->address_steps, steps - t->address_steps);
}

static void put_header(const struct out *o, const snap_trend *t,
		       const fmt_trend_opts *opts)
{
	const snap_snapshot *last = t->snaps[t->nsnaps - 1];
	char span[32], rate[32];
	duration_text(span, sizeof(span), t->seconds[t->nsnaps - 1]);
	painted(o, FMT_BOLD, "mapsnap trend");
	fputs(": ", o->f);
	size_t procs = count_processes(t);
	if (procs > 1)
		fprintf(o->f, "%zu processes, ", procs);
	else if (last->process.known)
		fprintf(o->f, "%s (pid %ld), ", last->process.comm ? last->process.comm : "?",
			last->process.pid);
	fprintf(o->f, "%zu snapshots over %s, ", t->nsnaps, span);
	put_matching(o, t);
	fputc('\n', o->f);
	if (opts->label)
		fprintf(o->f, "  %s\n", opts->label);
	fprintf(o->f, "  %s .. %s\n", t->snaps[0]->captured_at, last->captured_at);
	fmt_rate(rate, sizeof(rate), t->opts.min_slope_kb, true);
	fprintf(o->f, "  leak suspect: %s slope >= %s, at least %.0f%% of steps not "
		"falling, still rising at the end, %zu+ snapshots\n",
		snap_measure_name(t->opts.measure), rate[0] == '+' ? rate + 1 : rate,
		t->opts.steady_fraction * 100, t->opts.min_points);
}

/* ---- suspects ---- */

static void put_measure_line(const struct out *o, const snap_trend *t,
			     const snap_trend_region *r, int m)
{
	const snap_growth *g = &r->growth[m];
	char a[32], b[32], d[32], rate[32], spark[FMT_SPARK_CELLS_MAX * 4];
	fprintf(o->f, "      %-14s %9s -> %-9s %9s %12s  grew %zu of %zu steps",
		snap_measure_name(snap_trend_measure((size_t)m)),
		fmt_kb(a, sizeof(a), g->first, false), fmt_kb(b, sizeof(b), g->last, false),
		fmt_kb(d, sizeof(d), g->last - g->first, true),
		fmt_rate(rate, sizeof(rate), g->slope, true), g->grew,
		g->points ? g->points - 1 : 0);
	if (m == snap_trend_measure_index(SNAP_M_RSS))
		fprintf(o->f, "  %s", fmt_sparkline(spark, sizeof(spark), r->values[m],
						     t->nsnaps, SPARK_WIDTH, o->ascii));
	fputc('\n', o->f);
}

static void put_suspects(const struct out *o, const snap_trend *t)
{
	fputc('\n', o->f);
	painted(o, FMT_BOLD, "LEAK SUSPECTS");
	fputs(": ", o->f);
	if (!t->suspects) {
		fprintf(o->f, "none (%zu regions followed, %zu changed)\n", t->nregions,
			t->nregions - t->flat);
		return;
	}
	char count[32];
	snprintf(count, sizeof(count), "%zu", t->suspects);
	painted(o, FMT_RED, count);
	fputc('\n', o->f);
	for (size_t k = 0; k < t->suspects; k++) {
		const snap_trend_region *r = &t->regions[k];
		char where[700];
		char kind[16];
		snprintf(kind, sizeof(kind), "%-12s", snap_kind_name(r->kind));
		fputs("  ", o->f);
		painted(o, FMT_RED, kind);
		fprintf(o->f, " %-4s  %s\n", r->perms,
			fmt_trend_where(where, sizeof(where), r));
		for (int m = 0; m < SNAP_TREND_MEASURES; m++)
			put_measure_line(o, t, r, m);
	}
}

/* ---- the other regions that changed ---- */

static void put_others(const struct out *o, const snap_trend *t, size_t limit)
{
	size_t changed = t->nregions - t->flat - t->suspects;
	size_t shown = limit && limit < changed ? limit : changed;
	const char *name = snap_measure_name(snap_trend_measure((size_t)o->mi));
	fputc('\n', o->f);
	painted(o, FMT_BOLD, "OTHER REGIONS THAT CHANGED");
	fprintf(o->f, ": %zu", shown);
	if (shown < changed)
		fprintf(o->f, " of %zu", changed);
	fprintf(o->f, " listed by %s range (max - min), %zu never changed\n", name,
		t->flat);
	if (!shown)
		return;
	fputs("  ", o->f);
	paint(o, FMT_DIM);
	fprintf(o->f, "%-10s %-12s %9s %12s %9s %7s %7s  %-4s  %s", "VERDICT", "KIND",
		"RANGE", "SLOPE", "GROWTH", "GREW", "FELL", "PERM", "WHERE");
	paint(o, FMT_RESET);
	fputc('\n', o->f);
	for (size_t k = t->suspects; k < t->suspects + shown; k++) {
		const snap_trend_region *r = &t->regions[k];
		const snap_growth *g = &r->growth[o->mi];
		char range[32], rate[32], d[32], grew[24], fell[24], where[700];
		size_t steps = g->points ? g->points - 1 : 0;
		snprintf(grew, sizeof(grew), "%zu/%zu", g->grew, steps);
		snprintf(fell, sizeof(fell), "%zu/%zu", g->shrank, steps);
		fputs("  ", o->f);
		put_verdict(o, r->verdict, 10);
		fprintf(o->f, " %-12s %9s %12s %9s %7s %7s  %-4s  %s\n", snap_kind_name(r->kind),
			fmt_kb(range, sizeof(range), g->max - g->min, false),
			fmt_rate(rate, sizeof(rate), g->slope, true),
			fmt_kb(d, sizeof(d), g->last - g->first, true), grew, fell,
			r->perms, fmt_trend_where(where, sizeof(where), r));
	}
}

/* ---- process and kinds ---- */

static void put_series_row(const struct out *o, const snap_trend *t,
			   const char *name, const snap_trend_series *s, bool sizes)
{
	const snap_growth *g = &s->growth;
	char a[32], b[32], d[32], rate[32], spark[FMT_SPARK_CELLS_MAX * 4];
	if (sizes)
		fprintf(o->f, "  %-14s %9s %9s %9s ", name, fmt_kb(a, sizeof(a), g->first, false),
			fmt_kb(b, sizeof(b), g->last, false),
			fmt_kb(d, sizeof(d), g->last - g->first, true));
	else
		fprintf(o->f, "  %-14s %9" PRId64 " %9" PRId64 " %+9" PRId64 " ", name,
			g->first, g->last, g->last - g->first);
	fprintf(o->f, "%12s  ", fmt_rate(rate, sizeof(rate), g->slope, sizes));
	put_verdict(o, s->verdict, 10);
	fprintf(o->f, " %s\n", fmt_sparkline(spark, sizeof(spark), s->values, t->nsnaps,
					     SPARK_WIDTH, o->ascii));
}

static void put_table_head(const struct out *o, const char *first)
{
	fputs("  ", o->f);
	paint(o, FMT_DIM);
	fprintf(o->f, "%-14s %9s %9s %9s %12s  %-10s %s", first, "FIRST", "LAST",
		"GROWTH", "SLOPE", "VERDICT", "OVER TIME");
	paint(o, FMT_RESET);
	fputc('\n', o->f);
}

static void put_process(const struct out *o, const snap_trend *t)
{
	fputc('\n', o->f);
	painted(o, FMT_BOLD, "PROCESS");
	fputc('\n', o->f);
	put_table_head(o, "");
	for (int m = 0; m < SNAP_TREND_MEASURES; m++)
		put_series_row(o, t, snap_measure_name(snap_trend_measure((size_t)m)),
			       &t->total[m], true);
	put_series_row(o, t, "regions", &t->region_count, false);
	put_series_row(o, t, "thread stacks", &t->thread_stacks, false);
}

static void put_kinds(const struct out *o, const snap_trend *t)
{
	fputc('\n', o->f);
	painted(o, FMT_BOLD, "BY KIND");
	fprintf(o->f, " (%s)\n", snap_measure_name(snap_trend_measure((size_t)o->mi)));
	put_table_head(o, "KIND");
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		if (t->kind_seen[k])
			put_series_row(o, t, snap_kind_name((enum snap_kind)k),
				       &t->kind[k][o->mi], true);
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *options)
{
	const snap_trend *trend = what;
	const fmt_trend_opts *opts = options;
	struct out o = { f, opts->color, opts->ascii,
			 snap_trend_measure_index(trend->opts.measure), safe };
	put_header(&o, trend, opts);
	put_suspects(&o, trend);
	put_others(&o, trend, opts->limit);
	put_process(&o, trend);
	put_kinds(&o, trend);
	size_t failed;
	const snap_violation *v = snap_trend_gate_violations(opts->gate, &failed);
	fmt_text_verdict(f, safe, opts->color, snap_trend_gate_size(opts->gate), v, failed);
}

int fmt_trend_text(FILE *out, const snap_trend *trend, const fmt_trend_opts *opts)
{
	static const fmt_trend_opts none;
	return fmt_safe_report(out, write_text, trend, opts ? opts : &none);
}
