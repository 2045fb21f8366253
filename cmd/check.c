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
	for (size_t k = 0; k < n; k++)
		fprintf(f, "  %-20s %s\n", rules[k].name, rules[k].about);
	fputs("\n"
	      "      --format FMT        text (default), json or markdown\n"
	      "      --strict            exit 1 when a warning or an error is found\n"
	      "      --only RULES        run only these rules (comma-separated)\n"
	      "      --skip RULES        do not run these rules\n"
	      "      --regions N         text, markdown: list N regions per finding\n"
	      "                          (default 5; 0: all); JSON lists all\n"
	      "thresholds (defaults in brackets):\n"
	      "      --heap-min SIZE     heap-fragmentation: heaps of SIZE or more [16M]\n"
	      "      --heap-ratio N      ...whose Size is N times their Rss or more [4]\n"
	      "      --small-maps N      ...or N small anonymous regions or more [256]\n"
	      "      --small-size SIZE   ...small meaning at most SIZE [1M]\n"
	      "      --dirty-ratio PCT   private-dirty-ratio: Private_Dirty over PCT%\n"
	      "                          of a region's Size [90]\n"
	      "      --dirty-min SIZE    ...in regions of SIZE or more [64M]\n"
	      "      --swap-ratio PCT    swap-pressure: Swap over PCT% of Rss+Swap [50]\n"
	      "      --swap-min SIZE     ...and at least SIZE of Swap [1M]\n"
	      "      --large-anon SIZE   large-anonymous: unnamed anonymous regions of\n"
	      "                          SIZE or more [256M]\n"
	      "      --thread-stacks N   thread-stacks: a warning above N stacks [256]\n"
	      "      --map-count-ratio PCT  map-count: regions over PCT% of\n"
	      "                          vm.max_map_count [50]\n"
	      "      --max-map-count N   vm.max_map_count [recorded in the snapshot\n"
	      "                          at capture; for a PID read from /proc/sys;\n"
	      "                          unknown in an older file: the rule is skipped]\n"
	      "      --no-checksum       load files without a checksum without a warning\n"
	      "  -h, --help              this help\n"
	      "\n"
	      "Exit status: 0; 1 with --strict when a warning or an error was found;\n"
	      "2 on an error.\n", f);
}

/* ---- option values ---- */

static int parse_kb(int64_t *out, const char *opt, const char *arg)
{
	int64_t bytes;
	if (snap_parse_size(arg, false, &bytes) < 0)
		return cli_error("check: %s takes a size such as 512K, 64M or 1G, not '%s'",
				 opt, arg);
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

enum { OPT_FORMAT = 256, OPT_STRICT, OPT_ONLY, OPT_SKIP, OPT_REGIONS, OPT_HEAP_MIN,
       OPT_HEAP_RATIO, OPT_SMALL_MAPS, OPT_SMALL_SIZE, OPT_DIRTY_RATIO, OPT_DIRTY_MIN,
       OPT_SWAP_RATIO, OPT_SWAP_MIN, OPT_LARGE_ANON, OPT_THREAD_STACKS,
       OPT_MAP_RATIO, OPT_MAX_MAP };

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
	case OPT_REGIONS: return parse_count(&s->regions, "--regions", arg);
	case OPT_MAX_MAP: return parse_max_map_count(s, arg);
	default: return parse_threshold(&s->check, c, arg);
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct check_settings *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "skip", required_argument, NULL, OPT_SKIP },
		{ "regions", required_argument, NULL, OPT_REGIONS },
		{ "heap-min", required_argument, NULL, OPT_HEAP_MIN },
		{ "heap-ratio", required_argument, NULL, OPT_HEAP_RATIO },
		{ "small-maps", required_argument, NULL, OPT_SMALL_MAPS },
		{ "small-size", required_argument, NULL, OPT_SMALL_SIZE },
		{ "dirty-ratio", required_argument, NULL, OPT_DIRTY_RATIO },
		{ "dirty-min", required_argument, NULL, OPT_DIRTY_MIN },
		{ "swap-ratio", required_argument, NULL, OPT_SWAP_RATIO },
		{ "swap-min", required_argument, NULL, OPT_SWAP_MIN },
		{ "large-anon", required_argument, NULL, OPT_LARGE_ANON },
		{ "thread-stacks", required_argument, NULL, OPT_THREAD_STACKS },
		{ "map-count-ratio", required_argument, NULL, OPT_MAP_RATIO },
		{ "max-map-count", required_argument, NULL, OPT_MAX_MAP },
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
			return cli_bad_option("check", argv);
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_error("check: what to check? give a snapshot file, '-' or a PID");
	return EXIT_OK;
}

/* ---- checking ---- */

static int run_rules(const struct check_settings *s, snap_check *c)
{
	size_t n;
	const snap_rule *rules = snap_check_rules(&n);
	for (size_t k = 0; k < n; k++) {
		if ((s->only && !in_list(s->only, rules[k].name)) ||
		    (s->skip && in_list(s->skip, rules[k].name)))
			continue;
		int rc = snap_check_run(c, &rules[k]);
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
	if (snap_check_new(&c, snap, &opts, NULL) < 0 || run_rules(s, c) < 0) {
		snap_check_free(c);
		return cli_error("check: %s: out of memory", arg);
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
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		rc = check_arg(&s, argv[i]);
		if (rc == EXIT_ERROR || (rc == EXIT_GATE && status == EXIT_OK))
			status = rc;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error("check: writing the output failed");
	return status;
}
