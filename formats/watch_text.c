/* One refresh of `mapsnap watch` as plain text: printed as it is in
 * batch mode (one per refresh, like top -b), drawn line by line on the
 * screen. No escape sequence: it goes through the terminal-safe filter. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static const enum snap_measure total_columns[] = {
	SNAP_M_SIZE, SNAP_M_RSS, SNAP_M_PSS, SNAP_M_PRIVATE_DIRTY, SNAP_M_SWAP,
};
#define NTOTAL (sizeof(total_columns) / sizeof(*total_columns))

static void put_header(FILE *f, const fmt_watch_frame *fr)
{
	const snap_process *p = &fr->snap->process;
	fprintf(f, "mapsnap watch: %s (pid %ld)%s%s\n", p->comm ? p->comm : "?", p->pid,
		p->exe ? " " : "", p->exe ? p->exe : "");
	fprintf(f, "refresh %lu every %s, %.1f s since the baseline, %s, sort %s%s\n",
		fr->refresh, fr->interval ? fr->interval : "?", fr->since_start_s,
		fr->snap->captured_at ? fr->snap->captured_at : "", fr->sort,
		fr->paused ? "  [PAUSED]" : "");
	if (fr->filter)
		fprintf(f, "filtered: %s (totals count the kept regions)\n", fr->filter);
}

static void put_total_row(FILE *f, const char *label, const snap_sums *a,
			  const snap_sums *b, bool sign)
{
	char buf[32];
	fprintf(f, "  %-13s", label);
	for (size_t c = 0; c < NTOTAL; c++) {
		int64_t v = a->kb[total_columns[c]] - (b ? b->kb[total_columns[c]] : 0);
		fprintf(f, " %*s", c == 3 ? 14 : 9, fmt_kb(buf, sizeof(buf), v, sign));
	}
	int64_t regions = a->regions - (b ? b->regions : 0);
	fprintf(f, sign ? " %+8" PRId64 "\n" : " %8" PRId64 "\n", regions);
}

static void put_totals(FILE *f, const fmt_watch_frame *fr)
{
	fprintf(f, "\n%-15s", "TOTALS");
	for (size_t c = 0; c < NTOTAL; c++)
		fprintf(f, " %*s", c == 3 ? 14 : 9, snap_measure_name(total_columns[c]));
	fprintf(f, " %8s\n", "regions");
	put_total_row(f, "now", &fr->now, NULL, false);
	put_total_row(f, "since start", &fr->now, &fr->base, true);
	put_total_row(f, "last refresh", &fr->now, &fr->prev, true);
}

static void put_kinds(FILE *f, const fmt_watch_frame *fr)
{
	char a[32], b[32], c[32], d[32], e[32], g[32];
	fprintf(f, "\nBY KIND             Rss  since start  last refresh      Pss  "
		   "Private_Dirty     Swap  regions\n");
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		const snap_sums *now = &fr->kind_now[k], *base = &fr->kind_base[k];
		const snap_sums *prev = &fr->kind_prev[k];
		if (!now->regions && !base->regions && !prev->regions)
			continue;
		fprintf(f, "  %-12s %8s %12s %13s %8s %14s %8s %8" PRId64 "\n",
			snap_kind_name((enum snap_kind)k),
			fmt_kb(a, sizeof(a), now->kb[SNAP_M_RSS], false),
			fmt_kb(b, sizeof(b), now->kb[SNAP_M_RSS] - base->kb[SNAP_M_RSS], true),
			fmt_kb(c, sizeof(c), now->kb[SNAP_M_RSS] - prev->kb[SNAP_M_RSS], true),
			fmt_kb(d, sizeof(d), now->kb[SNAP_M_PSS], false),
			fmt_kb(e, sizeof(e), now->kb[SNAP_M_PRIVATE_DIRTY], false),
			fmt_kb(g, sizeof(g), now->kb[SNAP_M_SWAP], false), now->regions);
	}
}

/* "55d1ca504000-55d1cb125000 rw-p [heap]" (with the count of regions
 * when the object is several). */
static void put_where(FILE *f, const fmt_watch_row *row)
{
	fprintf(f, "%012" PRIx64 "-%012" PRIx64 " %s", row->start, row->end, row->perms);
	if (row->nregions > 1)
		fprintf(f, " (%zu regions)", row->nregions);
	if (row->path_len)
		fprintf(f, " %.*s", (int)row->path_len, row->path);
}

static void put_row(FILE *f, const fmt_watch_frame *fr, const fmt_watch_row *row)
{
	char a[32], b[32], c[32], d[32], g[32], s[32], spark[256];
	fmt_sparkline(spark, sizeof(spark), row->history, row->nhistory, 16, fr->ascii);
	fprintf(f, "%c %-12s %8s %8s %8s %8s %8s %8s  %s%*s  ",
		row->gone ? '-' : row->born ? '+' : ' ', snap_kind_name(row->kind),
		fmt_kb(a, sizeof(a), row->now.kb[SNAP_M_RSS], false),
		fmt_kb(b, sizeof(b), row->now.kb[SNAP_M_PSS], false),
		fmt_kb(c, sizeof(c), row->now.kb[SNAP_M_PRIVATE_DIRTY], false),
		fmt_kb(d, sizeof(d), row->now.kb[SNAP_M_SWAP], false),
		fmt_kb(g, sizeof(g), row->growth_kb, true),
		fmt_kb(s, sizeof(s), row->step_kb, true), spark,
		(int)(row->nhistory < 16 ? 16 - row->nhistory : 0), "");
	put_where(f, row);
	fputc('\n', f);
}

static void put_rows(FILE *f, const fmt_watch_frame *fr)
{
	fprintf(f, "\nTOP %zu by %s (+ new since the baseline); GROWTH since the baseline, "
		   "LAST since the last refresh\n", fr->nrows, fr->sort);
	fprintf(f, "  %-12s %8s %8s %8s %8s %8s %8s  %-16s  %s\n", "KIND", "Rss", "Pss",
		"Dirty", "Swap", "GROWTH", "LAST", "HISTORY", "REGION");
	for (size_t i = 0; i < fr->nrows; i++)
		put_row(f, fr, &fr->rows[i]);
	if (fr->more)
		fprintf(f, "  ... %zu more\n", fr->more);
	if (!fr->ngone)
		return;
	fputs("\nVANISHED lately (values when last seen)\n", f);
	for (size_t i = 0; i < fr->ngone; i++) {
		const fmt_watch_row *row = &fr->gone[i];
		char a[32], when[64];
		if (row->gone_for)
			snprintf(when, sizeof(when), "%zu refresh%s ago", row->gone_for,
				 row->gone_for == 1 ? "" : "es");
		else
			snprintf(when, sizeof(when), "just now");
		fprintf(f, "- %-12s %8s  %-16s  ", snap_kind_name(row->kind),
			fmt_kb(a, sizeof(a), row->now.kb[SNAP_M_RSS], false), when);
		put_where(f, row);
		fputc('\n', f);
	}
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *opts)
{
	const fmt_watch_frame *fr = what;
	(void)safe;
	(void)opts;
	put_header(f, fr);
	put_totals(f, fr);
	put_kinds(f, fr);
	put_rows(f, fr);
}

int fmt_watch_text(FILE *out, const fmt_watch_frame *fr)
{
	/* Through the filter: comm and paths come from the process. */
	return fmt_safe_report(out, write_text, fr, NULL);
}
