/* The HTML report: one self-contained page (formats/html/report.html with
 * report.css and report.js inlined) and the data it draws, embedded as a
 * "mapsnap.report/1" JSON document (formats/README.md describes it).
 *
 * Everything from a snapshot is attacker-controlled text (a path can be
 * "</script><script>..."). It reaches the page only inside that JSON, which
 * sits in a <script type="application/json"> element: the JSON is built in
 * memory, then copied with <, >, & and U+2028/U+2029 escaped as \uXXXX
 * (legal anywhere a JSON string may hold them, and they cannot occur
 * outside strings), so nothing in it can end the element, open a comment
 * or break a line in a script. The page's script builds the DOM with
 * textContent only. */
#include <inttypes.h>
#include <math.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "render.h"
#include "html_assets.h"

#define DATA_SCHEMA "mapsnap.report/1"
/* Trend regions listed besides the suspects, and those whose values per
 * snapshot are embedded for charts and tooltips. */
#define TREND_LISTED 500
#define TREND_VALUES 100

/* ---- JSON pieces ---- */

static void put_u64(FILE *f, uint64_t v)
{
	char buf[32];
	fwrite(buf, 1, snap_format_dec(buf, v), f);
}

static void put_i64(FILE *f, int64_t v)
{
	if (v < 0) {
		fputc('-', f);
		put_u64(f, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(f, (uint64_t)v);
	}
}

/* Addresses exceed a JavaScript number's 53 bits: hex strings. */
static void put_hex(FILE *f, uint64_t v)
{
	char buf[34];
	buf[0] = '"';
	size_t n = 1 + snap_format_hex(buf + 1, v, 1);
	buf[n++] = '"';
	fwrite(buf, 1, n, f);
}

static void put_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
	else
		fputs("null", f);
}

static void put_bool(FILE *f, bool v)
{
	fputs(v ? "true" : "false", f);
}

/* The kinds (a region's kind is an index here), with their --kind
 * group and colour, and the evidence sentences (a region's evidence is an
 * index there): the page has no list of its own. */
static void put_kinds(FILE *f)
{
	fputs(",\n\"kinds\":[", f);
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		enum snap_kind kind = (enum snap_kind)k;
		fprintf(f, "%s{\"name\":\"%s\",\"group\":\"%s\",\"color\":\"%s\"}",
			k ? "," : "", snap_kind_name(kind), fmt_kind_group(kind),
			fmt_kind_color(kind));
	}
	fputs("],\n\"evidence\":[", f);
	for (int e = 0; e < SNAP_EV_COUNT; e++) {
		fprintf(f, "%s{\"name\":\"%s\",\"about\":", e ? "," : "",
			snap_evidence_name((enum snap_evidence)e));
		fmt_json_put_cstr(f, snap_evidence_about((enum snap_evidence)e));
		fputc('}', f);
	}
	fputc(']', f);
}

/* ---- the process and capture facts of one snapshot ---- */

static void put_process(FILE *f, const snap_process *p)
{
	fputs("{\"pid\":", f);
	put_i64(f, p->pid);
	fputs(",\"start_time\":", f);
	put_i64(f, p->start_time);
	fputs(",\"threads\":", f);
	put_i64(f, p->threads);
	fputs(",\"comm\":", f);
	fmt_json_put_cstr(f, p->comm);
	fputs(",\"exe\":", f);
	fmt_json_put_cstr(f, p->exe);
	fputs(",\"argv\":[", f);
	for (size_t i = 0; i < p->argc; i++) {
		if (i)
			fputc(',', f);
		fmt_json_put_cstr(f, p->argv[i]);
	}
	fputs("]}", f);
}

