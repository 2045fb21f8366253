/* The trend as a "mapsnap.trend/1" JSON document (formats/README.md).
 * Written directly, like the diff: every string goes through
 * fmt_json_put_string; sizes are kB, slopes kB (or counts) per minute,
 * addresses hex strings. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"

static void put_growth(FILE *f, const snap_growth *g)
{
	fputs("\"slope_per_min\":", f);
	fmt_json_put_number(f, g->slope);
	fputs(",\"late_slope_per_min\":", f);
	fmt_json_put_number(f, g->late_slope);
	fprintf(f, ",\"first\":%" PRId64 ",\"last\":%" PRId64 ",\"min\":%" PRId64
		",\"max\":%" PRId64 ",\"growth\":%" PRId64 ",\"points\":%zu,\"steps\":%zu,"
		"\"grew\":%zu,\"shrank\":%zu,\"flat_tail\":%zu", g->first, g->last, g->min,
		g->max, g->last - g->first, g->points, g->points ? g->points - 1 : 0,
		g->grew, g->shrank, g->flat_tail);
}

static void put_series(FILE *f, const char *key, const snap_trend_series *s,
		       size_t n)
{
	fprintf(f, "\"%s\":{\"verdict\":\"%s\",", key, snap_trend_verdict_name(s->verdict));
	put_growth(f, &s->growth);
	fputs(",\"values\":", f);
	fmt_json_put_kb_values(f, s->values, n);
	fputc('}', f);
}

static void put_snapshots(FILE *f, const snap_trend *t)
{
	fputs(",\n\"snapshots\":[", f);
	for (size_t s = 0; s < t->nsnaps; s++) {
		const snap_snapshot *snap = t->snaps[s];
		fprintf(f, "%s\n{\"captured_at\":", s ? "," : "");
		fmt_json_put_cstr(f, snap->captured_at);
		fprintf(f, ",\"seconds\":%.3f", t->seconds[s]);
		if (snap->process.known) {
			fprintf(f, ",\"pid\":%ld,\"start_time\":%lld,\"comm\":", snap->process.pid,
				snap->process.start_time);
			fmt_json_put_cstr(f, snap->process.comm);
		}
		fprintf(f, ",\"regions\":%zu}", snap->nregions);
	}
	fputs("]", f);
}

static void put_region(FILE *f, const snap_trend *t, const snap_trend_region *r)
{
	fprintf(f, "{\"verdict\":\"%s\",\"suspect\":%s,\"kind\":\"%s\",\"born\":%s,"
		"\"members\":%zu,\"path\":", snap_trend_verdict_name(r->verdict),
		r->verdict == SNAP_TREND_STEADY ? "true" : "false", snap_kind_name(r->kind),
		r->born ? "true" : "false", r->members);
	fmt_json_put_string(f, r->path, r->path_len);
	fprintf(f, ",\"perms\":\"%s\",\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64
		"\",\"regions\":%zu,\"first\":%zu,\"last\":%zu",
		r->perms, r->start, r->end, r->nregions, r->first,
		r->last);
	for (size_t m = 0; m < SNAP_TREND_MEASURES; m++) {
		fprintf(f, ",\"%s\":{", snap_measure_name(snap_trend_measure(m)));
		put_growth(f, &r->growth[m]);
		fputs(",\"values\":", f);
		fmt_json_put_kb_values(f, r->values[m], t->nsnaps);
		fputc('}', f);
	}
	fputc('}', f);
}

static void put_process(FILE *f, const snap_trend *t)
{
	fputs(",\n\"process\":{", f);
	for (size_t m = 0; m < SNAP_TREND_MEASURES; m++) {
		put_series(f, snap_measure_name(snap_trend_measure(m)), &t->total[m],
			   t->nsnaps);
		fputs(",\n", f);
	}
	put_series(f, "regions", &t->region_count, t->nsnaps);
	fputs(",\n", f);
	put_series(f, "thread_stacks", &t->thread_stacks, t->nsnaps);
	fputs("}", f);
}

static void put_kinds(FILE *f, const snap_trend *t)
{
	fputs(",\n\"by_kind\":[", f);
	bool first = true;
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (!t->kind_seen[k])
			continue;
		fprintf(f, "%s\n{\"kind\":\"%s\"", first ? "" : ",",
			snap_kind_name((enum snap_kind)k));
		for (size_t m = 0; m < SNAP_TREND_MEASURES; m++) {
			fputc(',', f);
			put_series(f, snap_measure_name(snap_trend_measure(m)), &t->kind[k][m],
				   t->nsnaps);
		}
		fputc('}', f);
		first = false;
	}
	fputs("]", f);
}

static void put_gate(FILE *f, const snap_trend_gate *gate)
{
	size_t n = snap_trend_gate_size(gate), bad = 0;
	const snap_violation *v = gate ? snap_trend_gate_violations(gate, &bad) : NULL;
	fprintf(f, ",\n\"gate\":{\"checks\":%zu,\"passed\":%s,\"violations\":", n,
		bad ? "false" : "true");
	fmt_json_put_violations(f, v, bad);
	fputc('}', f);
}

int fmt_trend_json(FILE *f, const snap_trend *t, const fmt_trend_opts *opts)
{
	fmt_trend_opts none = { 0 };
	if (!opts)
		opts = &none;
	fputs("{\"schema\":\"mapsnap.trend/1\",\"tool\":\"mapsnap " SNAP_VERSION_STRING
	      "\",\"label\":", f);
	fmt_json_put_cstr(f, opts->label);
	put_snapshots(f, t);
	fprintf(f, ",\n\"matching\":{\"address_steps\":%zu,\"identity_steps\":%zu}",
		t->address_steps, t->nsnaps - 1 - t->address_steps);
	fprintf(f, ",\n\"rules\":{\"measure\":\"%s\",\"min_slope_kb_per_min\":",
		snap_measure_name(t->opts.measure));
	fmt_json_put_number(f, t->opts.min_slope_kb);
	fputs(",\"steady_fraction\":", f);
	fmt_json_put_number(f, t->opts.steady_fraction);
	fprintf(f, ",\"min_points\":%zu}", t->opts.min_points);
	fprintf(f, ",\n\"leak_suspects\":%zu,\"regions_followed\":%zu,"
		"\"regions_flat\":%zu,\n\"regions\":[", t->suspects, t->nregions, t->flat);
	for (size_t k = 0; k < t->nregions - t->flat; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_region(f, t, &t->regions[k]);
	}
	fputs("]", f);
	put_process(f, t);
	put_kinds(f, t);
	if (opts->gate)
		put_gate(f, opts->gate);
	else
		fputs(",\n\"gate\":null", f);
	fputs("}\n", f);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
