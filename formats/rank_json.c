/* The rank as a "mapsnap.rank/1" JSON document (formats/README.md).
 * Values are kB under their names ("Rss", "Pss", "USS" or "Private",
 * "Swap", "SwapPss"); every row is listed whatever --top says. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"

static const char *const by_names[] = { "process", "user", "comm", "library" };

static void put_values(FILE *f, const fmt_rank *rank, const int64_t *kb)
{
	for (int v = 0; v < FMT_RANK_VALUES; v++)
		fprintf(f, "%s\"%s\":%" PRId64, v ? "," : "",
			fmt_rank_value_name((enum fmt_rank_value)v,
					    rank->by == FMT_RANK_BY_LIBRARY), kb[v]);
}

static void put_kinds(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	if (!rank->kinds || rank->by == FMT_RANK_BY_LIBRARY)
		return;
	fputs(",\"by_kind\":{", f);
	bool first = true;
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		bool any = false;
		for (int v = 0; v < FMT_RANK_VALUES; v++)
			any |= row->kind_kb[k][v] != 0;
		if (!any)
			continue;
		fprintf(f, "%s\"%s\":{", first ? "" : ",", snap_kind_name((enum snap_kind)k));
		put_values(f, rank, row->kind_kb[k]);
		fputc('}', f);
		first = false;
	}
	fputc('}', f);
}

static void put_row(FILE *f, const fmt_rank *rank, const fmt_rank_row *row)
{
	fputc('{', f);
	switch (rank->by) {
	case FMT_RANK_BY_PROCESS:
		fprintf(f, "\"pid\":%ld,\"comm\":", row->pid);
		fmt_json_put_cstr(f, row->name);
		fputs(",\"user\":", f);
		fmt_json_put_cstr(f, row->user);
		break;
	case FMT_RANK_BY_USER:
	case FMT_RANK_BY_COMM:
		fprintf(f, "\"%s\":", by_names[rank->by]);
		fmt_json_put_cstr(f, row->name);
		fprintf(f, ",\"processes\":%zu", row->processes);
		break;
	case FMT_RANK_BY_LIBRARY:
		fputs("\"path\":", f);
		fmt_json_put_cstr(f, row->name);
		fputs(",\"build_id\":", f);
		fmt_json_put_cstr(f, row->build_id);
		fprintf(f, ",\"processes\":%zu,\"loaded_twice\":%zu", row->processes, row->twice);
		break;
	}
	fputc(',', f);
	put_values(f, rank, row->kb);
	put_kinds(f, rank, row);
	fputc('}', f);
}

int fmt_rank_json(FILE *f, const fmt_rank *rank)
{
	fprintf(f, "{\"schema\":\"mapsnap.rank/1\",\"by\":\"%s\",\"sort\":\"%s\",\"source\":",
		by_names[rank->by],
		fmt_rank_value_name(rank->sort, rank->by == FMT_RANK_BY_LIBRARY));
	fmt_json_put_cstr(f, rank->source);
	fprintf(f, ",\"kinds\":%s,\"processes\":%zu,\"not_read\":{\"vanished\":%zu,"
		"\"denied\":%zu},\n\"rows\":[", rank->kinds ? "true" : "false",
		rank->total.processes, rank->vanished, rank->denied);
	for (size_t i = 0; i < rank->nrows; i++) {
		fputs(i ? ",\n" : "\n", f);
		put_row(f, rank, &rank->rows[i]);
	}
	fputs("],\n\"total\":{", f);
	put_values(f, rank, rank->total.kb);
	if (rank->by != FMT_RANK_BY_LIBRARY)
		put_kinds(f, rank, &rank->total);
	fputs("}}\n", f);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
