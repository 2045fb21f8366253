/* The rank as a GitHub-flavoured markdown table. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static bool libraries(const fmt_rank *rank)
{
	return rank->by == FMT_RANK_BY_LIBRARY;
}

static void put_head(FILE *f, const fmt_rank *rank)
{
	static const char *const first[] = { "pid | user | comm", "user | processes",
					     "comm | processes", "library | processes | twice" };
	static const char *const align[] = { "---:|---|---|", "---|---:|", "---|---:|",
					     "---|---:|---:|" };
	fprintf(f, "| %s |", first[rank->by]);
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, " %s |", fmt_rank_value_name((enum fmt_rank_value)v, libraries(rank)));
	bool kinds = rank->kinds && !libraries(rank);
	fprintf(f, "%s\n|%s", kinds ? " top kinds |" : "", align[rank->by]);
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fputs("---:|", f);
	fputs(kinds ? "---|\n" : "\n", f);
}

static void put_kinds(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	if (!rank->kinds || libraries(rank))
		return;
	int best[3] = { -1, -1, -1 };
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		int64_t v = row->kind_kb[k][rank->sort];
		for (int i = 0; i < 3 && v > 0; i++)
			if (best[i] < 0 || row->kind_kb[best[i]][rank->sort] < v) {
				memmove(best + i + 1, best + i, (size_t)(2 - i) * sizeof(*best));
				best[i] = k;
				break;
			}
	}
	char buf[32];
	fputc(' ', f);
	for (int i = 0; i < 3 && best[i] >= 0; i++)
		fprintf(f, "%s%s %s", i ? ", " : "", snap_kind_name((enum snap_kind)best[i]),
			fmt_kb(buf, sizeof(buf), row->kind_kb[best[i]][rank->sort], false));
	fputs(" |", f);
}

static void put_row(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	char buf[32];
	fputs("| ", f);
	switch (rank->by) {
	case FMT_RANK_BY_PROCESS:
		fprintf(f, "%ld | ", row->pid);
		fmt_markdown_cstr(f, row->user);
		fputs(" | ", f);
		fmt_markdown_cstr(f, row->name);
		break;
	case FMT_RANK_BY_USER:
	case FMT_RANK_BY_COMM:
		fmt_markdown_cstr(f, row->name);
		fprintf(f, " | %zu", row->processes);
		break;
	case FMT_RANK_BY_LIBRARY:
		fputc('`', f);
		fmt_markdown_cstr(f, row->name);
		fprintf(f, "` | %zu | %zu", row->processes, row->twice);
		break;
	}
	fputs(" |", f);
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, " %s |", fmt_kb(buf, sizeof(buf), row->kb[v], false));
	put_kinds(f, rank, row);
	fputc('\n', f);
}

static void write_markdown(FILE *f, fmt_safe_out *safe, const void *what,
		           const void *opts)
{
	const fmt_rank *rank = what;
	(void)safe;
	(void)opts;
	static const char *const listing[] = { "processes", "users", "commands", "libraries" };
	size_t n = rank->top && rank->top < rank->nrows ? rank->top : rank->nrows;
	fprintf(f, "### mapsnap rank: %zu process%s, %s by %s\n\n", rank->total.processes,
		rank->total.processes == 1 ? "" : "es", listing[rank->by],
		fmt_rank_value_name(rank->sort, libraries(rank)));
	put_head(f, rank);
	for (size_t i = 0; i < n; i++)
		put_row(f, rank, &rank->rows[i]);
	fputs("| **total** |", f);
	if (rank->by == FMT_RANK_BY_USER || rank->by == FMT_RANK_BY_COMM)
		fprintf(f, " %zu |", rank->total.processes);
	else
		fputs(" | |", f);
	char buf[32];
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, " %s |", fmt_kb(buf, sizeof(buf), rank->total.kb[v], false));
	put_kinds(f, rank, &rank->total);
	fputc('\n', f);
	if (n < rank->nrows)
		fprintf(f, "\n%zu more rows not listed.\n", rank->nrows - n);
	if (rank->vanished || rank->denied)
		fprintf(f, "\nNot read: %zu vanished, %zu denied.\n", rank->vanished,
			rank->denied);
}

int fmt_rank_markdown(FILE *out, const fmt_rank *rank)
{
	/* Through the filter: comm and paths come from the processes. */
	return fmt_safe_report(out, write_markdown, rank, NULL);
}
