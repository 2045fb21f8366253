/* The rank as a table for a terminal: one line per process (or user,
 * command, library), largest first, and the totals. Also the value names
 * and the "top kinds" cell the other rank formats share. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

const char *fmt_rank_value_name(enum fmt_rank_value v, bool libraries)
{
	static const char *const names[FMT_RANK_VALUES] = {
		"Rss", "Pss", "USS", "Swap", "SwapPss",
	};
	if (libraries && v == FMT_RANK_USS)
		return "Private";
	return (unsigned)v < FMT_RANK_VALUES ? names[v] : "?";
}

static bool libraries(const fmt_rank *rank)
{
	return rank->by == FMT_RANK_BY_LIBRARY;
}

static size_t listed(const fmt_rank *rank)
{
	return rank->top && rank->top < rank->nrows ? rank->top : rank->nrows;
}

/* The largest kinds of a row by the sort value: "heap 12.0M, anon 3.1M". */
static void put_top_kinds(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	int order[SNAP_KIND_COUNT];
	size_t n = 0;
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		int64_t v = row->kind_kb[k][rank->sort];
		if (v <= 0)
			continue;
		size_t j = n++;
		for (; j > 0 && row->kind_kb[order[j - 1]][rank->sort] < v; j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
	char buf[32];
	for (size_t i = 0; i < n && i < 3; i++)
		fprintf(f, "%s%s %s", i ? ", " : "", snap_kind_name((enum snap_kind)order[i]),
			fmt_kb(buf, sizeof(buf), row->kind_kb[order[i]][rank->sort], false));
}

static void put_values(FILE *f, const fmt_rank_row *row)
{
	char buf[32];
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, " %8s", fmt_kb(buf, sizeof(buf), row->kb[v], false));
}

static void put_value_names(FILE *f, const fmt_rank *rank)
{
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, " %8s", fmt_rank_value_name((enum fmt_rank_value)v, libraries(rank)));
}

static void put_header(FILE *f, const fmt_rank *rank)
{
	static const char *const what[] = { "processes", "users", "commands", "libraries" };
	fprintf(f, "mapsnap rank: %zu process%s (%s), %s by %s", rank->total.processes,
		rank->total.processes == 1 ? "" : "es", rank->source ? rank->source : "",
		what[rank->by], fmt_rank_value_name(rank->sort, libraries(rank)));
	if (rank->vanished || rank->denied)
		fprintf(f, "; not read: %zu vanished, %zu denied", rank->vanished, rank->denied);
	fputs("\n\n", f);
	switch (rank->by) {
	case FMT_RANK_BY_PROCESS: fprintf(f, "%8s %-10s %-16s", "PID", "USER", "COMM"); break;
	case FMT_RANK_BY_USER: fprintf(f, "%-16s %6s", "USER", "PROCS"); break;
	case FMT_RANK_BY_COMM: fprintf(f, "%-16s %6s", "COMM", "PROCS"); break;
	case FMT_RANK_BY_LIBRARY: fprintf(f, "%6s %6s", "PROCS", "TWICE"); break;
	}
	put_value_names(f, rank);
	if (libraries(rank))
		fputs("  LIBRARY\n", f);
	else
		fprintf(f, "  %s\n", rank->kinds ? "TOP KINDS" : "");
}

static void put_row(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	const char *name = row->name ? row->name : "?";
	switch (rank->by) {
	case FMT_RANK_BY_PROCESS:
		fprintf(f, "%8ld %-10s %-16s", row->pid, row->user ? row->user : "?", name);
		break;
	case FMT_RANK_BY_USER:
	case FMT_RANK_BY_COMM:
		fprintf(f, "%-16s %6zu", name, row->processes);
		break;
	case FMT_RANK_BY_LIBRARY:
		fprintf(f, "%6zu %6zu", row->processes, row->twice);
		break;
	}
	put_values(f, row);
	fputs("  ", f);
	if (libraries(rank) && row->build_id)
		fprintf(f, "%s (build %.12s)", name, row->build_id);
	else if (libraries(rank))
		fputs(name, f);
	else if (rank->kinds)
		put_top_kinds(f, rank, row);
	fputc('\n', f);
}

static void put_total(FILE *f, const fmt_rank *rank)
{
	size_t n = listed(rank);
	if (n < rank->nrows)
		fprintf(f, "... %zu more (--top 0 lists all)\n", rank->nrows - n);
	char label[64];
	snprintf(label, sizeof(label), "TOTAL (%zu)", libraries(rank) ? rank->nrows
							      : rank->total.processes);
	switch (rank->by) {
	case FMT_RANK_BY_PROCESS: fprintf(f, "%-36s", label); break;
	case FMT_RANK_BY_USER:
	case FMT_RANK_BY_COMM: fprintf(f, "%-16s %6zu", "TOTAL", rank->total.processes); break;
	case FMT_RANK_BY_LIBRARY: fprintf(f, "%-13s", label); break;
	}
	put_values(f, &rank->total);
	fputs("  ", f);
	if (rank->kinds && !libraries(rank))
		put_top_kinds(f, rank, &rank->total);
	fputc('\n', f);
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *opts)
{
	const fmt_rank *rank = what;
	(void)safe;
	(void)opts;
	put_header(f, rank);
	for (size_t i = 0; i < listed(rank); i++)
		put_row(f, rank, &rank->rows[i]);
	put_total(f, rank);
}

int fmt_rank_text(FILE *out, const fmt_rank *rank)
{
	/* Through the filter: comm and paths come from the processes. */
	return fmt_safe_report(out, write_text, rank, NULL);
}