static void put_snapshot_facts(FILE *f, const snap_snapshot *snap)
{
	fputs("{\"process\":", f);
	if (snap->process.known)
		put_process(f, &snap->process);
	else
		fputs("null", f);
	fputs(",\"tool\":", f);
	fmt_json_put_cstr(f, snap->tool);
	fputs(",\"captured_at\":", f);
	fmt_json_put_cstr(f, snap->captured_at);
	fputs(",\"source\":", f);
	fmt_json_put_cstr(f, snap->source);
	fputs(",\"hostname\":", f);
	fmt_json_put_cstr(f, snap->host.hostname);
	fputs(",\"kernel\":", f);
	fmt_json_put_cstr(f, snap->host.kernel);
	fputs(",\"machine\":", f);
	fmt_json_put_cstr(f, snap->host.machine);
	fputs(",\"redacted\":", f);
	put_bool(f, snap->redacted);
	fprintf(f, ",\"regions\":%zu,\"rollup\":{", snap->nregions);
	for (size_t i = 0; i < snap->nrollup; i++) {
		if (i)
			fputc(',', f);
		fmt_json_put_cstr(f, snap->rollup[i].name);
		fputc(':', f);
		put_u64(f, snap->rollup[i].value);
	}
	fputs("}}", f);
}

/* ---- the regions of the snapshot shown ---- */

/* Distinct layouts, found by content: regions usually share a handful. */
struct layouts {
	const snap_region **first; /* a region with each distinct layout */
	size_t count;
	int32_t *slots;            /* open addressing: index into first, -1 empty */
	size_t mask;
	uint32_t *of_region;       /* layout index per region */
};

static bool same_layout(const snap_region *a, const snap_region *b)
{
	return a->nlayout == b->nlayout &&
	       (a->layout == b->layout || a->nlayout == 0 ||
		memcmp(a->layout, b->layout, a->nlayout * sizeof(*a->layout)) == 0);
}

static uint32_t layout_index(struct layouts *L, const snap_region *r)
{
	uint64_t h = snap_hash64(r->layout, r->nlayout * sizeof(*r->layout));
	size_t slot = (size_t)h & L->mask;
	while (L->slots[slot] >= 0) {
		if (same_layout(L->first[L->slots[slot]], r))
			return (uint32_t)L->slots[slot];
		slot = (slot + 1) & L->mask;
	}
	L->slots[slot] = (int32_t)L->count;
	L->first[L->count] = r;
	return (uint32_t)L->count++;
}

static int layouts_build(struct layouts *L, const snap_snapshot *snap)
{
	size_t cap = 16;
	while (cap < snap->nregions * 2)
		cap *= 2;
	L->first = malloc((snap->nregions + 1) * sizeof(*L->first));
	L->slots = malloc(cap * sizeof(*L->slots));
	L->of_region = malloc((snap->nregions + 1) * sizeof(*L->of_region));
	if (!L->first || !L->slots || !L->of_region)
		return SNAP_ENOMEM;
	memset(L->slots, 0xff, cap * sizeof(*L->slots));
	L->mask = cap - 1;
	L->count = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		L->of_region[i] = layout_index(L, &snap->regions[i]);
	return SNAP_OK;
}

static void layouts_free(struct layouts *L)
{
	free(L->first);
	free(L->slots);
	free(L->of_region);
}

static void put_fields(FILE *f, const snap_snapshot *snap, const struct layouts *L)
{
	static const char *const units[] = { "kB", "", "text" };
	fputs(",\n\"fields\":[", f);
	for (size_t i = 0; i < snap->nfields; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		fmt_json_put_cstr(f, snap->fields[i].name);
		fprintf(f, ",\"unit\":\"%s\"}", units[snap->fields[i].unit]);
	}
	fputs("],\n\"layouts\":[", f);
	for (size_t k = 0; k < L->count; k++) {
		const snap_region *r = L->first[k];
		fputs(k ? ",[" : "[", f);
		for (size_t j = 0; j < r->nlayout; j++) {
			if (j)
				fputc(',', f);
			put_u64(f, r->layout[j]);
		}
		fputc(']', f);
	}
	fputc(']', f);
}

/* Every printed line's value in layout order: entries hold only the
 * non-zero counters and the text lines, in that same order. */
