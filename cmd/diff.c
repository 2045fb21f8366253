/* mapsnap diff OLD NEW: what changed in memory between two snapshots
 * (files or live pids), matched by what regions are, not by line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"

struct diff_settings {
	report_settings report;
	const char *output;
	bool force;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap diff [options] OLD NEW\n"
	      "       mapsnap diff [options] SERIES\n"
	      "\n"
	      "Compares two snapshots region by region, matching regions by what\n"
	      "they are: by address for one process seen twice, else by file,\n"
	      "name, kind and size (which survive ASLR). OLD and NEW are\n"
	      "snapshot files, smaps text files, '-' (stdin), or live PIDs\n"
	      "(captured now). A file holding several snapshots gives its first\n"
	      "as OLD and its last as NEW; one such file alone (a series from\n"
	      "capture --every) compares its first snapshot with its last. Two\n"
	      "different executables are compared too; the header says so.\n"
	      "\n", f);
	cli_print_options(f, CLI_DIFF, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap diff before.json after.json       what changed\n"
	      "  mapsnap diff before.json 1234 --top 20    against the process now\n"
	      "  mapsnap diff old.json new.json --fail-if 'rss>+10%' --format markdown\n"
	      "\n"
	      "Exit status: 0 no gate or it passed, 1 the gate failed, 2 usage or\n"
	      "input error.\n", f);
}

int report_init(report_settings *s, const char *name, unsigned command,
		snap_error *err)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->command = command;
	snap_diff_opts_init(&s->diff, SNAP_DIFF_OPTS_VERSION);
	return snap_gate_new(&s->gate, err);
}

void report_free(report_settings *s)
{
	snap_gate_free(s->gate);
	s->gate = NULL;
	for (size_t k = 0; k < s->nmaps; k++)
		free((char *)s->maps[k].from);
	free(s->maps);
	s->maps = NULL;
	s->nmaps = 0;
}

static int add_map_path(report_settings *s, const char *arg)
{
	char *text = strdup(arg);
	snap_path_map *maps = realloc(s->maps, (s->nmaps + 1) * sizeof(*maps));
	if (!text || !maps) {
		free(text);
		if (maps)
			s->maps = maps;
		cli_error("out of memory");
		return 2;
	}
	s->maps = maps;
	snap_error err;
	if (snap_path_map_parse(&s->maps[s->nmaps], text, &err) < 0) {
		free(text);
		cli_error("%s: --map-path: %s", s->name, err.message);
		return 2;
	}
	s->nmaps++;
	s->diff.path_maps = s->maps;
	s->diff.npath_maps = s->nmaps;
	return 0;
}

static int parse_sort(report_settings *s, const char *arg)
{
	if (cli_pick(s->command, s->name, OPT_SORT, arg) < 0)
		return 2;
	s->diff.metric = (enum snap_measure)snap_measure_parse(arg);
	return 0;
}

int report_option(report_settings *s, int opt, const char *arg)
{
	snap_error err;
	int64_t bytes;
	switch (opt) {
	case OPT_FORMAT:
		return cli_parse_format(s->name, arg, &s->format) == EXIT_OK ? 0 : 2;
	case OPT_SORT:
		return parse_sort(s, arg);
	case OPT_COLOR: {
		int w = cli_pick(s->command, s->name, OPT_COLOR, arg);
		cli_color_mode = w < 0 ? cli_color_mode : (enum cli_color)w;
		return w < 0 ? 2 : 0;
	}
	case OPT_MATCH:
		return cli_parse_match(s->name, arg, &s->diff.match) == EXIT_OK ? 0 : 2;
	case OPT_TOP:
		return cli_parse_top(s->name, "--top", arg, &s->limit) == EXIT_OK ? 0 : 2;
	case OPT_MIN_CHANGE:
		if (snap_parse_size(arg, false, &bytes, &err) < 0) {
			cli_error("%s: --min-change: %s", s->name, err.message);
			return 2;
		}
		s->diff.min_change_kb = (bytes + 1023) / 1024;
		return 0;
	case OPT_MAP_PATH:
		return add_map_path(s, arg);
	case OPT_FAIL_IF:
		if (cli_gate_complete(s->name, arg) != EXIT_OK)
			return 2;
		if (snap_gate_add(s->gate, arg, &err) < 0) {
			cli_report(&err);
			return 2;
		}
		return 0;
	}
	return 1;
}

/* ---- the report ---- */

static bool use_color(enum cli_format format, const cli_output *out)
{
	return format == CLI_FORMAT_TEXT && out->to_stdout &&
	       cli_color_wanted(STDOUT_FILENO);
}

static int write_report(FILE *f, enum cli_format format, const snap_diff *d,
			const fmt_diff_opts *o)
{
	switch (format) {
	case CLI_FORMAT_JSON: return fmt_diff_json(f, d, o);
	case CLI_FORMAT_MARKDOWN: return fmt_diff_markdown(f, d, o);
	default: return fmt_diff_text(f, d, o);
	}
}

