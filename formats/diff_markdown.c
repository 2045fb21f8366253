/* The diff as GitHub-flavoured markdown, for PR comments and CI job
 * summaries ($GITHUB_STEP_SUMMARY): a verdict, a totals table, the top
 * changes, duplicated libraries. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static void put_title(FILE *f, const snap_diff *d, const fmt_diff_opts *o)
{
	const snap_process *p = &d->new->process;
	fputs("### mapsnap diff", f);
	if (p->known) {
		fputs(": ", f);
		fmt_markdown_cstr(f, p->comm ? p->comm : "?");
		fprintf(f, " (pid %ld)", p->pid);
	}
	fprintf(f, ", %s\n\n", d->same_process ? "same process" : "two processes");
	const char *old_exe, *new_exe;
	if (fmt_diff_executables(d, &old_exe, &new_exe) == 1) {
		fputs("**Different executables:** ", f);
		fmt_markdown_cstr(f, old_exe);
		fputs(" (old), ", f);
		fmt_markdown_cstr(f, new_exe);
		fputs(" (new)\n\n", f);
	}
	if (o->old_label && o->new_label) {
		fmt_markdown_cstr(f, o->old_label);
		fputs(" → ", f);
		fmt_markdown_cstr(f, o->new_label);
		fputs("\n\n", f);
	}
}

static void put_totals(FILE *f, const snap_diff *d)
{
	static const enum snap_measure rows[] = {
		SNAP_M_RSS, SNAP_M_PSS, SNAP_M_SIZE, SNAP_M_PRIVATE_DIRTY,
		SNAP_M_ANONYMOUS, SNAP_M_SWAP,
	};
	char a[32], b[32], c[32];
	fputs("| total | old | new | delta |\n|---|---:|---:|---:|\n", f);
	for (size_t k = 0; k < sizeof(rows) / sizeof(*rows); k++) {
		int64_t o = d->total_old.kb[rows[k]], n = d->total_new.kb[rows[k]];
		fprintf(f, "| %s | %s | %s | %s%s%s |\n", snap_measure_name(rows[k]),
			fmt_kb(a, sizeof(a), o, false), fmt_kb(b, sizeof(b), n, false),
			n != o ? "**" : "", fmt_kb(c, sizeof(c), ck_sat_sub(n, o), true),
			n != o ? "**" : "");
	}
	fprintf(f, "| regions | %" PRId64 " | %" PRId64 " | %+" PRId64 " |\n",
		d->total_old.regions, d->total_new.regions,
		ck_sat_sub(d->total_new.regions, d->total_old.regions));
	fprintf(f, "| thread stacks | %zu | %zu | %+ld |\n\n", d->old_id->thread_stacks,
		d->new_id->thread_stacks,
		(long)d->new_id->thread_stacks - (long)d->old_id->thread_stacks);
}

static void put_changes(FILE *f, const snap_diff *d, const fmt_diff_opts *o)
{
	size_t n = o->limit && o->limit < d->nchanges ? o->limit : d->nchanges;
	const char *metric = snap_measure_name(d->opts.metric);
	fprintf(f, "#### Changes by %s (%zu", metric, n);
	if (n < d->nchanges)
		fprintf(f, " of %zu", d->nchanges);
	fprintf(f, "; %zu small ones hidden)\n\n", d->hidden);
	if (!d->nchanges) {
		fputs("No changes.\n\n", f);
		return;
	}
	fprintf(f, "| change | kind | %s | Size | perms | where |\n"
		"|---|---|---:|---:|---|---|\n", metric);
	for (size_t k = 0; k < n; k++) {
		const snap_change *c = &d->changes[k];
		char a[32], b[32], where[700];
		fprintf(f, "| %s | %s | %s | %s | %s | ", snap_change_name(c->type),
			snap_kind_name(c->kind),
			fmt_kb(a, sizeof(a), c->delta.kb[d->opts.metric], true),
			fmt_kb(b, sizeof(b), c->delta.kb[SNAP_M_SIZE], true),
			c->image ? "" : c->perms);
		fmt_markdown_cstr(f, fmt_change_where(where, sizeof(where), c));
		char moved[200];
		if (fmt_change_moved(moved, sizeof(moved), c, d->opts.metric, SNAP_M_SIZE)[0])
			fprintf(f, " (moved: %s)", moved);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static void put_by_kind(FILE *f, const snap_diff *d)
{
	enum snap_measure m = d->opts.metric;
	const char *name = snap_measure_name(m);
	fprintf(f, "<details><summary>By kind</summary>\n\n"
		"| kind | %s old | %s new | delta | regions |\n"
		"|---|---:|---:|---:|---:|\n", name, name);
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		const snap_sums *o = &d->kind_old[k], *n = &d->kind_new[k];
		if (!o->regions && !n->regions)
			continue;
		char a[32], b[32], c[32];
		fprintf(f, "| %s | %s | %s | %s | %" PRId64 " → %" PRId64 " |\n",
			snap_kind_name((enum snap_kind)k), fmt_kb(a, sizeof(a), o->kb[m], false),
			fmt_kb(b, sizeof(b), n->kb[m], false),
			fmt_kb(c, sizeof(c), ck_sat_sub(n->kb[m], o->kb[m]), true), o->regions,
			n->regions);
	}
	fputs("\n</details>\n\n", f);
}

static void put_dups(FILE *f, const snap_diff *d)
{
	if (!d->ndups)
		return;
	fputs("#### Duplicated libraries\n\n", f);
	for (size_t k = 0; k < d->ndups; k++) {
		const snap_duplicate *dup = d->dups[k].dup;
		fputs("- ", f);
		fmt_markdown_cstr(f, dup->name);
		fprintf(f, "%s, %s:", d->dups[k].new_in_new ? " (new)" : "",
			fmt_dup_phrase(dup->kind));
		for (size_t m = 0; m < dup->nimages; m++) {
			const snap_image *img = &d->new_id->images[dup->images[m]];
			char rss[32];
			fputs(m ? ", " : " ", f);
			fmt_markdown_text(f, img->path, img->path_len);
			fprintf(f, " (inode %" PRIu64 ", Rss %s)", img->inode,
				fmt_kb(rss, sizeof(rss), (int64_t)img->rss_kb, false));
		}
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void write_markdown(FILE *f, fmt_safe_out *safe, const void *what,
		           const void *options)
{
	const snap_diff *d = what;
	const fmt_diff_opts *opts = options;
	(void)safe;
	put_title(f, d, opts);
	size_t failed;
	const snap_violation *v = snap_gate_violations(opts->gate, &failed);
	fmt_markdown_verdict(f, snap_gate_size(opts->gate), v, failed);
	put_totals(f, d);
	put_changes(f, d, opts);
	put_dups(f, d);
	put_by_kind(f, d);
}

int fmt_diff_markdown(FILE *out, const snap_diff *d, const fmt_diff_opts *opts)
{
	static const fmt_diff_opts none;
	return fmt_safe_report(out, write_markdown, d, opts ? opts : &none);
}