static void put_values(FILE *f, const snap_region *r)
{
	size_t e = 0;
	fputc('[', f);
	for (size_t j = 0; j < r->nlayout; j++) {
		if (j)
			fputc(',', f);
		if (e < r->nentries && r->entries[e].field == r->layout[j]) {
			const snap_entry *x = &r->entries[e++];
			if (x->is_text)
				fmt_json_put_cstr(f, x->text);
			else
				put_u64(f, x->value);
		} else {
			fputc('0', f);
		}
	}
	fputc(']', f);
}

/* The counters the page sorts, filters and draws by, in kB. */
enum { M_RSS, M_PSS, M_DIRTY, M_SWAP, M_ANON, M_FIELDS };
static const char *const measure_fields[M_FIELDS] = {
	"Rss", "Pss", "Private_Dirty", "Swap", "Anonymous",
};

struct region_ctx {
	const snap_identity *id;
	const struct layouts *layouts;
	int fields[M_FIELDS];
	const int32_t *mark; /* per region: a change or a suspect, -1 none; or NULL */
};

/* [start, end, perms, kind, image, path, size, rss, pss, dirty, swap,
 *  anon, layout, values, vmflags, offset, "maj:min", inode, mark,
 *  evidence, attached] */
static void put_region(FILE *f, const struct region_ctx *c, size_t i)
{
	const snap_region *r = &c->id->snap->regions[i];
	fputc('[', f);
	put_hex(f, r->start);
	fputc(',', f);
	put_hex(f, r->end);
	fprintf(f, ",\"%s\",%d,%d,", r->perms, (int)c->id->kinds[i],
		(int)c->id->image_of[i]);
	fmt_json_put_string(f, r->path, r->path_len);
	fputc(',', f);
	put_u64(f, (r->end - r->start) / 1024);
	for (int m = 0; m < M_FIELDS; m++) {
		fputc(',', f);
		put_u64(f, c->fields[m] < 0 ? 0 : snap_region_value(r, c->fields[m]));
	}
	fputc(',', f);
	put_u64(f, c->layouts->of_region[i]);
	fputc(',', f);
	put_values(f, r);
	fputc(',', f);
	fmt_json_put_cstr(f, r->vmflags);
	fputc(',', f);
	put_hex(f, r->offset);
	/* Inodes can exceed a JavaScript number's 53 bits too. */
	fprintf(f, ",\"%02" PRIx32 ":%02" PRIx32 "\",\"", r->dev_major, r->dev_minor);
	put_u64(f, r->inode);
	fputc('"', f);
	fprintf(f, ",%d,%d,%d]", c->mark ? (int)c->mark[i] : -1, (int)c->id->evidence[i],
		(int)c->id->attached[i]);
}

static void put_images(FILE *f, const snap_identity *id)
{
	fputs(",\n\"images\":[", f);
	for (size_t k = 0; k < id->nimages; k++) {
		const snap_image *im = &id->images[k];
		fputs(k ? ",\n{\"path\":" : "\n{\"path\":", f);
		fmt_json_put_string(f, im->path, im->path_len);
		fprintf(f, ",\"kind\":%d,\"deleted\":%s,\"ordinal\":%" PRIu32 ",\"first\":%zu,"
			"\"count\":%zu}", (int)im->kind, im->deleted ? "true" : "false",
			im->ordinal, im->first, im->count);
	}
	fputc(']', f);
}

static int put_regions(FILE *f, const snap_identity *id, const int32_t *mark)
{
	const snap_snapshot *snap = id->snap;
	struct layouts L = { 0 };
	int rc = layouts_build(&L, snap);
	if (rc < 0)
		goto out;
	struct region_ctx c = { id, &L, { 0 }, mark };
	for (int m = 0; m < M_FIELDS; m++)
		c.fields[m] = snap_field_find(snap, measure_fields[m]);
	put_fields(f, snap, &L);
	put_images(f, id);
	fputs(",\n\"regions\":[", f);
	for (size_t i = 0; i < snap->nregions; i++) {
		fputs(i ? ",\n" : "\n", f);
		put_region(f, &c, i);
	}
	fputc(']', f);
out:
	layouts_free(&L);
	return rc;
}

/* ---- findings ---- */

