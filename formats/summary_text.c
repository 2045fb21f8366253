/* The summary as text for a terminal: where the memory is, biggest
 * first. Also the process and region lines the check report shares. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

/* ---- sections ---- */

static const enum snap_measure columns[] = {
	SNAP_M_SIZE, SNAP_M_RSS, SNAP_M_PSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SWAP,
};
#define NCOLUMNS (sizeof(columns) / sizeof(*columns))

static void put_sizes(FILE *f, const snap_sums *s)
{
	char buf[32];
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(f, " %*s", c == 3 ? 13 : 9,
			fmt_kb(buf, sizeof(buf), s->kb[columns[c]], false));
}

static void put_column_names(FILE *f)
{
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(f, " %*s", c == 3 ? 13 : 9, snap_measure_name(columns[c]));
}

static void put_header(FILE *f, const snap_summary *sum, const fmt_summary_opts *o)
{
	char line[1400];
	fprintf(f, "mapsnap summary: %s\n", fmt_process_line(line, sizeof(line), sum->snap));
	if (o->label)
		fprintf(f, "  input %s\n", o->label);
	if (sum->filtered)
		fprintf(f, "  filtered: %" PRId64 " of %zu regions counted (%s)\n",
			sum->total.regions, sum->snap->nregions, o->filter ? o->filter : "");
}

static void put_rollup(FILE *f, const snap_summary *sum)
{
	if (sum->filtered)
		return;
	if (!sum->nrollup) {
		fputs("  smaps_rollup: not captured, totals not cross-checked\n", f);
		return;
	}
	if (!sum->torn) {
		fputs("  smaps_rollup agrees:", f);
		for (size_t k = 0; k < sum->nrollup; k++)
			fprintf(f, "%s %s", k ? "," : "", snap_measure_name(sum->rollup[k].measure));
		fputs(" (Pss within 1K per region)\n", f);
		return;
	}
	fputs("  WARNING: the summed smaps disagree with smaps_rollup (a torn read: "
	      "the process changed while it was read):\n", f);
	for (size_t k = 0; k < sum->nrollup; k++) {
		const snap_rollup_row *r = &sum->rollup[k];
		fprintf(f, "    %-13s summed %" PRId64 " kB, rollup %" PRId64 " kB%s\n",
			snap_measure_name(r->measure), r->summed_kb, r->rollup_kb,
			r->agrees ? "" : "  <- differs");
	}
}

static void put_totals(FILE *f, const snap_summary *sum)
{
	fputs("\nTOTALS  ", f);
	put_column_names(f);
	fputs("   regions\n        ", f);
	put_sizes(f, &sum->total);
	fprintf(f, " %9" PRId64 "\n", sum->total.regions);
	put_rollup(f, sum);
}

static int cmp_kind(const snap_summary *sum, int a, int b)
{
	enum snap_measure m = sum->opts.metric;
	int64_t x = sum->by_kind[a].kb[m], y = sum->by_kind[b].kb[m];
	return x != y ? (x > y ? -1 : 1) : a - b;
}

/* Kinds with regions, largest metric first (there are only a dozen). */
static size_t sorted_kinds(const snap_summary *sum, int order[SNAP_KIND_COUNT])
{
	size_t n = 0;
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (!sum->by_kind[k].regions)
			continue;
		size_t j = n++;
		while (j > 0 && cmp_kind(sum, k, order[j - 1]) < 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = k;
	}
	return n;
}

static void put_kinds(FILE *f, const snap_summary *sum)
{
	int order[SNAP_KIND_COUNT];
	size_t n = sorted_kinds(sum, order);
	fputs("\nBY KIND       ", f);
	put_column_names(f);
	fputs("   regions  %Rss\n", f);
	for (size_t k = 0; k < n; k++) {
		const snap_sums *s = &sum->by_kind[order[k]];
		int64_t rss = sum->total.kb[SNAP_M_RSS];
		fprintf(f, "  %-12s", snap_kind_name((enum snap_kind)order[k]));
		put_sizes(f, s);
		fprintf(f, " %9" PRId64 " %4.0f%%\n", s->regions,
			rss ? 100.0 * (double)s->kb[SNAP_M_RSS] / (double)rss : 0.0);
	}
}

