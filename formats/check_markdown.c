/* The check's findings as GitHub-flavoured markdown: a verdict line and
 * a table, one row per finding, for bug reports and CI job summaries. */
#include <inttypes.h>
#include <string.h>

#include "formats.h"
#include "render.h"

static void put_title(FILE *f, const snap_check *c, const fmt_check_opts *o)
{
	fmt_markdown_heading(f, "check", c->snap, o->label);
	fprintf(f, "**%zu finding%s**: %zu error%s, %zu warning%s, %zu info.\n\n",
		c->nfindings, c->nfindings == 1 ? "" : "s", c->by_severity[SNAP_SEV_ERROR],
		c->by_severity[SNAP_SEV_ERROR] == 1 ? "" : "s",
		c->by_severity[SNAP_SEV_WARNING],
		c->by_severity[SNAP_SEV_WARNING] == 1 ? "" : "s",
		c->by_severity[SNAP_SEV_INFO]);
}

static void put_regions(FILE *f, const snap_check *c, const snap_finding *x,
			size_t limit)
{
	size_t n = limit && limit < x->nregions ? limit : x->nregions;
	for (size_t k = 0; k < n; k++) {
		char where[1200];
		fputs(k ? "<br>" : "", f);
		fmt_markdown_cstr(f, fmt_region_line(where, sizeof(where),
					    &c->snap->regions[x->regions[k]]));
	}
	if (n < x->nregions)
		fprintf(f, "<br>... %zu in all", x->nregions);
}

static void write_markdown(FILE *f, fmt_safe_out *safe, const void *what,
		           const void *options)
{
	const snap_check *c = what;
	const fmt_check_opts *opts = options;
	(void)safe;
	put_title(f, c, opts);
	if (c->nfindings)
		fputs("| severity | rule | finding | regions | advice |\n"
		      "|---|---|---|---|---|\n", f);
	for (size_t k = 0; k < c->nfindings; k++) {
		const snap_finding *x = &c->findings[k];
		fprintf(f, "| %s | %s | ", snap_severity_name(x->severity), x->rule);
		fmt_markdown_cstr(f, x->message);
		fputs(" | ", f);
		put_regions(f, c, x, opts->regions);
		fputs(" | ", f);
		fmt_markdown_cstr(f, x->advice);
		fputs(" |\n", f);
	}
	if (c->nfindings)
		fputc('\n', f);
	for (size_t k = 0; k < c->nskipped; k++) {
		fputs("Not checked: ", f);
		fmt_markdown_cstr(f, c->skipped[k]);
		fputs(".\n\n", f);
	}
}

int fmt_check_markdown(FILE *out, const snap_check *c, const fmt_check_opts *opts)
{
	static const fmt_check_opts none;
	return fmt_safe_report(out, write_markdown, c, opts ? opts : &none);
}