static void put_finding(FILE *f, const snap_finding *x)
{
	fmt_json_finding_head(f, x);
	fputs(",\"regions\":[", f);
	for (size_t k = 0; k < x->nregions; k++) {
		if (k)
			fputc(',', f);
		put_u64(f, x->regions[k]);
	}
	fputs("]}", f);
}

static void put_check(FILE *f, const snap_check *c)
{
	fputs(",\n\"check\":", f);
	if (!c) {
		fputs("null", f);
		return;
	}
	fputs("{\"counts\":", f);
	fmt_json_severity_counts(f, c);
	fputs(",\"findings\":[", f);
	for (size_t k = 0; k < c->nfindings; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_finding(f, &c->findings[k]);
	}
	fputs("],\"skipped\":", f);
	fmt_json_put_cstrs(f, c->skipped, c->nskipped);
	fputc('}', f);
}

static void put_filter(FILE *f, const fmt_report_filter *flt)
{
	fputs(",\n\"filter\":", f);
	if (!flt) {
		fputs("null", f);
		return;
	}
	fputs("{\"kinds\":", f);
	if (flt->has_kinds) {
		const char *sep = "[";
		for (int k = 0; k < SNAP_KIND_COUNT; k++)
			if (flt->kinds[k]) {
				fprintf(f, "%s\"%s\"", sep, snap_kind_name((enum snap_kind)k));
				sep = ",";
			}
		fputs(*sep == '[' ? "[]" : "]", f);
	} else {
		fputs("null", f);
	}
	fputs(",\"min\":", f);
	if (flt->has_min)
		put_i64(f, flt->min_size);
	else
		fputs("null", f);
	fputs(",\"max\":", f);
	if (flt->has_max)
		put_i64(f, flt->max_size);
	else
		fputs("null", f);
	fputs(",\"path\":", f);
	fmt_json_put_cstr(f, flt->path);
	fputc('}', f);
}

/* The members every view starts with. */
static void put_head(FILE *f, const char *view, const fmt_report_opts *o)
{
	fprintf(f, "{\"schema\":\"" DATA_SCHEMA "\",\"view\":\"%s\",\"tool\":\"mapsnap "
		SNAP_VERSION_STRING "\",\"label\":", view);
	fmt_json_put_cstr(f, o->label);
	put_kinds(f);
	put_filter(f, o->filter);
}

/* ---- diff ---- */

static void put_side(FILE *f, const snap_side *s)
{
	fputs("{\"present\":", f);
	put_bool(f, s->present);
	fputs(",\"start\":", f);
	put_hex(f, s->start);
	fputs(",\"end\":", f);
	put_hex(f, s->end);
	fprintf(f, ",\"nregions\":%zu,\"sums\":", s->nregions);
	fmt_json_put_sums(f, &s->sums);
	fputc('}', f);
}

static void put_change(FILE *f, const snap_change *c)
{
	char where[SNAP_PATH_MAX + 256];
	fprintf(f, "{\"type\":\"%s\",\"kind\":%d,\"path\":", snap_change_name(c->type),
		(int)c->kind);
	fmt_json_put_string(f, c->path, c->path_len);
	fputs(",\"where\":", f);
	fmt_json_put_cstr(f, fmt_change_where(where, sizeof(where), c));
	fprintf(f, ",\"perms\":\"%s\",\"image\":%s,\"evidence\":\"%s\",\"mapped\":%zu,"
		"\"unmapped\":%zu,\"perms_changes\":%zu,\"old\":", c->perms,
		c->image ? "true" : "false", snap_evidence_name(c->evidence), c->nmapped,
		c->nunmapped, c->nperms_changes);
	put_side(f, &c->old);
	fputs(",\"new\":", f);
	put_side(f, &c->new);
	fputs(",\"delta\":", f);
	fmt_json_put_sums(f, &c->delta);
	fputc('}', f);
}

