/* The check's findings as text for a terminal: most severe first, each
 * with the regions involved and its advice. */
#include <inttypes.h>

#include "formats.h"
#include "render.h"

static void put_header(FILE *f, const snap_check *c, const fmt_check_opts *o)
{
	char line[1400];
	size_t nrules;
	snap_check_rules(&nrules);
	fprintf(f, "mapsnap check: %s\n", fmt_process_line(line, sizeof(line), c->snap));
	if (o->label)
		fprintf(f, "  input %s\n", o->label);
	fprintf(f, "  %zu regions, %zu finding%s: %zu error%s, %zu warning%s, %zu info\n",
		c->snap->nregions, c->nfindings, c->nfindings == 1 ? "" : "s",
		c->by_severity[SNAP_SEV_ERROR], c->by_severity[SNAP_SEV_ERROR] == 1 ? "" : "s",
		c->by_severity[SNAP_SEV_WARNING],
		c->by_severity[SNAP_SEV_WARNING] == 1 ? "" : "s",
		c->by_severity[SNAP_SEV_INFO]);
}

static const char *upper(enum snap_severity sev)
{
	switch (sev) {
	case SNAP_SEV_ERROR: return "ERROR";
	case SNAP_SEV_WARNING: return "WARNING";
	default: return "INFO";
	}
}

static void put_finding(FILE *f, const snap_check *c, const snap_finding *x,
			size_t limit)
{
	size_t n = limit && limit < x->nregions ? limit : x->nregions;
	fprintf(f, "\n%-8s %s: %s\n", upper(x->severity), x->rule, x->message);
	for (size_t k = 0; k < n; k++) {
		char where[1200];
		const snap_region *r = &c->snap->regions[x->regions[k]];
		fprintf(f, "         %s\n", fmt_region_line(where, sizeof(where), r));
	}
	if (n < x->nregions) {
		char size[32];
		fprintf(f, "         ... %zu regions in all, %s\n", x->nregions,
			fmt_kb(size, sizeof(size), x->size_kb, false));
	}
	fprintf(f, "         advice: %s\n", x->advice);
}

static void write_text(FILE *f, fmt_safe_out *safe, const void *what,
		       const void *options)
{
	const snap_check *c = what;
	const fmt_check_opts *opts = options;
	(void)safe;
	put_header(f, c, opts);
	for (size_t k = 0; k < c->nfindings; k++)
		put_finding(f, c, &c->findings[k], opts->regions);
	if (!c->nfindings)
		fputs("\nNothing suspicious found.\n", f);
	for (size_t k = 0; k < c->nskipped; k++)
		fprintf(f, "%snot checked: %s\n", k ? "" : "\n", c->skipped[k]);
}

int fmt_check_text(FILE *out, const snap_check *c, const fmt_check_opts *opts)
{
	static const fmt_check_opts none;
	return fmt_safe_report(out, write_text, c, opts ? opts : &none);
}
