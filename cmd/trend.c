/* mapsnap trend FILE...: which regions keep growing over a series of
 * snapshots (capture --every), how fast, and how sure that is. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

struct trend_settings {
	enum cli_format format;
	const char *output;
	bool force, ascii, timing;
	size_t limit;
	snap_trend_opts trend;
	snap_trend_gate *gate; /* owned */
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap trend [options] FILE...\n"
	      "\n"
	      "Follows every region through a series of snapshots (files written by\n"
	      "'mapsnap capture PID --every 1s -o FILE', and/or single snapshots,\n"
	      "ordered by capture time), matching regions as diff does, and says\n"
	      "which keep growing: the Theil-Sen slope of Rss, Private_Dirty and\n"
	      "Size, the share of steps that grew, the total growth. A leak suspect\n"
	      "grows faster than --min-slope, falls in under 10% of its steps and\n"
	      "is still rising at the end (growth that stopped is a plateau).\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_TREND, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap trend series.json                   the suspects, if any\n"
	      "  mapsnap trend snaps/*.json --sort dirty --top 0\n"
	      "  mapsnap trend series.json --fail-if 'leak-suspects>0' --format markdown\n"
	      "\n"
	      "Exit status: 0 no gate or it passed, 1 the gate failed, 2 usage or\n"
	      "input error.\n", f);
}

static int parse_sort(struct trend_settings *s, const char *arg)
{
	if (cli_pick(CLI_TREND, "trend", OPT_SORT, arg) < 0)
		return EXIT_ERROR;
	int m = snap_measure_parse(arg);
	s->trend.measure = (enum snap_measure)m;
	return EXIT_OK;
}

static int parse_count(size_t *out, const char *arg, const char *opt, long min)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < min)
		return cli_error("trend: %s wants a number >= %ld, not '%s'", opt, min, arg);
	*out = (size_t)v;
	return EXIT_OK;
}

static int parse_option(struct trend_settings *s, int c, const char *arg)
{
	snap_error err;
	switch (c) {
	case OPT_FORMAT: return cli_parse_format("trend", arg, &s->format);
	case OPT_SORT: return parse_sort(s, arg);
	case OPT_COLOR: {
		int w = cli_pick(CLI_TREND, "trend", OPT_COLOR, arg);
		cli_color_mode = w < 0 ? cli_color_mode : (enum cli_color)w;
		return w < 0 ? EXIT_ERROR : EXIT_OK;
	}
	case OPT_NO_CHECKSUM: return EXIT_OK;
	case OPT_MATCH: return cli_parse_match("trend", arg, &s->trend.match);
	case OPT_TOP: return cli_parse_top("trend", "--top", arg, &s->limit);
	case OPT_MIN_POINTS: return parse_count(&s->trend.min_points, arg, "--min-points", 2);
	case OPT_MIN_SLOPE:
		if (snap_parse_rate(arg, true, &s->trend.min_slope_kb, &err) < 0)
			return cli_error("trend: --min-slope: %s", err.message);
		if (s->trend.min_slope_kb < 0)
			return cli_error("trend: --min-slope wants a rate such as 64K/min or "
					 "1M/h, not '%s'", arg);
		return EXIT_OK;
	case OPT_FAIL_IF:
		if (cli_gate_complete("trend", arg) != EXIT_OK)
			return EXIT_ERROR;
		return snap_trend_gate_add(s->gate, arg, &err) < 0 ? cli_report(&err)
								   : EXIT_OK;
	case OPT_ASCII: s->ascii = true; return EXIT_OK;
	case OPT_TIMING: s->timing = true; return EXIT_OK;
	}
	return EXIT_ERROR;
}

static int parse_args(struct trend_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_TREND, "trend", argc, argv)) != -1) {
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
		return cli_error("trend: give the series files (see 'mapsnap trend --help')");
	return EXIT_OK;
}

/* ---- the report ---- */