static void put_dups(FILE *f, const snap_diff *d)
{
	fputs(",\"dups\":[", f);
	for (size_t k = 0; k < d->ndups; k++) {
		const snap_duplicate *dup = d->dups[k].dup;
		fputs(k ? ",\n{\"name\":" : "\n{\"name\":", f);
		fmt_json_put_cstr(f, dup->name);
		fprintf(f, ",\"new_in_new\":%s,\"same_file\":%s,\"images\":[",
			d->dups[k].new_in_new ? "true" : "false",
			dup->same_file ? "true" : "false");
		for (size_t j = 0; j < dup->nimages; j++) {
			if (j)
				fputc(',', f);
			put_u64(f, dup->images[j]);
		}
		fputs("]}", f);
	}
	fputc(']', f);
}

static void put_diff_totals(FILE *f, const snap_diff *d)
{
	fputs(",\"total_old\":", f);
	fmt_json_put_sums(f, &d->total_old);
	fputs(",\"total_new\":", f);
	fmt_json_put_sums(f, &d->total_new);
	fputs(",\n\"kind_old\":[", f);
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (k)
			fputc(',', f);
		fmt_json_put_sums(f, &d->kind_old[k]);
	}
	fputs("],\n\"kind_new\":[", f);
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		if (k)
			fputc(',', f);
		fmt_json_put_sums(f, &d->kind_new[k]);
	}
	fputc(']', f);
}

static void put_diff(FILE *f, const snap_diff *d)
{
	fputs(",\n\"diff\":{\"same_process\":", f);
	put_bool(f, d->same_process);
	fputs(",\"by_address\":", f);
	put_bool(f, d->by_address);
	fprintf(f, ",\"metric\":\"%s\",\"min_change_kb\":", snap_measure_name(d->opts.metric));
	put_i64(f, d->opts.min_change_kb);
	fprintf(f, ",\"hidden\":%zu,\"new_libs\":%zu", d->hidden, d->new_libs);
	put_diff_totals(f, d);
	put_dups(f, d);
	fputs(",\n\"changes\":[", f);
	for (size_t k = 0; k < d->nchanges; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_change(f, &d->changes[k]);
	}
	fputs("]}", f);
}

/* The change each region of the new snapshot belongs to (the largest,
 * when several list it), or -1. */
static int32_t *change_of_regions(const snap_diff *d)
{
	size_t n = d->new->nregions;
	int32_t *mark = malloc((n + 1) * sizeof(*mark));
	if (!mark)
		return NULL;
	memset(mark, 0xff, (n + 1) * sizeof(*mark));
	for (size_t k = d->nchanges; k-- > 0;) {
		const snap_side *s = &d->changes[k].new;
		for (size_t j = 0; j < s->nregions; j++)
			if (s->regions[j] < n)
				mark[s->regions[j]] = (int32_t)k;
	}
	return mark;
}

/* ---- trend ---- */

static void put_growth(FILE *f, const snap_growth *g)
{
	fputs("{\"slope\":", f);
	put_number(f, g->slope);
	fputs(",\"late_slope\":", f);
	put_number(f, g->late_slope);
	fputs(",\"first\":", f);
	put_i64(f, g->first);
	fputs(",\"last\":", f);
	put_i64(f, g->last);
	fputs(",\"min\":", f);
	put_i64(f, g->min);
	fputs(",\"max\":", f);
	put_i64(f, g->max);
	fprintf(f, ",\"points\":%zu,\"grew\":%zu,\"shrank\":%zu}", g->points, g->grew,
		g->shrank);
}

static void put_series(FILE *f, const snap_trend_series *s, size_t n)
{
	fprintf(f, "{\"verdict\":\"%s\",\"growth\":", snap_trend_verdict_name(s->verdict));
	put_growth(f, &s->growth);
	fputs(",\"values\":", f);
	fmt_json_put_kb_values(f, s->values, n);
	fputc('}', f);
}

