/* The summary as a "mapsnap.summary/1" JSON document (formats/README.md).
 * Counters are kB; addresses are hex strings (they overflow JSON
 * integers in some readers). Also the process members that the check
 * document shares. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static void put_rollup(FILE *f, const snap_summary *sum)
{
	fputs(",\n\"rollup\":", f);
	if (!sum->nrollup) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"agrees\":%s,\"rows\":[", sum->torn ? "false" : "true");
	for (size_t k = 0; k < sum->nrollup; k++) {
		const snap_rollup_row *r = &sum->rollup[k];
		fprintf(f, "%s{\"counter\":\"%s\",\"summed\":%" PRId64 ",\"rollup\":%" PRId64
			",\"tolerance\":%" PRId64 ",\"agrees\":%s}", k ? "," : "",
			snap_measure_name(r->measure), r->summed_kb, r->rollup_kb,
			r->tolerance_kb, r->agrees ? "true" : "false");
	}
	fputs("]}", f);
}

static void put_kinds(FILE *f, const snap_summary *sum)
{
	fputs(",\n\"by_kind\":[", f);
	bool first = true;
	int64_t rss = sum->total.kb[SNAP_M_RSS];
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		const snap_sums *s = &sum->by_kind[k];
		if (!s->regions)
			continue;
		fprintf(f, "%s\n{\"kind\":\"%s\",", first ? "" : ",",
			snap_kind_name((enum snap_kind)k));
		fmt_json_put_counters(f, s);
		fprintf(f, ",\"rss_share\":%.4f}",
			rss ? (double)s->kb[SNAP_M_RSS] / (double)rss : 0.0);
		first = false;
	}
	fputs("]", f);
}

static void put_region(FILE *f, const snap_summary *sum, size_t i)
{
	const snap_region *r = &sum->snap->regions[i];
	fprintf(f, "{\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64 "\",\"perms\":\"%s\","
		"\"kind\":\"%s\",\"evidence\":\"%s\",\"path\":", r->start, r->end,
		r->perms, snap_kind_name(sum->id->kinds[i]),
		snap_evidence_name((enum snap_evidence)sum->id->evidence[i]));
	fmt_json_put_string(f, r->path, r->path_len);
	fprintf(f, ",\"Size\":%" PRIu64, (r->end - r->start) >> 10);
	for (int m = 1; m < SNAP_M_COUNT; m++) {
		const char *name = snap_measure_name((enum snap_measure)m);
		fprintf(f, ",\"%s\":%" PRIu64, name, snap_region_get(sum->snap, r, name));
	}
	fputc('}', f);
}

static void put_top(FILE *f, const snap_summary *sum)
{
	fputs(",\n\"top_regions\":[", f);
	for (size_t k = 0; k < sum->ntop; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_region(f, sum, sum->top[k]);
	}
	fputs("]", f);
}

static void put_libs(FILE *f, const snap_summary *sum)
{
	fputs(",\n\"libraries\":[", f);
	for (size_t k = 0; k < sum->nlibs; k++) {
		const snap_summary_lib *lib = &sum->libs[k];
		const snap_image *img = lib->image;
		const snap_region *first = &sum->snap->regions[img->first];
		fprintf(f, "%s\n{\"path\":", k ? "," : "");
		fmt_json_put_string(f, img->path, img->path_len);
		fprintf(f, ",\"kind\":\"%s\",\"deleted\":%s,\"inode\":%" PRIu64
			",\"load\":%u,\"start\":\"%08" PRIx64 "\",",
			snap_kind_name(img->kind), img->deleted ? "true" : "false",
			img->inode, img->ordinal, first->start);
		fmt_json_put_counters(f, &lib->sums);
		fputc('}', f);
	}
	fputs("]", f);
}

int fmt_summary_json(FILE *f, const snap_summary *sum, const fmt_summary_opts *opts)
{
	fmt_summary_opts none = { 0 };
	if (!opts)
		opts = &none;
	fputs("{\"schema\":\"mapsnap.summary/1\",\"label\":", f);
	fmt_json_put_cstr(f, opts->label);
	fputs(",\n", f);
	fmt_process_json(f, sum->snap);
	fprintf(f, ",\n\"regions\":%zu,\"filtered\":%s,\"filter\":", sum->snap->nregions,
		sum->filtered ? "true" : "false");
	fmt_json_put_cstr(f, sum->filtered ? opts->filter : NULL);
	fprintf(f, ",\"metric\":\"%s\",\n\"totals\":{",
		snap_measure_name(sum->opts.metric));
	fmt_json_put_counters(f, &sum->total);
	fputs("}", f);
	put_rollup(f, sum);
	put_kinds(f, sum);
	put_top(f, sum);
	put_libs(f, sum);
	fprintf(f, ",\n\"thread_stacks\":{\"count\":%zu,\"Size\":%" PRId64 ",\"Rss\":%" PRId64
		",\"threads\":%ld}", sum->stacks.count, sum->stacks.size_kb,
		sum->stacks.rss_kb, sum->stacks.threads);
	fprintf(f, ",\n\"arenas\":{\"count\":%zu,\"committed\":%" PRId64 ",\"reserved\":%"
		PRId64 ",\"Rss\":%" PRId64 "}}\n", sum->arenas.count, sum->arenas.committed_kb,
		sum->arenas.reserved_kb, sum->arenas.rss_kb);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
