/* The check's findings as a "mapsnap.check/1" JSON document
 * (formats/README.md): the thresholds used, counts by severity, every
 * finding with all of its regions. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static void put_thresholds(FILE *f, const snap_check_opts *o)
{
	fprintf(f, ",\n\"thresholds\":{\"heap_min_kb\":%" PRId64 ",\"heap_ratio\":%g,"
		"\"small_maps\":%zu,\"small_max_kb\":%" PRId64 ",\"dirty_ratio\":%g,"
		"\"dirty_min_kb\":%" PRId64 ",\"swap_ratio\":%g,\"swap_min_kb\":%" PRId64
		",\"large_anon_kb\":%" PRId64 ",\"thread_stacks_max\":%zu,"
		"\"map_count_ratio\":%g,\"max_map_count\":", o->heap_min_kb, o->heap_ratio,
		o->small_maps, o->small_max_kb, o->dirty_ratio, o->dirty_min_kb,
		o->swap_ratio, o->swap_min_kb, o->large_anon_kb, o->thread_stacks_max,
		o->map_count_ratio);
	if (o->max_map_count > 0)
		fprintf(f, "%ld}", o->max_map_count);
	else
		fputs("null}", f);
}

static void put_region(FILE *f, const snap_check *c, size_t i)
{
	const snap_region *r = &c->snap->regions[i];
	fprintf(f, "{\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64 "\",\"perms\":\"%s\","
		"\"kind\":\"%s\",\"evidence\":\"%s\",\"path\":", r->start, r->end,
		r->perms, snap_kind_name(c->id->kinds[i]),
		snap_evidence_name((enum snap_evidence)c->id->evidence[i]));
	fmt_json_put_string(f, r->path, r->path_len);
	fputc('}', f);
}

static void put_finding(FILE *f, const snap_check *c, const snap_finding *x)
{
	fmt_json_finding_head(f, x);
	fputs(",\"regions\":[", f);
	for (size_t k = 0; k < x->nregions; k++) {
		fputs(k ? ",\n " : "\n ", f);
		put_region(f, c, x->regions[k]);
	}
	fputs("]}", f);
}

int fmt_check_json(FILE *f, const snap_check *c, const fmt_check_opts *opts)
{
	fmt_check_opts none = { 0 };
	if (!opts)
		opts = &none;
	fputs("{\"schema\":\"mapsnap.check/1\",\"label\":", f);
	fmt_json_put_cstr(f, opts->label);
	fputs(",\n", f);
	fmt_process_json(f, c->snap);
	fprintf(f, ",\n\"regions\":%zu", c->snap->nregions);
	put_thresholds(f, &c->opts);
	fputs(",\n\"counts\":", f);
	fmt_json_severity_counts(f, c);
	fputs(",\n\"findings\":[", f);
	for (size_t k = 0; k < c->nfindings; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_finding(f, c, &c->findings[k]);
	}
	fputs("],\n\"skipped\":", f);
	fmt_json_put_cstrs(f, c->skipped, c->nskipped);
	fputs("}\n", f);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