static void put_trend_region(FILE *f, const snap_trend *t, const snap_trend_region *r,
			     bool values)
{
	char where[SNAP_PATH_MAX + 256];
	fprintf(f, "{\"kind\":%d,\"born\":%s,\"members\":%zu,\"path\":", (int)r->kind,
		r->born ? "true" : "false", r->members);
	fmt_json_put_string(f, r->path, r->path_len);
	fputs(",\"where\":", f);
	fmt_json_put_cstr(f, fmt_trend_where(where, sizeof(where), r));
	fprintf(f, ",\"perms\":\"%s\",\"start\":", r->perms);
	put_hex(f, r->start);
	fputs(",\"end\":", f);
	put_hex(f, r->end);
	fprintf(f, ",\"nregions\":%zu,\"first\":%zu,\"last\":%zu,\"verdict\":\"%s\","
		"\"growth\":{", r->nregions, r->first, r->last,
		snap_trend_verdict_name(r->verdict));
	for (size_t m = 0; m < SNAP_TREND_MEASURES; m++) {
		fprintf(f, "%s\"%s\":", m ? "," : "", snap_measure_name(snap_trend_measure(m)));
		put_growth(f, &r->growth[m]);
	}
	fputs("},\"values\":", f);
	int mi = snap_trend_measure_index(t->opts.measure);
	if (values && mi >= 0)
		fmt_json_put_kb_values(f, r->values[mi], t->nsnaps);
	else
		fputs("null", f);
	fputc('}', f);
}

static void put_trend_series(FILE *f, const snap_trend *t)
{
	fputs(",\"total\":{", f);
	for (size_t m = 0; m < SNAP_TREND_MEASURES; m++) {
		fprintf(f, "%s\"%s\":", m ? "," : "", snap_measure_name(snap_trend_measure(m)));
		put_series(f, &t->total[m], t->nsnaps);
	}
	fputs("},\n\"region_count\":", f);
	put_series(f, &t->region_count, t->nsnaps);
	fputs(",\n\"thread_stacks\":", f);
	put_series(f, &t->thread_stacks, t->nsnaps);
	int rss = snap_trend_measure_index(SNAP_M_RSS);
	fputs(",\n\"kind_rss\":{", f);
	const char *sep = "";
	for (int k = 0; k < SNAP_KIND_COUNT && rss >= 0; k++) {
		if (!t->kind_seen[k])
			continue;
		fprintf(f, "%s\"%s\":", sep, snap_kind_name((enum snap_kind)k));
		put_series(f, &t->kind[k][rss], t->nsnaps);
		sep = ",\n";
	}
	fputc('}', f);
}

static void put_trend_snapshots(FILE *f, const snap_trend *t)
{
	fputs(",\n\"seconds\":[", f);
	for (size_t s = 0; s < t->nsnaps; s++) {
		if (s)
			fputc(',', f);
		put_number(f, t->seconds[s]);
	}
	fputs("],\n\"captured\":[", f);
	for (size_t s = 0; s < t->nsnaps; s++) {
		if (s)
			fputc(',', f);
		fmt_json_put_cstr(f, t->snaps[s]->captured_at);
	}
	fputc(']', f);
}

static void put_trend(FILE *f, const snap_trend *t)
{
	size_t changed = t->nregions - t->flat;
	size_t listed = changed < t->suspects + TREND_LISTED ? changed
							      : t->suspects + TREND_LISTED;
	fprintf(f, ",\n\"trend\":{\"measure\":\"%s\",\"min_slope_kb\":",
		snap_measure_name(t->opts.measure));
	put_number(f, t->opts.min_slope_kb);
	fprintf(f, ",\"min_points\":%zu,\"snapshots\":%zu,\"address_steps\":%zu,"
		"\"suspects\":%zu,\"flat\":%zu,\"nregions\":%zu,\"changed\":%zu",
		t->opts.min_points, t->nsnaps, t->address_steps, t->suspects, t->flat,
		t->nregions, changed);
	put_trend_snapshots(f, t);
	put_trend_series(f, t);
	fputs(",\n\"regions\":[", f);
	for (size_t k = 0; k < listed; k++) {
		fputs(k ? ",\n" : "\n", f);
		put_trend_region(f, t, &t->regions[k], k < t->suspects + TREND_VALUES);
	}
	fputs("]}", f);
}

