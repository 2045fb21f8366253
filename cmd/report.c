/* mapsnap report SNAPSHOT... -o report.html: one self-contained HTML page
 * to look at instead of read. One snapshot gives the map view, two the
 * diff view, three or more (or a series file) the trend view. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "filters.h"

#define DEFAULT_OUTPUT "report.html"

enum report_view { VIEW_MAP, VIEW_DIFF, VIEW_TREND };

static const char *const view_names[] = { "map", "diff", "trend" };

struct report_settings {
	const char *output;
	bool force;
	cli_filter filter;
	snap_diff_opts diff;
	snap_trend_opts trend;
};

/* What was loaded: the snapshots in argument order, and which came from
 * a live pid (a check of those knows the host's vm.max_map_count). */
struct inputs {
	cli_snapshots list;
	bool *live;
	int nargs;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap report [options] SNAPSHOT...\n"
	      "\n"
	      "Writes one HTML file to look at a process's memory: the process,\n"
	      "totals and kinds, the findings of 'mapsnap check', a treemap of Rss\n"
	      "(kind, then library or file, then region) and a sortable, filterable\n"
	      "table of the regions with every counter in its tooltip. One snapshot\n"
	      "gives the map view; two (OLD NEW) the diff view, changes highlighted\n"
	      "and the treemap coloured by growth; three or more, or a series file\n"
	      "('capture --every'), the trend view, with charts of total Rss and of\n"
	      "each leak suspect over time. SNAPSHOT is a snapshot file, smaps text,\n"
	      "'-' (stdin) or a live PID (captured now).\n"
	      "\n"
	      "The page needs no network and fetches nothing: open it from a file://\n"
	      "URL or keep it as a CI artifact. Its filters are kept in the URL's\n"
	      "#fragment (#kind=heap,anon&min=64K&path=libc), so a link opens\n"
	      "the same view. In the page, path text without * ? [ matches\n"
	      "anywhere in a path; --path (glob= in a link) is a glob as in show.\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_REPORT, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap report 1234 -o map.html            the map view, now\n"
	      "  mapsnap report before.json after.json -o diff.html\n"
	      "  mapsnap report series.json --kind heap,anon -o trend.html\n"
	      "\n"
	      "Exit status: 0, or 2 on a usage or input error.\n", f);
}

/* ---- options ---- */

static int parse_match(struct report_settings *s, const char *arg)
{
	enum snap_match_mode mode;
	if (cli_parse_match("report", arg, &mode) != EXIT_OK)
		return EXIT_ERROR;
	s->diff.match = mode;
	s->trend.match = mode;
	return EXIT_OK;
}

static int parse_option(struct report_settings *s, int c, const char *arg)
{
	int64_t bytes;
	snap_error err;
	switch (c) {
	case OPT_KIND: return filter_option(&s->filter, "report", "--kind", arg);
	case OPT_MIN_SIZE: return filter_option(&s->filter, "report", "--min-size", arg);
	case OPT_MAX_SIZE: return filter_option(&s->filter, "report", "--max-size", arg);
	case OPT_NO_CHECKSUM: return EXIT_OK;
	case OPT_PATH: return filter_option(&s->filter, "report", "--path", arg);
	case OPT_MATCH: return parse_match(s, arg);
	case OPT_MIN_CHANGE:
		if (snap_parse_size(arg, false, &bytes, &err) < 0)
			return cli_error("report: --min-change: %s", err.message);
		s->diff.min_change_kb = (bytes + 1023) / 1024;
		return EXIT_OK;
	case OPT_MIN_SLOPE:
		if (snap_parse_rate(arg, true, &s->trend.min_slope_kb, &err) < 0)
			return cli_error("report: --min-slope: %s", err.message);
		if (s->trend.min_slope_kb < 0)
			return cli_error("report: --min-slope takes a rate such as 64K/min "
					 "or 1M/h, not '%s'", arg);
		return EXIT_OK;
	}
	return cli_error("report: see 'mapsnap report --help'");
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct report_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_REPORT, "report", argc, argv)) != -1) {
		switch (c) {
		case 'o': s->output = optarg; break;
		case 'f': s->force = true; break;
		case 'h': usage(stdout); return -1;
		case '?': return EXIT_ERROR;
		default:
			if (parse_option(s, c, optarg) != EXIT_OK)
				return EXIT_ERROR;
		}
	}
	if (optind >= argc)
		return cli_error("report: give one snapshot (map), two (diff) or a series "
				 "(trend); see 'mapsnap report --help'");
	return EXIT_OK;
}

/* ---- inputs ---- */

static int load_inputs(struct inputs *in, int argc, char **argv)
{
	snap_error err = { 0 };
	bool seen_stdin = false;
	in->nargs = argc;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 && seen_stdin)
			return cli_error("report: '-' (stdin) can be given once");
		seen_stdin |= strcmp(argv[i], "-") == 0;
		size_t before = in->list.count;
		if (cli_load_arg(&in->list, argv[i], NULL, &err) < 0)
			return cli_report(&err);
		if (in->list.count == before)
			return cli_error("%s: no snapshot in it", argv[i]);
		bool *grown = realloc(in->live, in->list.count * sizeof(*grown));
		if (!grown)
			return cli_error("out of memory");
		in->live = grown;
		for (size_t k = before; k < in->list.count; k++)
			in->live[k] = cli_is_live_pid(argv[i], NULL);
	}
	return EXIT_OK;
}

