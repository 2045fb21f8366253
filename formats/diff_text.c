/* The diff as a readable table, in the spirit of bloaty's diff mode:
 * the changes that matter first, then totals by kind old/new/delta. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "render.h"

#define MAX_DETAILS 4 /* detail lines per change before "... N more" */

/* ---- colour ---- */

struct out {
	FILE *f;
	bool color;
	fmt_safe_out *safe; /* colours go around its filter */
};

static void paint(const struct out *o, const char *code)
{
	fmt_paint(o->safe, o->color, code);
}


static const char *change_color(enum snap_change_type t)
{
	switch (t) {
	case SNAP_CHANGE_GROWN:
	case SNAP_CHANGE_NEW: return FMT_RED;
	case SNAP_CHANGE_SHRUNK:
	case SNAP_CHANGE_VANISHED: return FMT_GREEN;
	case SNAP_CHANGE_DUPLICATED: return FMT_MAGENTA;
	case SNAP_CHANGE_REPLACED: return FMT_YELLOW;
	default: return FMT_CYAN;
	}
}

/* A signed size right-aligned in width, red when growing. */
static void put_delta(const struct out *o, int64_t kb, int width)
{
	char buf[32];
	fmt_kb(buf, sizeof(buf), kb, true);
	paint(o, kb > 0 ? FMT_RED : kb < 0 ? FMT_GREEN : "");
	fprintf(o->f, "%*s", width, buf);
	paint(o, kb ? FMT_RESET : "");
}

static void put_size(const struct out *o, int64_t kb, int width)
{
	char buf[32];
	fprintf(o->f, "%*s", width, fmt_kb(buf, sizeof(buf), kb, false));
}

/* ---- header ---- */

static void put_input(const struct out *o, const char *which, const char *label,
		      const snap_snapshot *s)
{
	fprintf(o->f, "  %s  %s", which, label ? label : "");
	if (s->process.known)
		fprintf(o->f, "%s%s (pid %ld)", label ? "  " : "",
			s->process.comm ? s->process.comm : "?", s->process.pid);
	if (s->captured_at)
		fprintf(o->f, "  %s", s->captured_at);
	fprintf(o->f, "  %zu regions\n", s->nregions);
}

int fmt_diff_executables(const snap_diff *d, const char **old, const char **new)
{
	const snap_process *a = &d->old->process, *b = &d->new->process;
	if (!a->known || !b->known)
		return -1;
	if (a->exe && b->exe) {
		*old = a->exe;
		*new = b->exe;
	} else if (a->comm && b->comm) {
		*old = a->comm;
		*new = b->comm;
	} else {
		return -1;
	}
	return strcmp(*old, *new) != 0;
}

static void put_header(const struct out *o, const snap_diff *d,
		       const fmt_diff_opts *opts)
{
	const char *old_exe, *new_exe;
	paint(o, FMT_BOLD);
	fputs("mapsnap diff", o->f);
	paint(o, FMT_RESET);
	fprintf(o->f, ": %s, matched by %s\n",
		d->same_process ? "same process" : "two processes",
		d->by_address ? "address" : "identity (build-id, path, name, kind and size)");
	put_input(o, "old", opts->old_label, d->old);
	put_input(o, "new", opts->new_label, d->new);
	if (fmt_diff_executables(d, &old_exe, &new_exe) == 1) {
		fputs("  ", o->f);
		paint(o, FMT_BOLD);
		fputs("different executables:", o->f);
		paint(o, FMT_RESET);
		fprintf(o->f, " %s (old), %s (new)\n", old_exe, new_exe);
	}
}

/* ---- changes ---- */

static void put_range_list(const struct out *o, const char *what,
			   const snap_range *r, size_t n, int64_t sign)
{
	for (size_t k = 0; k < n && k < MAX_DETAILS; k++) {
		char size[32];
		fmt_kb(size, sizeof(size), sign * (int64_t)((r[k].end - r[k].start) >> 10),
		       true);
		fprintf(o->f, "%30s%s %08" PRIx64 "-%08" PRIx64 " (%s)\n", "", what,
			r[k].start, r[k].end, size);
	}
	if (n > MAX_DETAILS)
		fprintf(o->f, "%30s... %zu more %s ranges\n", "", n - MAX_DETAILS, what);
}

static enum snap_measure second_measure(const snap_diff *d)
{
	return d->opts.metric == SNAP_M_SIZE ? SNAP_M_RSS : SNAP_M_SIZE;
}

