/* The trend as GitHub-flavoured markdown, for PR comments and CI job
 * summaries: the verdict, the leak suspects with sparklines, the other
 * regions that changed, the process and kinds. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

#define SPARK_WIDTH 24

static void put_title(FILE *f, const snap_trend *t, const fmt_trend_opts *o)
{
	const snap_process *p = &t->snaps[t->nsnaps - 1]->process;
	fputs("### mapsnap trend", f);
	if (p->known) {
		fputs(": ", f);
		fmt_markdown_cstr(f, p->comm ? p->comm : "?");
		fprintf(f, " (pid %ld)", p->pid);
	}
	fprintf(f, ", %zu snapshots over %.1f s\n\n", t->nsnaps,
		t->seconds[t->nsnaps - 1]);
	if (o->label) {
		fmt_markdown_cstr(f, o->label);
		fputs("\n\n", f);
	}
}

static void put_where(FILE *f, const snap_trend_region *r)
{
	char where[700];
	fmt_markdown_cstr(f, fmt_trend_where(where, sizeof(where), r));
}

static void put_suspects(FILE *f, const snap_trend *t, int mi)
{
	char rate[32];
	const char *name = snap_measure_name(t->opts.measure);
	fmt_rate(rate, sizeof(rate), t->opts.min_slope_kb, true);
	fprintf(f, "**%zu leak suspect%s** (%s slope ≥ %s, ≥ %.0f%% of steps not "
		"falling, still rising at the end)\n\n", t->suspects,
		t->suspects == 1 ? "" : "s", name, rate[0] == '+' ? rate + 1 : rate,
		t->opts.steady_fraction * 100);
	if (!t->suspects)
		return;
	fprintf(f, "| kind | where | %s | growth | slope | grew | over time |\n"
		"|---|---|---:|---:|---:|---:|---|\n", name);
	for (size_t k = 0; k < t->suspects; k++) {
		const snap_trend_region *r = &t->regions[k];
		const snap_growth *g = &r->growth[mi];
		char a[32], b[32], d[32], spark[SPARK_WIDTH * 4];
		fprintf(f, "| %s | ", snap_kind_name(r->kind));
		put_where(f, r);
		fprintf(f, " | %s → %s | **%s** | **%s** | %zu/%zu | %s |\n",
			fmt_kb(a, sizeof(a), g->first, false), fmt_kb(b, sizeof(b), g->last, false),
			fmt_kb(d, sizeof(d), g->last - g->first, true),
			fmt_rate(rate, sizeof(rate), g->slope, true), g->grew, g->points - 1,
			fmt_sparkline(spark, sizeof(spark), r->values[mi], t->nsnaps,
				      SPARK_WIDTH, false));
	}
	fputc('\n', f);
}

static void put_others(FILE *f, const snap_trend *t, int mi, size_t limit)
{
	size_t changed = t->nregions - t->flat - t->suspects;
	size_t shown = limit && limit < changed ? limit : changed;
	if (!changed)
		return;
	fprintf(f, "#### Other regions that changed (%zu", shown);
	if (shown < changed)
		fprintf(f, " of %zu", changed);
	fprintf(f, "; %zu never changed)\n\n| verdict | kind | slope | growth | where |\n"
		"|---|---|---:|---:|---|\n", t->flat);
	for (size_t k = t->suspects; k < t->suspects + shown; k++) {
		const snap_trend_region *r = &t->regions[k];
		const snap_growth *g = &r->growth[mi];
		char rate[32], d[32];
		fprintf(f, "| %s | %s | %s | %s | ", snap_trend_verdict_name(r->verdict),
			snap_kind_name(r->kind), fmt_rate(rate, sizeof(rate), g->slope, true),
			fmt_kb(d, sizeof(d), g->last - g->first, true));
		put_where(f, r);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void put_row(FILE *f, const char *name, const snap_trend_series *s, bool sizes)
{
	const snap_growth *g = &s->growth;
	char a[32], b[32], d[32], rate[32];
	if (sizes)
		fprintf(f, "| %s | %s | %s | %s |", name, fmt_kb(a, sizeof(a), g->first, false),
			fmt_kb(b, sizeof(b), g->last, false),
			fmt_kb(d, sizeof(d), g->last - g->first, true));
	else
		fprintf(f, "| %s | %" PRId64 " | %" PRId64 " | %+" PRId64 " |", name, g->first,
			g->last, g->last - g->first);
	fprintf(f, " %s | %s |\n", fmt_rate(rate, sizeof(rate), g->slope, sizes),
		snap_trend_verdict_name(s->verdict));
}

static void put_process(FILE *f, const snap_trend *t)
{
	fputs("| process | first | last | growth | slope | verdict |\n"
	      "|---|---:|---:|---:|---:|---|\n", f);
	for (size_t m = 0; m < SNAP_TREND_MEASURES; m++)
		put_row(f, snap_measure_name(snap_trend_measure(m)), &t->total[m], true);
	put_row(f, "regions", &t->region_count, false);
	put_row(f, "thread stacks", &t->thread_stacks, false);
	fputc('\n', f);
}

static void put_kinds(FILE *f, const snap_trend *t, int mi)
{
	fprintf(f, "<details><summary>By kind (%s)</summary>\n\n"
		"| kind | first | last | growth | slope | verdict |\n"
		"|---|---:|---:|---:|---:|---|\n", snap_measure_name(t->opts.measure));
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		if (t->kind_seen[k])
			put_row(f, snap_kind_name((enum snap_kind)k), &t->kind[k][mi], true);
	fputs("\n</details>\n\n", f);
}

static void write_markdown(FILE *f, fmt_safe_out *safe, const void *what,
		           const void *options)
{
	const snap_trend *trend = what;
	const fmt_trend_opts *opts = options;
	(void)safe;
	int mi = snap_trend_measure_index(trend->opts.measure);
	put_title(f, trend, opts);
	size_t failed;
	const snap_violation *v = snap_trend_gate_violations(opts->gate, &failed);
	fmt_markdown_verdict(f, snap_trend_gate_size(opts->gate), v, failed);
	put_suspects(f, trend, mi);
	put_others(f, trend, mi, opts->limit);
	put_process(f, trend);
	put_kinds(f, trend, mi);
}

int fmt_trend_markdown(FILE *out, const snap_trend *trend, const fmt_trend_opts *opts)
{
	static const fmt_trend_opts none;
	return fmt_safe_report(out, write_markdown, trend, opts ? opts : &none);
}