static void inputs_free(struct inputs *in)
{
	cli_snapshots_free(&in->list);
	free(in->live);
}

static enum report_view view_of(const struct inputs *in)
{
	if (in->list.count == 1)
		return VIEW_MAP;
	if (in->list.count == 2 && in->nargs == 2)
		return VIEW_DIFF;
	return VIEW_TREND;
}

static bool live_snapshot(const struct inputs *in, const snap_snapshot *snap)
{
	for (size_t k = 0; k < in->list.count; k++)
		if (in->list.items[k] == snap)
			return in->live[k];
	return false;
}

/* ---- the page ---- */

static int run_check(snap_check **out, const snap_snapshot *snap, bool live)
{
	snap_check_opts opts;
	snap_check_opts_init(&opts, SNAP_CHECK_OPTS_VERSION);
	if (live)
		opts.max_map_count = cli_host_max_map_count();
	*out = NULL;
	snap_error err;
	if (snap_check_new(out, snap, &opts, &err) < 0 || snap_check_run_all(*out, &err) < 0) {
		snap_check_free(*out);
		*out = NULL;
		return cli_error("report: %s", err.message);
	}
	return EXIT_OK;
}

static void to_report_filter(fmt_report_filter *out, const cli_filter *f)
{
	memcpy(out->kinds, f->kinds, sizeof(out->kinds));
	out->has_kinds = f->has_kinds;
	out->min_size = f->min_size;
	out->max_size = f->max_size;
	out->has_min = f->has_min;
	out->has_max = f->has_max;
	out->path = f->path_glob;
}

/* What the page is about, and what opens it. */
struct page {
	enum report_view view;
	const snap_snapshot *shown;
	snap_diff *diff;     /* diff view: owned */
	snap_trend *trend;   /* trend view: owned */
	snap_check *check;   /* of the shown snapshot: owned */
	fmt_report_filter filter;
	fmt_report_opts opts;
	char label[640];
};

static void page_free(struct page *p)
{
	snap_check_free(p->check);
	snap_diff_free(p->diff);
	snap_trend_free(p->trend);
}

static int build_view(struct page *p, const struct report_settings *s,
		      const struct inputs *in, char **args)
{
	snap_error err = { 0 };
	snap_snapshot **items = in->list.items;
	if (p->view == VIEW_MAP) {
		cli_input_label(p->label, sizeof(p->label), args[0]);
		p->shown = items[0];
	} else if (p->view == VIEW_DIFF) {
		char old[300], new[300];
		cli_input_label(old, sizeof(old), args[0]);
		cli_input_label(new, sizeof(new), args[1]);
		snprintf(p->label, sizeof(p->label), "%s -> %s", old, new);
		if (snap_diff_new(&p->diff, items[0], items[1], &s->diff, &err) < 0)
			return cli_report(&err);
		p->shown = items[1];
	} else {
		if (in->nargs == 1)
			cli_input_label(p->label, sizeof(p->label), args[0]);
		else
			snprintf(p->label, sizeof(p->label), "%d inputs", in->nargs);
		if (snap_trend_new(&p->trend, items, in->list.count, &s->trend, &err) < 0)
			return cli_report(&err);
		p->shown = p->trend->snaps[p->trend->nsnaps - 1];
	}
	return run_check(&p->check, p->shown, live_snapshot(in, p->shown));
}

static int write_view(FILE *f, const struct page *p)
{
	switch (p->view) {
	/* The check's identity of the shown snapshot serves the map and
	 * trend views: no need to work it out twice. */
	case VIEW_MAP: return fmt_report_map(f, p->check->id, &p->opts);
	case VIEW_DIFF: return fmt_report_diff(f, p->diff, &p->opts);
	default: return fmt_report_trend(f, p->trend, p->check->id, &p->opts);
	}
}

static int write_page(const struct report_settings *s, const struct page *p)
{
	cli_output out;
	snap_error err;
	const char *path = s->output ? s->output : DEFAULT_OUTPUT;
	if (cli_output_open(&out, path, s->force, &err) < 0)
		return cli_report(&err);
	int rc = write_view(out.f, p);
	if (rc < 0) {
		cli_output_discard(&out);
		return rc == SNAP_EIO ? cli_error("%s: write failed", path)
				      : cli_error("report: %s", snap_strerror(rc));
	}
	bool to_stdout = out.to_stdout;
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	if (!to_stdout)
		printf("%s: %s view of %s, %zu region%s, %zu finding%s\n", path,
		       view_names[p->view], p->label, p->shown->nregions,
		       p->shown->nregions == 1 ? "" : "s", p->check->nfindings,
		       p->check->nfindings == 1 ? "" : "s");
	return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	struct report_settings s = { 0 };
	snap_diff_opts_init(&s.diff, SNAP_DIFF_OPTS_VERSION);
	snap_trend_opts_init(&s.trend, SNAP_TREND_OPTS_VERSION);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	struct inputs in = { 0 };
	struct page p = { 0 };
	rc = load_inputs(&in, argc - optind, argv + optind);
	if (rc == EXIT_OK) {
		p.view = view_of(&in);
		rc = build_view(&p, &s, &in, argv + optind);
	}
	if (rc == EXIT_OK) {
		to_report_filter(&p.filter, &s.filter);
		p.opts.label = p.label;
		p.opts.check = p.check;
		p.opts.filter = filter_active(&s.filter) ? &p.filter : NULL;
		rc = write_page(&s, &p);
	}
	page_free(&p);
	inputs_free(&in);
	return rc;
}