static void region_sums_of(const snap_snapshot *snap, const snap_region *r,
			   snap_sums *s)
{
	memset(s, 0, sizeof(*s));
	s->regions = 1;
	s->kb[SNAP_M_SIZE] = (int64_t)((r->end - r->start) >> 10);
	for (int m = 1; m < SNAP_M_COUNT; m++)
		s->kb[m] = (int64_t)snap_region_get(snap, r, snap_measure_name(
							     (enum snap_measure)m));
}

static void put_top(FILE *f, const snap_summary *sum)
{
	fprintf(f, "\nTOP %zu REGIONS by %s\n  %-12s", sum->ntop,
		snap_measure_name(sum->opts.metric), "KIND");
	put_column_names(f);
	fputs("  REGION\n", f);
	for (size_t k = 0; k < sum->ntop; k++) {
		const snap_region *r = &sum->snap->regions[sum->top[k]];
		snap_sums s;
		char where[1200];
		region_sums_of(sum->snap, r, &s);
		fprintf(f, "  %-12s", snap_kind_name(sum->id->kinds[sum->top[k]]));
		put_sizes(f, &s);
		fprintf(f, "  %s\n", fmt_region_line(where, sizeof(where), r));
	}
}

static void put_libs(FILE *f, const snap_summary *sum, const fmt_summary_opts *o)
{
	size_t n = o->libs && o->libs < sum->nlibs ? o->libs : sum->nlibs;
	fprintf(f, "\nLIBRARIES by %s: %zu image%s", snap_measure_name(sum->opts.metric),
		sum->nlibs, sum->nlibs == 1 ? "" : "s");
	if (n < sum->nlibs)
		fprintf(f, ", the first %zu", n);
	fputs("\n  SEGS", f);
	put_column_names(f);
	fputs("  IMAGE\n", f);
	for (size_t k = 0; k < n; k++) {
		const snap_summary_lib *lib = &sum->libs[k];
		const snap_image *img = lib->image;
		fprintf(f, "  %4" PRId64, lib->sums.regions);
		put_sizes(f, &lib->sums);
		fprintf(f, "  %.*s%s", (int)img->path_len, img->path,
			img->deleted ? " (deleted)" : "");
		if (img->ordinal)
			fprintf(f, " (load #%u)", img->ordinal + 1);
		fputc('\n', f);
	}
}

static void put_stacks_arenas(FILE *f, const snap_summary *sum)
{
	char a[32], b[32], c[32];
	fprintf(f, "\nTHREAD STACKS  %zu, Size %s, Rss %s", sum->stacks.count,
		fmt_kb(a, sizeof(a), sum->stacks.size_kb, false),
		fmt_kb(b, sizeof(b), sum->stacks.rss_kb, false));
	if (sum->stacks.threads > 0)
		fprintf(f, " (the process has %ld thread%s)", sum->stacks.threads,
			sum->stacks.threads == 1 ? "" : "s");
	fprintf(f, "\nMALLOC ARENAS  %zu heap%s, %s committed of %s reserved, Rss %s\n",
		sum->arenas.count, sum->arenas.count == 1 ? "" : "s",
		fmt_kb(a, sizeof(a), sum->arenas.committed_kb, false),
		fmt_kb(b, sizeof(b), sum->arenas.reserved_kb, false),
		fmt_kb(c, sizeof(c), sum->arenas.rss_kb, false));
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *options)
{
	const snap_summary *sum = what;
	const fmt_summary_opts *opts = options;
	(void)safe;
	put_header(f, sum, opts);
	put_totals(f, sum);
	put_kinds(f, sum);
	put_top(f, sum);
	put_libs(f, sum, opts);
	put_stacks_arenas(f, sum);
}

int fmt_summary_text(FILE *out, const snap_summary *sum, const fmt_summary_opts *opts)
{
	static const fmt_summary_opts none;
	return fmt_safe_report(out, write_text, sum, opts ? opts : &none);
}
