/* The diff as a "mapsnap.diff/1" JSON document (formats/README.md).
 * Written directly: a report of 60,000 changes must stream, and every
 * string goes through fmt_json_put_string. Counters are kB, addresses
 * hex strings (they overflow JSON integers in some readers). */
#include <inttypes.h>
#include <string.h>

#include "formats.h"

static void put_key(FILE *f, const char *key)
{
	fprintf(f, "\"%s\":", key);
}

static void put_input(FILE *f, const char *label, const snap_snapshot *s)
{
	fputc('{', f);
	put_key(f, "label");
	fmt_json_put_cstr(f, label);
	const snap_process *p = &s->process;
	if (p->known) {
		fprintf(f, ",\"pid\":%ld,\"start_time\":%lld,\"comm\":", p->pid,
			p->start_time);
		fmt_json_put_cstr(f, p->comm);
		fputs(",\"exe\":", f);
		fmt_json_put_cstr(f, p->exe);
	}
	fputs(",\"captured_at\":", f);
	fmt_json_put_cstr(f, s->captured_at);
	fputs(",\"hostname\":", f);
	fmt_json_put_cstr(f, s->host.hostname);
	fputs(",\"boot_id\":", f);
	fmt_json_put_cstr(f, s->host.boot_id);
	fprintf(f, ",\"regions\":%zu}", s->nregions);
}

static void put_totals(FILE *f, const snap_sums *old, const snap_sums *new)
{
	snap_sums delta = *new;
	for (int m = 0; m < SNAP_M_COUNT; m++)
		delta.kb[m] -= old->kb[m];
	delta.regions -= old->regions;
	fputs("\"old\":", f);
	fmt_json_put_sums(f, old);
	fputs(",\"new\":", f);
	fmt_json_put_sums(f, new);
	fputs(",\"delta\":", f);
	fmt_json_put_sums(f, &delta);
}

static void put_by_kind(FILE *f, const snap_diff *d)
{
	fputs(",\n\"by_kind\":[", f);
	bool first = true;
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (!d->kind_old[k].regions && !d->kind_new[k].regions)
			continue;
		fprintf(f, "%s\n{\"kind\":\"%s\",", first ? "" : ",",
			snap_kind_name((enum snap_kind)k));
		put_totals(f, &d->kind_old[k], &d->kind_new[k]);
		fputc('}', f);
		first = false;
	}
	fputs("]", f);
}

static void put_side(FILE *f, const snap_side *s)
{
	if (!s->present) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64 "\","
		"\"inode\":%" PRIu64 ",", s->start, s->end, s->inode);
	fmt_json_put_counters(f, &s->sums);
	fputc('}', f);
}

static void put_ranges(FILE *f, const char *key, const snap_range *r, size_t n)
{
	fprintf(f, ",\"%s\":[", key);
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%s{\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64 "\"}",
			k ? "," : "", r[k].start, r[k].end);
	fputc(']', f);
}

/* ,"key":"hex" or ,"key":null */
static void put_build(FILE *f, const char *key, const snap_build_id *id)
{
	char hex[2 * SNAP_BUILD_ID_MAX + 1];
	if (!id || !id->len) {
		fprintf(f, ",\"%s\":null", key);
		return;
	}
	snap_build_id_hex(hex, sizeof(hex), id);
	fprintf(f, ",\"%s\":\"%s\"", key, hex);
}

static void put_change(FILE *f, const snap_change *c)
{
	fprintf(f, "{\"change\":\"%s\",\"kind\":\"%s\",\"path\":",
		snap_change_name(c->type), snap_kind_name(c->kind));
	fmt_json_put_string(f, c->path, c->path_len);
	fprintf(f, ",\"perms\":\"%s\",\"image\":%s,\"evidence\":\"%s\",\"old\":",
		c->perms, c->image ? "true" : "false", snap_evidence_name(c->evidence));
	put_side(f, &c->old);
	fputs(",\"new\":", f);
	put_side(f, &c->new);
	fputs(",\"delta\":", f);
	fmt_json_put_sums(f, &c->delta);
	fputs(",\"old_path\":", f);
	if (c->old_path_len)
		fmt_json_put_string(f, c->old_path, c->old_path_len);
	else
		fputs("null", f);
	put_build(f, "old_build_id", c->old_build);
	put_build(f, "new_build_id", c->new_build);
	put_ranges(f, "mapped", c->mapped, c->nmapped);
	put_ranges(f, "unmapped", c->unmapped, c->nunmapped);
	fputs(",\"perms_changes\":[", f);
	for (size_t k = 0; k < c->nperms_changes; k++) {
		const snap_perms_change *p = &c->perms_changes[k];
		fprintf(f, "%s{\"start\":\"%08" PRIx64 "\",\"end\":\"%08" PRIx64 "\","
			"\"old\":\"%s\",\"new\":\"%s\"}", k ? "," : "", p->start, p->end,
			p->old_perms, p->new_perms);
	}
	fputs("]}", f);
}

