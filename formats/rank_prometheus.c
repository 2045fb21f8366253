/* The rank in Prometheus' text exposition format, for node_exporter's
 * textfile collector. Cardinality stays bounded: the first `top` rows get
 * their own series (the command lists 20 unless told otherwise) and the
 * rest are added up into one "(other)" series, so every metric still sums
 * to the host total. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

static const char *const by_names[] = { "process", "user", "comm", "library" };

static const char *const value_words[FMT_RANK_VALUES] = {
	"rss", "pss", "uss", "swap", "swap_pss",
};

static const char *const value_help[FMT_RANK_VALUES] = {
	"resident memory (Rss)",
	"proportional set size (Pss: shared pages divided among their sharers)",
	"unique set size (Private_Clean + Private_Dirty)",
	"swapped out memory (Swap)",
	"proportional swap (SwapPss)",
};

/* A label value: the terminal-safe filter makes it printable UTF-8 (no
 * newline left), then \ and " are escaped. */
static void put_label(FILE *f, const char *s)
{
	char *copy = strdup(s ? s : "");
	if (!copy)
		return;
	fmt_safe_text(copy, strlen(copy), 0);
	for (const char *p = copy; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		fputc(*p, f);
	}
	free(copy);
}

static void put_labels(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	fputc('{', f);
	if (!row) {
		fprintf(f, rank->by == FMT_RANK_BY_PROCESS ? "pid=\"\",comm=\"(other)\"}"
							   : "%s=\"(other)\"}", by_names[rank->by]);
		return;
	}
	if (rank->by == FMT_RANK_BY_PROCESS) {
		fprintf(f, "pid=\"%ld\",comm=\"", row->pid);
		put_label(f, row->name);
		fputs("\"}", f);
		return;
	}
	fprintf(f, "%s=\"", by_names[rank->by]);
	put_label(f, row->name);
	fputs("\"}", f);
}

static void put_metric(FILE *f, const fmt_rank *rank, int v, size_t n,
		       const fmt_rank_row *other)
{
	const char *by = by_names[rank->by];
	const char *word = rank->by == FMT_RANK_BY_LIBRARY && v == FMT_RANK_USS
			   ? "private" : value_words[v];
	fprintf(f, "# HELP mapsnap_rank_%s_%s_bytes Per %s: %s, in bytes.\n", by, word, by,
		value_help[v]);
	fprintf(f, "# TYPE mapsnap_rank_%s_%s_bytes gauge\n", by, word);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "mapsnap_rank_%s_%s_bytes", by, word);
		put_labels(f, rank, &rank->rows[i]);
		fprintf(f, " %" PRId64 "\n", rank->rows[i].kb[v] * 1024);
	}
	if (other) {
		fprintf(f, "mapsnap_rank_%s_%s_bytes", by, word);
		put_labels(f, rank, NULL);
		fprintf(f, " %" PRId64 "\n", other->kb[v] * 1024);
	}
}

static void put_counts(FILE *f, const fmt_rank *rank, size_t n, const fmt_rank_row *other)
{
	const char *by = by_names[rank->by];
	if (rank->by == FMT_RANK_BY_PROCESS)
		return;
	fprintf(f, "# HELP mapsnap_rank_%s_processes Processes counted in each row.\n"
		   "# TYPE mapsnap_rank_%s_processes gauge\n", by, by);
	for (size_t i = 0; i <= n; i++) {
		const fmt_rank_row *row = i < n ? &rank->rows[i] : other;
		if (!row)
			break;
		fprintf(f, "mapsnap_rank_%s_processes", by);
		put_labels(f, rank, i < n ? row : NULL);
		fprintf(f, " %zu\n", row->processes);
	}
	if (rank->by != FMT_RANK_BY_LIBRARY)
		return;
	fputs("# HELP mapsnap_rank_library_loaded_twice Processes that load the library "
	      "more than once.\n# TYPE mapsnap_rank_library_loaded_twice gauge\n", f);
	for (size_t i = 0; i <= n; i++) {
		const fmt_rank_row *row = i < n ? &rank->rows[i] : other;
		if (!row)
			break;
		fputs("mapsnap_rank_library_loaded_twice", f);
		put_labels(f, rank, i < n ? row : NULL);
		fprintf(f, " %zu\n", row->twice);
	}
}

int fmt_rank_prometheus(FILE *f, const fmt_rank *rank)
{
	size_t n = rank->top && rank->top < rank->nrows ? rank->top : rank->nrows;
	fmt_rank_row other = { .pid = -1 };
	for (size_t i = n; i < rank->nrows; i++) {
		other.processes += rank->rows[i].processes;
		other.twice += rank->rows[i].twice;
		for (int v = 0; v < FMT_RANK_VALUES; v++)
			other.kb[v] += rank->rows[i].kb[v];
	}
	const fmt_rank_row *rest = n < rank->nrows ? &other : NULL;
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		put_metric(f, rank, v, n, rest);
	put_counts(f, rank, n, rest);
	fprintf(f, "# HELP mapsnap_rank_processes Processes read.\n"
		   "# TYPE mapsnap_rank_processes gauge\nmapsnap_rank_processes %zu\n"
		   "# HELP mapsnap_rank_not_read_processes Live processes that could not be "
		   "read.\n# TYPE mapsnap_rank_not_read_processes gauge\n"
		   "mapsnap_rank_not_read_processes{reason=\"vanished\"} %zu\n"
		   "mapsnap_rank_not_read_processes{reason=\"denied\"} %zu\n",
		   rank->total.processes, rank->vanished, rank->denied);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
