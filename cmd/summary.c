/* mapsnap summary: where the memory of a process (a snapshot file or a
 * live pid) is, in one screen. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "filters.h"

struct summary_settings {
	enum cli_format format;
	snap_summary_opts summary;
	cli_filter filter;
	char filters[512]; /* the filter options as given */
	size_t libs;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap summary [options] SNAPSHOT|PID|-...\n"
	      "\n"
	      "Where the memory is: the process, totals (cross-checked against\n"
	      "smaps_rollup when it was captured), a table by kind with each\n"
	      "kind's share of Rss, the largest regions, libraries by load\n"
	      "instance (all segments summed), thread stacks and malloc arenas.\n"
	      "SNAPSHOT is a snapshot file (each snapshot in it is summarised),\n"
	      "smaps text, or '-' for stdin; PID is captured now, in memory.\n"
	      "\n"
	      "      --format FMT      text (default), json or markdown\n"
	      "      --top N           list the N largest regions (default 10)\n"
	      "      --metric M        rank regions and libraries by rss (default),\n"
	      "                        pss, size, dirty (Private_Dirty), swap or anon\n"
	      "      --libs N          text, markdown: list N libraries (default 10;\n"
	      "                        0: all); JSON lists all\n", f);
	fputs(filter_usage, f);
	fputs(CLI_NO_CHECKSUM_USAGE
	      "  -h, --help            this help\n"
	      "\n"
	      "Filters count only the regions they keep; the smaps_rollup check\n"
	      "then does not apply. A torn read (the totals disagree with the\n"
	      "rollup) is reported in the summary and, for json and markdown, on\n"
	      "stderr. Exit status: 0, or 2 on an error.\n", f);
}

static int parse_count(size_t *out, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-')
		return cli_error("summary: %s takes a number, not '%s'", opt, arg);
	*out = (size_t)n;
	return EXIT_OK;
}

static int parse_metric(struct summary_settings *s, const char *arg)
{
	int m = snap_measure_parse(arg);
	if (m < 0)
		return cli_error("summary: unknown --metric '%s' (rss, pss, size, dirty, "
				 "swap, anon)", arg);
	s->summary.metric = (enum snap_measure)m;
	return EXIT_OK;
}

static int region_filter(struct summary_settings *s, const char *opt, const char *arg)
{
	size_t n = strlen(s->filters);
	snprintf(s->filters + n, sizeof(s->filters) - n, "%s%s %s", n ? " " : "", opt,
		 arg);
	return filter_option(&s->filter, "summary", opt, arg);
}

enum { OPT_FORMAT = 256, OPT_TOP, OPT_METRIC, OPT_LIBS, OPT_KIND, OPT_MIN, OPT_MAX,
       OPT_PATH };

static int parse_option(struct summary_settings *s, int c, const char *arg)
{
	switch (c) {
	case OPT_FORMAT: return cli_parse_format("summary", arg, &s->format);
	case OPT_TOP: return parse_count(&s->summary.top, "--top", arg);
	case OPT_METRIC: return parse_metric(s, arg);
	case OPT_LIBS: return parse_count(&s->libs, "--libs", arg);
	case OPT_KIND: return region_filter(s, "--kind", arg);
	case OPT_MIN: return region_filter(s, "--min-size", arg);
	case OPT_MAX: return region_filter(s, "--max-size", arg);
	case OPT_PATH: return region_filter(s, "--path", arg);
	default: return cli_error("summary: see 'mapsnap summary --help'");
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct summary_settings *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "metric", required_argument, NULL, OPT_METRIC },
		{ "libs", required_argument, NULL, OPT_LIBS },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "min-size", required_argument, NULL, OPT_MIN },
		{ "max-size", required_argument, NULL, OPT_MAX },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "help", no_argument, NULL, 'h' },
		CLI_NO_CHECKSUM_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == CLI_OPT_NO_CHECKSUM) {
			cli_no_checksum = true;
			continue;
		}
		if (c == '?')
			return cli_bad_option("summary", argv);
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_error("summary: what to summarise? give a snapshot file, '-' "
				 "or a PID");
	return EXIT_OK;
}

/* ---- summarising ---- */

static bool keep_region(void *ctx, const snap_snapshot *snap, const snap_region *r,
			enum snap_kind kind)
{
	(void)snap;
	return filter_region(ctx, r, kind);
}

static void warn_torn(const snap_summary *sum, const char *arg)
{
	for (size_t k = 0; k < sum->nrollup; k++) {
		const snap_rollup_row *r = &sum->rollup[k];
		if (!r->agrees) {
			cli_warn("warning: %s: the summed smaps disagree with smaps_rollup "
				 "(%s %lld kB vs %lld kB): a torn read", arg,
				 snap_measure_name(r->measure), (long long)r->summed_kb,
				 (long long)r->rollup_kb);
			return;
		}
	}
}

static int write_summary(const struct summary_settings *s, const snap_summary *sum,
			 const char *label)
{
	fmt_summary_opts o = { label, s->filters[0] ? s->filters : NULL, s->libs };
	switch (s->format) {
	case CLI_FORMAT_JSON: return fmt_summary_json(stdout, sum, &o);
	case CLI_FORMAT_MARKDOWN: return fmt_summary_markdown(stdout, sum, &o);
	default: return fmt_summary_text(stdout, sum, &o);
	}
}

static int summarise(const struct summary_settings *s, const snap_snapshot *snap,
		     const char *arg, const char *label)
{
	snap_summary *sum;
	snap_summary_opts opts = s->summary;
	if (filter_active(&s->filter)) {
		opts.filter = keep_region;
		opts.filter_ctx = (void *)&s->filter;
	}
	if (snap_summary_new(&sum, snap, &opts) < 0)
		return cli_error("summary: %s: out of memory", arg);
	int rc = write_summary(s, sum, label);
	if (sum->torn && s->format != CLI_FORMAT_TEXT)
		warn_torn(sum, arg);
	snap_summary_free(sum);
	if (rc < 0)
		return cli_error("summary: writing the output failed");
	return EXIT_OK;
}

static int summarise_arg(const struct summary_settings *s, const char *arg)
{
	cli_snapshots list = { 0 };
	snap_error err = { 0 };
	char label[600];
	cli_input_label(label, sizeof(label), arg);
	/* A file whose third document is broken still gives the first two. */
	bool loaded = cli_load_arg(&list, arg, NULL, &err) == 0;
	int status = EXIT_OK;
	for (size_t i = 0; i < list.count && status == EXIT_OK; i++) {
		if (i && s->format == CLI_FORMAT_TEXT)
			putchar('\n');
		status = summarise(s, list.items[i], arg, label);
	}
	cli_snapshots_free(&list);
	return loaded ? status : cli_report(&err);
}

int cmd_summary(int argc, char **argv)
{
	struct summary_settings s = { .libs = 10 };
	snap_summary_opts_init(&s.summary);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++)
		if (summarise_arg(&s, argv[i]) != EXIT_OK)
			status = EXIT_ERROR;
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error("summary: writing the output failed");
	return status;
}