static int write_to(const char *path, bool force, enum cli_format format,
		    const snap_diff *d, fmt_diff_opts *o, bool *on_terminal_text)
{
	cli_output out;
	snap_error err;
	if (cli_output_open(&out, path, force, &err) < 0)
		return cli_report(&err);
	o->color = use_color(format, &out);
	*on_terminal_text = format == CLI_FORMAT_TEXT && out.to_stdout;
	if (write_report(out.f, format, d, o) < 0) {
		cli_output_discard(&out);
		return cli_error("%s: write failed", path);
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}

int report_run(const report_settings *s, const snap_snapshot *old,
	       const snap_snapshot *new, const char *old_label,
	       const char *new_label, const char *out, bool force,
	       const char *json_path)
{
	snap_diff *d;
	snap_error err;
	if (snap_diff_new(&d, old, new, &s->diff, &err) < 0)
		return cli_report(&err);
	int bad = snap_gate_check(s->gate, d, &err);
	fmt_diff_opts o = { old_label, new_label, s->gate, false, s->limit };
	bool terminal = false, ignored;
	int rc = bad < 0 ? cli_report(&err) : EXIT_OK;
	if (rc == EXIT_OK && json_path)
		rc = write_to(json_path, force, CLI_FORMAT_JSON, d, &o, &ignored);
	if (rc == EXIT_OK)
		rc = write_to(out, force, s->format, d, &o, &terminal);
	if (rc == EXIT_OK && bad > 0) {
		size_t n;
		const snap_violation *v = snap_gate_violations(s->gate, &n);
		for (size_t k = 0; k < n && !terminal; k++)
			cli_warn("gate failed: %s", v[k].message);
		rc = EXIT_GATE;
	}
	snap_diff_free(d);
	return rc;
}

/* ---- mapsnap diff ---- */

static int parse_args(struct diff_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_DIFF, "diff", argc, argv)) != -1) {
		switch (c) {
		case 'o': s->output = optarg; break;
		case 'f': s->force = true; break;
		case 'h': usage(stdout); return -1;
		case '?': return EXIT_ERROR;
		case OPT_NO_CHECKSUM: break;
		default:
			if (report_option(&s->report, c, optarg) != 0)
				return EXIT_ERROR;
		}
	}
	if (argc - optind != 1 && argc - optind != 2)
		return cli_error("diff: needs OLD and NEW, or one SERIES (see 'mapsnap diff --help')");
	return EXIT_OK;
}

/* The first and the last snapshot of one series file. */
static int load_series(cli_snapshots *list, const char *arg, snap_snapshot **old,
		       snap_snapshot **new)
{
	snap_error err;
	if (cli_load_arg(list, arg, NULL, &err) < 0)
		return cli_report(&err);
	if (list->count < 2)
		return cli_error("%s: holds %zu snapshot%s; a diff of one file needs a "
				 "series of two or more", arg, list->count,
				 list->count == 1 ? "" : "s");
	*old = list->items[0];
	*new = list->items[list->count - 1];
	return EXIT_OK;
}

/* Loads both arguments; *old and *new point into list. */
static int load_pair(cli_snapshots *list, char **args, snap_snapshot **old,
		     snap_snapshot **new)
{
	snap_error err;
	if (!args[1])
		return load_series(list, args[0], old, new);
	if (cli_load_arg(list, args[0], NULL, &err) < 0)
		return cli_report(&err);
	*old = list->items[0];
	size_t before = list->count;
	if (strcmp(args[0], "-") == 0 && strcmp(args[1], "-") == 0)
		return cli_error("diff: only one of OLD and NEW can be '-'");
	if (cli_load_arg(list, args[1], NULL, &err) < 0)
		return cli_report(&err);
	if (list->count == before)
		return cli_error("%s: no snapshot in it", args[1]);
	*new = list->items[list->count - 1];
	return EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_settings s = { 0 };
	cli_snapshots list = { 0 };
	snap_error err;
	if (report_init(&s.report, "diff", CLI_DIFF, &err) < 0)
		return cli_report(&err);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK) {
		report_free(&s.report);
		return rc < 0 ? EXIT_OK : rc;
	}
	snap_snapshot *old = NULL, *new = NULL;
	char *args[2] = { argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL };
	rc = load_pair(&list, args, &old, &new);
	if (rc == EXIT_OK) {
		char lo[600], ln[600];
		cli_input_label(lo, sizeof(lo), args[0]);
		cli_input_label(ln, sizeof(ln), args[1] ? args[1] : args[0]);
		if (!args[1]) {
			size_t n = strlen(lo);
			snprintf(lo + n, sizeof(lo) - n, " (first of %zu)", list.count);
			n = strlen(ln);
			snprintf(ln + n, sizeof(ln) - n, " (last of %zu)", list.count);
		}
		rc = report_run(&s.report, old, new, lo, ln, s.output ? s.output : "-",
				s.force, NULL);
	}
	cli_snapshots_free(&list);
	report_free(&s.report);
	return rc;
}
