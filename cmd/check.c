/* mapsnap check: what looks wrong in a process's memory map (a snapshot
 * file or a live pid): the warning signs people grep smaps for. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct check_settings {
	enum cli_format format;
	snap_check_opts check;
	bool max_map_count_given;
	bool strict;
	size_t regions;           /* per finding, text and markdown */
	const char *only, *skip;  /* comma-separated rule names */
	const char *output;       /* -o FILE */
	bool force;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap check [options] SNAPSHOT|PID|-...\n"
	      "\n"
	      "Looks for the warning signs of a memory map and prints each finding\n"
	      "with its severity (info, warning, error), the regions involved and\n"
	      "one sentence of advice. SNAPSHOT is a snapshot file, smaps text or\n"
	      "'-' (stdin); PID is captured now, in memory.\n"
	      "\n"
	      "rules:\n", f);
	size_t n;
	const snap_rule *rules = snap_check_rules(&n);
	for (size_t k = 0; k < n; k++) {
		char left[64];
		snprintf(left, sizeof(left), "  %s", rules[k].name);
		cli_print_row(f, left, rules[k].about);
	}
	fputs("\noptions (thresholds: defaults in brackets):\n", f);
	cli_print_options(f, CLI_CHECK, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap check 1234                        what looks wrong, now\n"
	      "  mapsnap check --strict --only map-count,swap-pressure snap.json\n"
	      "  mapsnap check --format markdown -o findings.md 1234\n"
	      "\n"
	      "Exit status: 0; 1 with --strict when a warning or an error was found;\n"
	      "2 on a usage or input error.\n", f);
}

/* ---- option values ---- */

static int parse_kb(int64_t *out, const char *opt, const char *arg)
{
	int64_t bytes;
	snap_error err;
	if (snap_parse_size(arg, false, &bytes, &err) < 0)
		return cli_error("check: %s: %s", opt, err.message);
	*out = bytes / 1024;
	return EXIT_OK;
}

static int parse_count(size_t *out, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-')
		return cli_error("check: %s takes a number, not '%s'", opt, arg);
	*out = (size_t)n;
	return EXIT_OK;
}

/* "90" or "90%": a share in (0, 100], returned as a fraction. */
static int parse_percent(double *out, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (*end == '%')
		end++;
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 100)
		return cli_error("check: %s takes a percentage in (0, 100], not '%s'",
				 opt, arg);
	*out = v / 100;
	return EXIT_OK;
}

static int parse_ratio(double *out, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 1)
		return cli_error("check: %s takes a number of 1 or more, not '%s'", opt, arg);
	*out = v;
	return EXIT_OK;
}

/* Every name in the comma-separated list must be a rule. */
static int check_rule_list(const char *opt, const char *list)
{
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), p);
		if (len >= sizeof(name) || !snap_check_rule(name))
			return cli_error("check: %s: unknown rule '%.*s' (see 'mapsnap check "
					 "--help')", opt, (int)len, p);
		if (!comma)
			return EXIT_OK;
		p = comma + 1;
	}
}

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* ---- command line ---- */


static int parse_max_map_count(struct check_settings *s, const char *arg)
{
	size_t n;
	if (parse_count(&n, "--max-map-count", arg) != EXIT_OK)
		return EXIT_ERROR;
	if (n == 0 || n > 0x7fffffff)
		return cli_error("check: --max-map-count takes a positive number, not '%s'",
				 arg);
	s->check.max_map_count = (long)n;
	s->max_map_count_given = true;
	return EXIT_OK;
}

static int parse_threshold(snap_check_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_HEAP_MIN: return parse_kb(&o->heap_min_kb, "--heap-min", arg);
	case OPT_HEAP_RATIO: return parse_ratio(&o->heap_ratio, "--heap-ratio", arg);
	case OPT_SMALL_MAPS: return parse_count(&o->small_maps, "--small-maps", arg);
	case OPT_SMALL_SIZE: return parse_kb(&o->small_max_kb, "--small-size", arg);
	case OPT_DIRTY_RATIO: return parse_percent(&o->dirty_ratio, "--dirty-ratio", arg);
	case OPT_DIRTY_MIN: return parse_kb(&o->dirty_min_kb, "--dirty-min", arg);
	case OPT_SWAP_RATIO: return parse_percent(&o->swap_ratio, "--swap-ratio", arg);
	case OPT_SWAP_MIN: return parse_kb(&o->swap_min_kb, "--swap-min", arg);
	case OPT_LARGE_ANON: return parse_kb(&o->large_anon_kb, "--large-anon", arg);
	case OPT_THREAD_STACKS:
		return parse_count(&o->thread_stacks_max, "--thread-stacks", arg);
	case OPT_MAP_RATIO:
		return parse_percent(&o->map_count_ratio, "--map-count-ratio", arg);
	default: return cli_error("check: see 'mapsnap check --help'");
	}
}