/* The first region at or above addr (regions are in address order). */
static size_t lower_bound(const snap_snapshot *snap, uint64_t addr)
{
	size_t lo = 0, hi = snap->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (snap->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void mark_span(const snap_snapshot *last, int32_t *mark, const snap_range *span,
		      int32_t suspect)
{
	for (size_t i = lower_bound(last, span->start);
	     i < last->nregions && last->regions[i].start < span->end; i++)
		if (mark[i] < 0)
			mark[i] = suspect;
}

/* The suspect each region of the last snapshot belongs to, or -1. */
static int32_t *suspect_of_regions(const snap_trend *t, const snap_snapshot *last)
{
	size_t n = last->nregions;
	int32_t *mark = malloc((n + 1) * sizeof(*mark));
	if (!mark)
		return NULL;
	memset(mark, 0xff, (n + 1) * sizeof(*mark));
	for (size_t k = 0; k < t->suspects; k++) {
		const snap_trend_region *r = &t->regions[k];
		if (r->last + 1 != t->nsnaps)
			continue;
		/* A born group's members, not the regions between them. */
		snap_range whole = { r->start, r->end };
		const snap_range *spans = r->born ? r->spans : &whole;
		for (size_t m = 0; m < (r->born ? r->nspans : 1); m++)
			mark_span(last, mark, &spans[m], (int32_t)k);
	}
	return mark;
}

/* ---- the page ---- */

/* Copies JSON text (NUL-terminated after n bytes), escaping what could
 * end or confuse the <script> element that holds it. */
static void put_script_safe(FILE *f, const char *s, size_t n)
{
	size_t plain = 0;
	for (size_t i = strcspn(s, "<>&\xe2"); i < n; i += 1 + strcspn(s + i + 1, "<>&\xe2")) {
		const char *esc = NULL;
		size_t skip = 1;
		unsigned char c = (unsigned char)s[i];
		if (c == '<')
			esc = "\\u003c";
		else if (c == '>')
			esc = "\\u003e";
		else if (c == '&')
			esc = "\\u0026";
		else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			 ((unsigned char)s[i + 2] & 0xfe) == 0xa8) {
			esc = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			skip = 3;
		}
		if (!esc)
			continue;
		fwrite(s + plain, 1, i - plain, f);
		fputs(esc, f);
		i += skip - 1;
		plain = i + 1;
	}
	fwrite(s + plain, 1, n - plain, f);
}

struct asset {
	const char *marker;
	const char *start, *end;
};

/* An end tag inside the inlined CSS or JS would end its element early
 * (a comment is no protection); each asset is followed by a NUL. */
static bool assets_inline_safely(void)
{
	return !strcasestr(fmt_html_report_css, "</style") &&
	       !strcasestr(fmt_html_report_js, "</script") &&
	       !strstr(fmt_html_report_js, "<!--");
}

/* Writes the template with each marker replaced: the CSS, the JS, or
 * (start NULL) the data. Each marker must occur exactly once. */
static int write_page(FILE *f, const char *data, size_t len)
{
	if (!assets_inline_safely())
		return SNAP_EFORMAT;
	const struct asset assets[] = {
		{ "/*@mapsnap:report.css@*/", fmt_html_report_css, fmt_html_report_css_end },
		{ "/*@mapsnap:data@*/", NULL, NULL },
		{ "/*@mapsnap:report.js@*/", fmt_html_report_js, fmt_html_report_js_end },
	};
	const char *page = fmt_html_report_html;
	const char *page_end = fmt_html_report_html_end;
	for (size_t k = 0; k < sizeof(assets) / sizeof(*assets); k++) {
		const char *at = memmem(page, (size_t)(page_end - page), assets[k].marker,
					strlen(assets[k].marker));
		if (!at)
			return SNAP_EFORMAT;
		fwrite(page, 1, (size_t)(at - page), f);
		if (assets[k].start)
			fwrite(assets[k].start, 1, (size_t)(assets[k].end - assets[k].start), f);
		else
			put_script_safe(f, data, len);
		page = at + strlen(assets[k].marker);
	}
	fwrite(page, 1, (size_t)(page_end - page), f);
	return ferror(f) ? SNAP_EIO : SNAP_OK;
}

/* The data document is built in memory first: it is escaped on its way
 * into the page. */
struct data_buf {
	FILE *f;
	char *text;
	size_t len;
};

static int data_open(struct data_buf *b)
{
	b->text = NULL;
	b->len = 0;
	b->f = open_memstream(&b->text, &b->len);
	if (!b->f)
		return SNAP_ENOMEM;
	/* Only this thread writes it: skip stdio's per-call locking. */
	__fsetlocking(b->f, FSETLOCKING_BYCALLER);
	return SNAP_OK;
}

/* Closes the buffer and writes the page around it. */
static int data_finish(struct data_buf *b, FILE *out, int rc)
{
	fputs("}\n", b->f);
	bool failed = ferror(b->f) != 0;
	if (fclose(b->f) != 0 || failed)
		rc = rc < 0 ? rc : SNAP_ENOMEM;
	if (rc == SNAP_OK)
		rc = write_page(out, b->text, b->len);
	free(b->text);
	return rc;
}

static const fmt_report_opts *opts_or_none(const fmt_report_opts *o)
{
	static const fmt_report_opts none = { 0 };
	return o ? o : &none;
}

/* The check must describe the snapshot whose regions the page shows. */
static bool check_fits(const fmt_report_opts *o, const snap_snapshot *shown)
{
	return !o->check || o->check->snap == shown;
}

int fmt_report_map(FILE *f, const snap_identity *id, const fmt_report_opts *opts)
{
	const fmt_report_opts *o = opts_or_none(opts);
	if (!check_fits(o, id->snap))
		return SNAP_EINVAL;
	struct data_buf b;
	int rc = data_open(&b);
	if (rc < 0)
		return rc;
	put_head(b.f, "map", o);
	fputs(",\n\"snapshots\":[", b.f);
	put_snapshot_facts(b.f, id->snap);
	fputc(']', b.f);
	put_check(b.f, o->check);
	rc = put_regions(b.f, id, NULL);
	return data_finish(&b, f, rc);
}

int fmt_report_diff(FILE *f, const snap_diff *diff, const fmt_report_opts *opts)
{
	const fmt_report_opts *o = opts_or_none(opts);
	if (!check_fits(o, diff->new))
		return SNAP_EINVAL;
	int32_t *mark = change_of_regions(diff);
	if (!mark)
		return SNAP_ENOMEM;
	struct data_buf b;
	int rc = data_open(&b);
	if (rc < 0) {
		free(mark);
		return rc;
	}
	put_head(b.f, "diff", o);
	fputs(",\n\"snapshots\":[", b.f);
	put_snapshot_facts(b.f, diff->old);
	fputs(",\n", b.f);
	put_snapshot_facts(b.f, diff->new);
	fputc(']', b.f);
	put_check(b.f, o->check);
	put_diff(b.f, diff);
	rc = put_regions(b.f, diff->new_id, mark);
	free(mark);
	return data_finish(&b, f, rc);
}

int fmt_report_trend(FILE *f, const snap_trend *trend, const snap_identity *last,
		     const fmt_report_opts *opts)
{
	const fmt_report_opts *o = opts_or_none(opts);
	if (trend->nsnaps == 0 || last->snap != trend->snaps[trend->nsnaps - 1] ||
	    !check_fits(o, last->snap))
		return SNAP_EINVAL;
	int32_t *mark = suspect_of_regions(trend, last->snap);
	if (!mark)
		return SNAP_ENOMEM;
	struct data_buf b;
	int rc = data_open(&b);
	if (rc < 0) {
		free(mark);
		return rc;
	}
	put_head(b.f, "trend", o);
	fputs(",\n\"snapshots\":[", b.f);
	put_snapshot_facts(b.f, trend->snaps[0]);
	fputs(",\n", b.f);
	put_snapshot_facts(b.f, last->snap);
	fputc(']', b.f);
	put_check(b.f, o->check);
	put_trend(b.f, trend);
	rc = put_regions(b.f, last, mark);
	free(mark);
	return data_finish(&b, f, rc);
}