static bool use_color(const struct trend_settings *s, const cli_output *out)
{
	return s->format == CLI_FORMAT_TEXT && out->to_stdout &&
	       cli_color_wanted(STDOUT_FILENO);
}

static int write_report(FILE *f, enum cli_format format, const snap_trend *t,
			const fmt_trend_opts *o)
{
	switch (format) {
	case CLI_FORMAT_JSON: return fmt_trend_json(f, t, o);
	case CLI_FORMAT_MARKDOWN: return fmt_trend_markdown(f, t, o);
	default: return fmt_trend_text(f, t, o);
	}
}

static int write_to(const struct trend_settings *s, const snap_trend *t,
		    fmt_trend_opts *o, bool *on_terminal)
{
	cli_output out;
	snap_error err;
	const char *path = s->output ? s->output : "-";
	if (cli_output_open(&out, path, s->force, &err) < 0)
		return cli_report(&err);
	o->color = use_color(s, &out);
	*on_terminal = s->format == CLI_FORMAT_TEXT && out.to_stdout && isatty(STDOUT_FILENO);
	if (write_report(out.f, s->format, t, o) < 0) {
		cli_output_discard(&out);
		return cli_error("%s: write failed", path);
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}

static int report(const struct trend_settings *s, const snap_trend *t,
		  const char *label)
{
	snap_error err = { 0 };
	int bad = snap_trend_gate_check(s->gate, t, &err);
	if (bad < 0)
		return cli_report(&err);
	fmt_trend_opts o = { label, s->gate, false, s->ascii, s->limit };
	bool terminal = false;
	int rc = write_to(s, t, &o, &terminal);
	if (rc != EXIT_OK || bad == 0)
		return rc;
	size_t n;
	const snap_violation *v = snap_trend_gate_violations(s->gate, &n);
	for (size_t k = 0; k < n && !terminal; k++)
		cli_warn("gate failed: %s", v[k].message);
	return EXIT_GATE;
}

static int load_inputs(cli_snapshots *list, int argc, char **argv)
{
	snap_error err = { 0 };
	size_t stdin_uses = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 && ++stdin_uses > 1)
			return cli_error("trend: '-' (stdin) can be given once");
		if (cli_load_arg(list, argv[i], NULL, &err) < 0)
			return cli_report(&err);
	}
	return EXIT_OK;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int cmd_trend(int argc, char **argv)
{
	struct trend_settings s = { .limit = 10 };
	snap_trend_opts_init(&s.trend, SNAP_TREND_OPTS_VERSION);
	snap_error err;
	if (snap_trend_gate_new(&s.gate, &err) < 0)
		return cli_report(&err);
	cli_snapshots list = { 0 };
	snap_trend *t = NULL;
	double at[4] = { now_ms(), 0, 0, 0 };
	int rc = parse_args(&s, argc, argv);
	if (rc == EXIT_OK)
		rc = load_inputs(&list, argc - optind, argv + optind);
	at[1] = now_ms();
	if (rc == EXIT_OK) {
		snap_error err = { 0 };
		if (snap_trend_new(&t, list.items, list.count, &s.trend, &err) < 0)
			rc = cli_report(&err);
	}
	at[2] = now_ms();
	if (rc == EXIT_OK) {
		char label[600];
		if (argc - optind == 1)
			snprintf(label, sizeof(label), "%s", argv[optind]);
		else
			snprintf(label, sizeof(label), "%d inputs", argc - optind);
		rc = report(&s, t, label);
	}
	at[3] = now_ms();
	if (s.timing && t)
		fprintf(stderr, "mapsnap: trend timing: load %.1f ms (%zu snapshots), "
			"match and judge %.1f ms, report %.1f ms\n", at[1] - at[0],
			list.count, at[2] - at[1], at[3] - at[2]);
	snap_trend_free(t);
	cli_snapshots_free(&list);
	snap_trend_gate_free(s.gate);
	return rc < 0 ? EXIT_OK : rc;
}