static void put_dups(FILE *f, const snap_diff *d)
{
	fputs(",\n\"duplicated_libraries\":[", f);
	for (size_t k = 0; k < d->ndups; k++) {
		const snap_duplicate *dup = d->dups[k].dup;
		fprintf(f, "%s\n{\"name\":", k ? "," : "");
		fmt_json_put_cstr(f, dup->name);
		fprintf(f, ",\"new_in_new\":%s,\"same_file\":%s,\"duplicate\":\"%s\",\"images\":[",
			d->dups[k].new_in_new ? "true" : "false",
			dup->same_file ? "true" : "false", snap_dup_kind_name(dup->kind));
		for (size_t m = 0; m < dup->nimages; m++) {
			const snap_image *img = &d->new_id->images[dup->images[m]];
			const snap_region *r = &d->new->regions[img->first];
			fprintf(f, "%s{\"path\":", m ? "," : "");
			fmt_json_put_string(f, r->path, r->path_len);
			fprintf(f, ",\"inode\":%" PRIu64 ",\"start\":\"%08" PRIx64 "\","
				"\"end\":\"%08" PRIx64 "\",\"segments\":%zu,\"Size\":%" PRIu64
				",\"Rss\":%" PRIu64, img->inode, r->start,
				d->new->regions[img->first + img->count - 1].end, img->count,
				img->size_kb, img->rss_kb);
			put_build(f, "build_id", img->file ? &img->file->build_id : NULL);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]", f);
}

static void put_gate(FILE *f, const snap_gate *gate)
{
	size_t n = snap_gate_size(gate), bad = 0;
	const snap_violation *v = gate ? snap_gate_violations(gate, &bad) : NULL;
	fprintf(f, ",\n\"gate\":{\"passed\":%s,\"expressions\":[", bad ? "false" : "true");
	for (size_t k = 0; k < n; k++) {
		fputs(k ? "," : "", f);
		fmt_json_put_cstr(f, snap_gate_expr(gate, k));
	}
	fputs("],\"violations\":", f);
	fmt_json_put_violations(f, v, bad);
	fputc('}', f);
}

int fmt_diff_json(FILE *f, const snap_diff *d, const fmt_diff_opts *opts)
{
	fmt_diff_opts none = { 0 };
	if (!opts)
		opts = &none;
	fputs("{\"schema\":\"mapsnap.diff/1\",\n\"old\":", f);
	put_input(f, opts->old_label, d->old);
	fputs(",\n\"new\":", f);
	put_input(f, opts->new_label, d->new);
	const char *old_exe, *new_exe;
	int other = fmt_diff_executables(d, &old_exe, &new_exe);
	fprintf(f, ",\n\"same_process\":%s,\"same_executable\":%s,\"matching\":\"%s\","
		"\"metric\":\"%s\",\"min_change_kb\":%" PRId64 ",\n\"totals\":{",
		d->same_process ? "true" : "false",
		other < 0 ? "null" : other ? "false" : "true", d->by_address ? "address" : "identity",
		snap_measure_name(d->opts.metric), d->opts.min_change_kb);
	put_totals(f, &d->total_old, &d->total_new);
	fputs("}", f);
	put_by_kind(f, d);
	fputs(",\n\"changes\":[", f);
	for (size_t k = 0; k < d->nchanges; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_change(f, &d->changes[k]);
	}
	fprintf(f, "],\n\"hidden_changes\":%zu,\"new_libs\":%zu", d->hidden, d->new_libs);
	put_dups(f, d);
	fprintf(f, ",\n\"thread_stacks\":{\"old\":%zu,\"new\":%zu}",
		d->old_id->thread_stacks, d->new_id->thread_stacks);
	put_gate(f, opts->gate);
	fputs("}\n", f);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}