static int parse_option(struct check_settings *s, int c, const char *arg)
{
	switch (c) {
	case OPT_FORMAT: return cli_parse_format("check", arg, &s->format);
	case OPT_STRICT: s->strict = true; return EXIT_OK;
	case OPT_ONLY: s->only = arg; return check_rule_list("--only", arg);
	case OPT_SKIP: s->skip = arg; return check_rule_list("--skip", arg);
	case OPT_TOP: return cli_parse_top("check", "--top", arg, &s->regions);
	case 'o': s->output = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case OPT_NO_CHECKSUM: return EXIT_OK;
	case OPT_MAX_MAP: return parse_max_map_count(s, arg);
	default: return parse_threshold(&s->check, c, arg);
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct check_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_CHECK, "check", argc, argv)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_error("check: what to check? give a snapshot file, '-' or a PID");
	return EXIT_OK;
}

/* ---- checking ---- */

static int run_rules(const struct check_settings *s, snap_check *c, snap_error *err)
{
	size_t n;
	const snap_rule *rules = snap_check_rules(&n);
	for (size_t k = 0; k < n; k++) {
		if ((s->only && !in_list(s->only, rules[k].name)) ||
		    (s->skip && in_list(s->skip, rules[k].name)))
			continue;
		int rc = snap_check_run(c, &rules[k], err);
		if (rc < 0)
			return rc;
	}
	return SNAP_OK;
}

static int write_report(const struct check_settings *s, const snap_check *c,
			const char *label)
{
	fmt_check_opts o = { label, s->regions };
	switch (s->format) {
	case CLI_FORMAT_JSON: return fmt_check_json(stdout, c, &o);
	case CLI_FORMAT_MARKDOWN: return fmt_check_markdown(stdout, c, &o);
	default: return fmt_check_text(stdout, c, &o);
	}
}

/* Returns EXIT_OK, EXIT_GATE (--strict and a warning), or EXIT_ERROR. */
static int check_snapshot(const struct check_settings *s, const snap_snapshot *snap,
			  bool live, const char *arg, const char *label)
{
	snap_check_opts opts = s->check;
	/* A snapshot records the limit it was captured under; a live pid is
	 * read now (the same, from this host). */
	if (!s->max_map_count_given)
		opts.max_map_count = snap->host.max_map_count > 0 ? snap->host.max_map_count
			: live ? cli_host_max_map_count() : 0;
	snap_check *c = NULL;
	snap_error err;
	if (snap_check_new(&c, snap, &opts, &err) < 0 || run_rules(s, c, &err) < 0) {
		snap_check_free(c);
		return cli_error("check: %s: %s", arg, err.message);
	}
	int rc = write_report(s, c, label);
	bool bad = c->by_severity[SNAP_SEV_WARNING] + c->by_severity[SNAP_SEV_ERROR] > 0;
	snap_check_free(c);
	if (rc < 0)
		return cli_error("check: writing the output failed");
	return s->strict && bad ? EXIT_GATE : EXIT_OK;
}

static int check_arg(const struct check_settings *s, const char *arg)
{
	cli_snapshots list = { 0 };
	/* No rule reads smaps_rollup: skip its second page walk. */
	snap_capture_opts capture = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true };
	snap_error err = { 0 };
	char label[600];
	bool live = cli_input_label(label, sizeof(label), arg);
	bool loaded = cli_load_arg(&list, arg, &capture, &err) == 0;
	int status = EXIT_OK;
	for (size_t i = 0; i < list.count && status != EXIT_ERROR; i++) {
		if (i && s->format == CLI_FORMAT_TEXT)
			putchar('\n');
		int rc = check_snapshot(s, list.items[i], live, arg, label);
		if (rc != EXIT_OK)
			status = rc;
	}
	cli_snapshots_free(&list);
	return loaded ? status : cli_report(&err);
}

int cmd_check(int argc, char **argv)
{
	struct check_settings s = { .regions = 5 };
	snap_check_opts_init(&s.check, SNAP_CHECK_OPTS_VERSION);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_stdout_to("check", s.output, s.force) != EXIT_OK)
		return EXIT_ERROR;
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		rc = check_arg(&s, argv[i]);
		if (rc == EXIT_ERROR || (rc == EXIT_GATE && status == EXIT_OK))
			status = rc;
	}
	return status;
}
