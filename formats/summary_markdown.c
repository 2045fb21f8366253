/* The summary as GitHub-flavoured markdown (a bug report, a CI job
 * summary): totals, kinds, top regions and libraries as tables. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static const enum snap_measure columns[] = {
	SNAP_M_SIZE, SNAP_M_RSS, SNAP_M_PSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SWAP,
};
#define NCOLUMNS (sizeof(columns) / sizeof(*columns))

static void put_head(FILE *f, const char *first, const char *last)
{
	fprintf(f, "| %s |", first);
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(f, " %s |", snap_measure_name(columns[c]));
	fprintf(f, " %s |\n|---|", last);
	for (size_t c = 0; c < NCOLUMNS; c++)
		fputs("---:|", f);
	fputs(strcmp(last, "regions") == 0 ? "---:|\n" : "---|\n", f);
}

static void put_cells(FILE *f, const snap_sums *s)
{
	char buf[32];
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(f, " %s |", fmt_kb(buf, sizeof(buf), s->kb[columns[c]], false));
}

static void put_title(FILE *f, const snap_summary *sum, const fmt_summary_opts *o)
{
	fmt_markdown_heading(f, "summary", sum->snap, o->label);
	if (sum->filtered) {
		fprintf(f, "Filtered: %" PRId64 " of %zu regions counted (", sum->total.regions,
			sum->snap->nregions);
		fmt_markdown_cstr(f, o->filter ? o->filter : "");
		fputs(").\n\n", f);
	}
}

static void put_rollup(FILE *f, const snap_summary *sum)
{
	if (sum->filtered)
		return;
	if (!sum->nrollup) {
		fputs("smaps_rollup was not captured: totals not cross-checked.\n\n", f);
		return;
	}
	if (!sum->torn) {
		fputs("The totals agree with smaps\\_rollup.\n\n", f);
		return;
	}
	fputs("**Warning**: the summed smaps disagree with smaps\\_rollup (a torn read: "
	      "the process changed while it was read):", f);
	for (size_t k = 0; k < sum->nrollup; k++) {
		const snap_rollup_row *r = &sum->rollup[k];
		if (!r->agrees)
			fprintf(f, " %s %" PRId64 " kB summed, %" PRId64 " kB in the rollup;",
				snap_measure_name(r->measure), r->summed_kb, r->rollup_kb);
	}
	fputs("\n\n", f);
}

static void put_kinds(FILE *f, const snap_summary *sum)
{
	fputs("#### Totals and kinds\n\n", f);
	put_head(f, "kind", "regions");
	int64_t rss = sum->total.kb[SNAP_M_RSS];
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		const snap_sums *s = &sum->by_kind[k];
		if (!s->regions)
			continue;
		fprintf(f, "| %s (%.0f%% of Rss) |", snap_kind_name((enum snap_kind)k),
			rss ? 100.0 * (double)s->kb[SNAP_M_RSS] / (double)rss : 0.0);
		put_cells(f, s);
		fprintf(f, " %" PRId64 " |\n", s->regions);
	}
	fputs("| **total** |", f);
	put_cells(f, &sum->total);
	fprintf(f, " %" PRId64 " |\n\n", sum->total.regions);
}

static void put_top(FILE *f, const snap_summary *sum)
{
	fprintf(f, "#### Top %zu regions by %s\n\n", sum->ntop,
		snap_measure_name(sum->opts.metric));
	put_head(f, "kind", "region");
	for (size_t k = 0; k < sum->ntop; k++) {
		const snap_region *r = &sum->snap->regions[sum->top[k]];
		snap_sums s = { .regions = 1 };
		s.kb[SNAP_M_SIZE] = (int64_t)((r->end - r->start) >> 10);
		for (size_t c = 1; c < NCOLUMNS; c++)
			s.kb[columns[c]] = (int64_t)snap_region_get(
				sum->snap, r, snap_measure_name(columns[c]));
		char where[1200];
		fprintf(f, "| %s |", snap_kind_name(sum->id->kinds[sum->top[k]]));
		put_cells(f, &s);
		fputs(" ", f);
		fmt_markdown_cstr(f, fmt_region_line(where, sizeof(where), r));
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void put_libs(FILE *f, const snap_summary *sum, const fmt_summary_opts *o)
{
	size_t n = o->libs && o->libs < sum->nlibs ? o->libs : sum->nlibs;
	fprintf(f, "#### Libraries by %s (%zu of %zu images)\n\n",
		snap_measure_name(sum->opts.metric), n, sum->nlibs);
	put_head(f, "segments", "image");
	for (size_t k = 0; k < n; k++) {
		const snap_image *img = sum->libs[k].image;
		fprintf(f, "| %" PRId64 " |", sum->libs[k].sums.regions);
		put_cells(f, &sum->libs[k].sums);
		fputs(" ", f);
		fmt_markdown_text(f, img->path, img->path_len);
		if (img->deleted)
			fputs(" (deleted)", f);
		if (img->ordinal)
			fprintf(f, " (load #%u)", img->ordinal + 1);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void put_stacks_arenas(FILE *f, const snap_summary *sum)
{
	char a[32], b[32], c[32];
	fprintf(f, "- Thread stacks: %zu, Size %s, Rss %s", sum->stacks.count,
		fmt_kb(a, sizeof(a), sum->stacks.size_kb, false),
		fmt_kb(b, sizeof(b), sum->stacks.rss_kb, false));
	if (sum->stacks.threads > 0)
		fprintf(f, " (%ld threads)", sum->stacks.threads);
	fprintf(f, "\n- Malloc arenas: %zu heaps, %s committed of %s reserved, Rss %s\n",
		sum->arenas.count, fmt_kb(a, sizeof(a), sum->arenas.committed_kb, false),
		fmt_kb(b, sizeof(b), sum->arenas.reserved_kb, false),
		fmt_kb(c, sizeof(c), sum->arenas.rss_kb, false));
}

static void write_markdown(FILE *f, fmt_safe_out *safe, const void *what,
		           const void *options)
{
	const snap_summary *sum = what;
	const fmt_summary_opts *opts = options;
	(void)safe;
	put_title(f, sum, opts);
	put_rollup(f, sum);
	put_kinds(f, sum);
	put_top(f, sum);
	put_libs(f, sum, opts);
	put_stacks_arenas(f, sum);
}

int fmt_summary_markdown(FILE *out, const snap_summary *sum, const fmt_summary_opts *opts)
{
	static const fmt_summary_opts none;
	return fmt_safe_report(out, write_markdown, sum, opts ? opts : &none);
}