static void put_details(const struct out *o, const snap_diff *d, const snap_change *c)
{
	char moved[200];
	if (fmt_change_moved(moved, sizeof(moved), c, d->opts.metric, second_measure(d))[0])
		fprintf(o->f, "%30smoved: %s\n", "", moved);
	put_range_list(o, "mapped", c->mapped, c->nmapped, 1);
	put_range_list(o, "unmapped", c->unmapped, c->nunmapped, -1);
	for (size_t k = 0; k < c->nperms_changes && k < MAX_DETAILS; k++) {
		const snap_perms_change *p = &c->perms_changes[k];
		fprintf(o->f, "%30sperms %s -> %s at %08" PRIx64 "-%08" PRIx64 "\n", "",
			p->old_perms, p->new_perms, p->start, p->end);
	}
	if (c->nperms_changes > MAX_DETAILS)
		fprintf(o->f, "%30s... %zu more permission changes\n", "",
			c->nperms_changes - MAX_DETAILS);
	if (c->old.present && c->new.present &&
	    c->old.nregions != c->new.nregions)
		fprintf(o->f, "%30s%s: %zu region%s -> %zu\n", "",
			c->old.nregions < c->new.nregions ? "split" : "merged",
			c->old.nregions, c->old.nregions == 1 ? "" : "s",
			c->new.nregions);
	char a[2 * SNAP_BUILD_ID_MAX + 1], b[2 * SNAP_BUILD_ID_MAX + 1];
	if (c->type == SNAP_CHANGE_MOVED)
		fprintf(o->f, "%30sfrom %.*s, the same build %s\n", "", (int)c->old_path_len,
			c->old_path, fmt_build_hex(a, sizeof(a), c->new_build));
	else if (c->type == SNAP_CHANGE_REPLACED && c->old_build && c->new_build)
		fprintf(o->f, "%30sbuild %s -> %s\n", "", fmt_build_hex(a, sizeof(a), c->old_build),
			fmt_build_hex(b, sizeof(b), c->new_build));
	else if (c->type == SNAP_CHANGE_REPLACED && c->old.inode == c->new.inode)
		fprintf(o->f, "%30sthe file was deleted or replaced on disk\n", "");
	else if (c->type == SNAP_CHANGE_REPLACED)
		fprintf(o->f, "%30sinode %" PRIu64 " -> %" PRIu64 "\n", "",
			c->old.inode, c->new.inode);
}

static void put_change(const struct out *o, const snap_diff *d,
		       const snap_change *c)
{
	char where[700];
	fputs("  ", o->f);
	paint(o, change_color(c->type));
	fprintf(o->f, "%-10s", snap_change_name(c->type));
	paint(o, FMT_RESET);
	fprintf(o->f, " %-12s ", snap_kind_name(c->kind));
	put_delta(o, c->delta.kb[d->opts.metric], 10);
	put_delta(o, c->delta.kb[second_measure(d)], 11);
	fprintf(o->f, "  %-4s  %s\n", c->image ? "" : c->perms,
		fmt_change_where(where, sizeof(where), c));
	put_details(o, d, c);
}

static size_t shown(const snap_diff *d, const fmt_diff_opts *opts)
{
	return opts->limit && opts->limit < d->nchanges ? opts->limit : d->nchanges;
}

static void put_changes(const struct out *o, const snap_diff *d,
			const fmt_diff_opts *opts)
{
	const char *metric = snap_measure_name(d->opts.metric);
	char min[32];
	fmt_kb(min, sizeof(min), d->opts.min_change_kb, false);
	fputc('\n', o->f);
	paint(o, FMT_BOLD);
	fputs("CHANGES", o->f);
	paint(o, FMT_RESET);
	fprintf(o->f, " by %s: %zu listed", metric, shown(d, opts));
	if (shown(d, opts) < d->nchanges)
		fprintf(o->f, " of %zu", d->nchanges);
	fprintf(o->f, ", %zu below %s hidden\n", d->hidden, min);
	if (!d->nchanges) {
		fprintf(o->f, "  (no changes)\n");
		return;
	}
	char h1[32], h2[32];
	snprintf(h1, sizeof(h1), "%s", metric);
	snprintf(h2, sizeof(h2), "%s", snap_measure_name(second_measure(d)));
	fputs("  ", o->f);
	paint(o, FMT_DIM);
	fprintf(o->f, "%-10s %-12s %10s %11s  %-4s  %s", "CHANGE", "KIND", h1, h2,
		"PERM", "WHERE");
	paint(o, FMT_RESET);
	fputc('\n', o->f);
	for (size_t k = 0; k < shown(d, opts); k++)
		put_change(o, d, &d->changes[k]);
}

/* ---- duplicates, thread stacks, totals, gate ---- */

static void put_dups(const struct out *o, const snap_diff *d)
{
	if (!d->ndups)
		return;
	fputc('\n', o->f);
	paint(o, FMT_BOLD);
	fputs("DUPLICATED LIBRARIES", o->f);
	paint(o, FMT_RESET);
	fputc('\n', o->f);
	for (size_t k = 0; k < d->ndups; k++) {
		const snap_duplicate *dup = d->dups[k].dup;
		fputs("  ", o->f);
		paint(o, FMT_MAGENTA);
		fputs(dup->name, o->f);
		paint(o, FMT_RESET);
		fprintf(o->f, "%s: %s\n", d->dups[k].new_in_new ? " (new)" : "",
			fmt_dup_phrase(dup->kind));
		for (size_t m = 0; m < dup->nimages; m++) {
			const snap_image *img = &d->new_id->images[dup->images[m]];
			char rss[32], build[2 * SNAP_BUILD_ID_MAX + 16] = "";
			if (img->file && img->file->build_id.len) {
				memcpy(build, "  build ", 8);
				snap_build_id_hex(build + 8, sizeof(build) - 8, &img->file->build_id);
			}
			fprintf(o->f, "    %.*s%s  inode %" PRIu64 "  Rss %s  at %08" PRIx64 "%s\n",
				(int)img->path_len, img->path,
				img->deleted ? " (deleted)" : "", img->inode,
				fmt_kb(rss, sizeof(rss), (int64_t)img->rss_kb, false),
				d->new->regions[img->first].start, build);
		}
	}
}

static void put_kind_row(const struct out *o, const char *name,
			 const snap_sums *old, const snap_sums *new,
			 enum snap_measure m1, enum snap_measure m2)
{
	fprintf(o->f, "  %-12s", name);
	put_size(o, old->kb[m1], 10);
	put_size(o, new->kb[m1], 10);
	put_delta(o, ck_sat_sub(new->kb[m1], old->kb[m1]), 10);
	fputs("  ", o->f);
	put_size(o, old->kb[m2], 10);
	put_size(o, new->kb[m2], 10);
	put_delta(o, ck_sat_sub(new->kb[m2], old->kb[m2]), 10);
	fprintf(o->f, "  %6" PRId64 " -> %" PRId64 "\n", old->regions, new->regions);
}

static void put_totals(const struct out *o, const snap_diff *d)
{
	enum snap_measure m1 = d->opts.metric, m2 = second_measure(d);
	fputc('\n', o->f);
	paint(o, FMT_BOLD);
	fputs("TOTALS", o->f);
	paint(o, FMT_RESET);
	fputs(" by kind\n  ", o->f);
	paint(o, FMT_DIM);
	fprintf(o->f, "%-12s%10s%10s%10s  %10s%10s%10s  %s", "KIND",
		snap_measure_name(m1), "new", "delta", snap_measure_name(m2), "new",
		"delta", "regions");
	paint(o, FMT_RESET);
	fputc('\n', o->f);
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		if (d->kind_old[k].regions || d->kind_new[k].regions)
			put_kind_row(o, snap_kind_name((enum snap_kind)k), &d->kind_old[k],
				     &d->kind_new[k], m1, m2);
	put_kind_row(o, "TOTAL", &d->total_old, &d->total_new, m1, m2);
	fprintf(o->f, "  thread stacks %zu -> %zu, duplicated libraries %zu -> %zu, "
		"new libraries %zu\n", d->old_id->thread_stacks, d->new_id->thread_stacks,
		d->old_id->ndups, d->new_id->ndups, d->new_libs);
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *options)
{
	const snap_diff *diff = what;
	const fmt_diff_opts *opts = options;
	struct out o = { f, opts->color, safe };
	put_header(&o, diff, opts);
	put_changes(&o, diff, opts);
	put_dups(&o, diff);
	put_totals(&o, diff);
	size_t failed;
	const snap_violation *v = snap_gate_violations(opts->gate, &failed);
	fmt_text_verdict(f, safe, opts->color, snap_gate_size(opts->gate), v, failed);
}

int fmt_diff_text(FILE *out, const snap_diff *diff, const fmt_diff_opts *opts)
{
	static const fmt_diff_opts none;
	return fmt_safe_report(out, write_text, diff, opts ? opts : &none);
}
