#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The whole of a small /proc file into buf (NUL-terminated); its length,
 * or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Messages name files and quote what is wrong in them: the same output
 * filter as the reports keeps escape sequences from the terminal. */
static void vreport(const char *fmt, va_list ap)
{
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	fmt_safe_text(line, len, FMT_SAFE_TAB);
	fprintf(stderr, "mapsnap: %.*s\n", (int)len, line);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return EXIT_ERROR;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

int cli_report(const snap_error *err)
{
	char buf[1100];
	return cli_error("%s", snap_error_format(err, buf, sizeof(buf)));
}

enum cli_color cli_color_mode = CLI_COLOR_AUTO;

bool cli_color_wanted(int fd)
{
	const char *no = getenv("NO_COLOR"), *force = getenv("CLICOLOR_FORCE");
	const char *term = getenv("TERM");
	if (cli_color_mode != CLI_COLOR_AUTO)
		return cli_color_mode == CLI_COLOR_ALWAYS;
	if (no && *no)
		return false;
	if (force && *force && strcmp(force, "0") != 0)
		return true;
	return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

int cli_parse_format(const char *command, const char *arg, enum cli_format *out)
{
	if (strcmp(arg, "text") == 0)
		*out = CLI_FORMAT_TEXT;
	else if (strcmp(arg, "json") == 0)
		*out = CLI_FORMAT_JSON;
	else if (strcmp(arg, "markdown") == 0 || strcmp(arg, "md") == 0)
		*out = CLI_FORMAT_MARKDOWN;
	else
		return cli_error("%s: unknown --format '%s' (text, json, markdown)",
				 command, arg);
	return EXIT_OK;
}

int cli_parse_match(const char *command, const char *arg, enum snap_match_mode *out)
{
	if (strcmp(arg, "auto") == 0)
		*out = SNAP_MATCH_AUTO;
	else if (strcmp(arg, "address") == 0)
		*out = SNAP_MATCH_ADDRESS;
	else if (strcmp(arg, "identity") == 0)
		*out = SNAP_MATCH_IDENTITY;
	else
		return cli_error("%s: unknown --match '%s' (auto, address, identity)",
				 command, arg);
	return EXIT_OK;
}

long cli_host_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long n = 0;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

/* ---- the option vocabulary ---- */

#define ALL_CAPTURES (CLI_CAPTURE | CLI_SERIES | CLI_ALL)
#define READERS (CLI_CONVERT | CLI_SHOW | CLI_DIFF | CLI_TREND | CLI_SUMMARY | \
		 CLI_CHECK | CLI_REPORT)
#define EVERY_COMMAND 0x1fffu
#define REGION_FILTERS (CLI_SHOW | CLI_SUMMARY | CLI_REPORT | CLI_WATCH)
#define REPORTS (CLI_DIFF | CLI_AROUND)
#define REGION_SORTS "rss|pss|size|dirty|swap|anon"

/* Rows sharing a name serve different commands; a row's help says what
 * the option does for all of its commands. The order is the order of
 * the --help texts. */
const cli_option cli_options[] = {
	/* where the output goes */
	{ "output", required_argument, 'o', 'o', CLI_CAPTURE, "FILE|DIR/|-", NULL,
	  "write to FILE, into DIR/ (every missing level is created), or to\n"
	  "stdout (-); default: a file named after the process here", NULL },
	{ "output", required_argument, 'o', 'o', CLI_SERIES, "FILE|-", NULL,
	  "the series file, or - for stdout (required)", NULL },
	{ "output", required_argument, 'o', 'o', CLI_ALL, "DIR/|FILE|-", NULL,
	  "one file per process in DIR/, or one stream of snapshots in FILE\n"
	  "or on stdout (required)", NULL },
	{ "output", required_argument, 'o', 'o', CLI_AROUND, "DIR", NULL,
	  "also write before.json, after.json and diff.json into DIR\n"
	  "(every missing level is created)", NULL },
	{ "output", required_argument, 'o', 'o',
	  CLI_CONVERT | CLI_SHOW | CLI_DIFF | CLI_TREND | CLI_SUMMARY | CLI_CHECK |
	  CLI_RANK, "FILE", NULL,
	  "write to FILE (a temporary file renamed into place when complete)\n"
	  "instead of stdout; - is stdout", NULL },
	{ "output", required_argument, 'o', 'o', CLI_REPORT, "FILE", NULL,
	  "write the page to FILE (default report.html); - for stdout", NULL },
	{ "force", no_argument, 'f', 'f', CLI_CAPTURE | CLI_CONVERT | CLI_SHOW |
	  CLI_DIFF | CLI_TREND | CLI_SUMMARY | CLI_CHECK | CLI_REPORT | CLI_RANK,
	  NULL, NULL, "overwrite an existing output file", NULL },
	{ "force", no_argument, 'f', 'f', CLI_SERIES, NULL, NULL,
	  "start FILE afresh instead of appending to it", NULL },
	{ "force", no_argument, 'f', 'f', CLI_ALL, NULL, NULL,
	  "replace FILE (without --every), or truncate it (with --every)", NULL },
	{ "force", no_argument, 'f', 'f', CLI_AROUND, NULL, NULL,
	  "overwrite the files already in DIR", NULL },

	/* what to print */
	{ "to", required_argument, 't', 't', CLI_CONVERT, "FORMAT", "smaps|json|ndjson",
	  "smaps text, snapshot JSON, or one JSON row per region (required)", NULL },
	{ "format", required_argument, 0, OPT_FORMAT, CLI_DIFF | CLI_AROUND |
	  CLI_TREND | CLI_CHECK, "FMT", "text|json|markdown",
	  "report format (default text; md is markdown)", NULL },
	{ "format", required_argument, 0, OPT_FORMAT, CLI_SUMMARY | CLI_RANK, "FMT",
	  "text|json|markdown|prometheus",
	  "output format (default text); prometheus: the text exposition\n"
	  "format, one set of metrics per process (a DIR of *.json files is\n"
	  "read one file at a time)", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_SHOW, "N", NULL,
	  "only the first N rows (sorted by rss unless --sort says otherwise);\n"
	  "0: all", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_DIFF | CLI_AROUND, "N", NULL,
	  "text/markdown: list the N largest changes (default and 0: all)", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_TREND, "N", NULL,
	  "text/markdown: list N regions besides the suspects (default 10;\n"
	  "0: all)", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_SUMMARY, "N", NULL,
	  "list the N largest regions and N libraries (default 10; 0: all)", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_CHECK, "N", NULL,
	  "text/markdown: list N regions per finding (default 5; 0: all);\n"
	  "JSON lists all", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_WATCH, "N", NULL,
	  "objects listed (batch: default 10; the screen fills its height;\n"
	  "0: all)", NULL },
	{ "top", required_argument, 0, OPT_TOP, CLI_RANK, "N", NULL,
	  "list the first N rows (default: all; 20 for prometheus, the rest\n"
	  "summed as \"(other)\"); 0: all", NULL },
	{ "limit", required_argument, 0, OPT_TOP, CLI_DIFF | CLI_AROUND | CLI_TREND,
	  "N", NULL, NULL, "top" },
	{ "regions", required_argument, 0, OPT_TOP, CLI_CHECK, "N", NULL, NULL, "top" },
	{ "libs", required_argument, 0, OPT_LIBS, CLI_SUMMARY, "N", NULL,
	  "list N libraries, whatever --top says (0: all); JSON lists all", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_SHOW, "KEY", REGION_SORTS,
	  "largest first by KEY (dirty: the Dirty column, Shared_Dirty +\n"
	  "Private_Dirty)", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_DIFF | CLI_AROUND, "KEY",
	  REGION_SORTS,
	  "order changes by KEY (default rss; dirty: Private_Dirty); Pss-only\n"
	  "changes count only with pss", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_SUMMARY, "KEY", REGION_SORTS,
	  "rank regions and libraries by KEY (default rss; dirty:\n"
	  "Private_Dirty)", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_TREND, "KEY", "rss|dirty|size",
	  "what flags a suspect (default rss; dirty: Private_Dirty)", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_WATCH, "KEY",
	  "rss|pss|dirty|swap|growth",
	  "order objects by KEY (default rss; growth: of Rss since the\n"
	  "baseline)", NULL },
	{ "sort", required_argument, 0, OPT_SORT, CLI_RANK, "KEY",
	  "pss|rss|uss|swap|swappss", "order rows by KEY (default pss)", NULL },
	{ "metric", required_argument, 0, OPT_SORT, CLI_DIFF | CLI_AROUND |
	  CLI_SUMMARY | CLI_TREND, "KEY", NULL, NULL, "sort" },
	{ "color", required_argument, 0, OPT_COLOR, CLI_DIFF | CLI_AROUND | CLI_TREND,
	  "WHEN", "auto|always|never",
	  "colour the text report: auto (default) when stdout is a terminal,\n"
	  "TERM is not dumb and NO_COLOR is unset or empty", NULL },

	/* capture */
	{ "name", required_argument, 'n', 'n', CLI_CAPTURE, "NAME", NULL,
	  "every process whose comm (its first 15 bytes) or argv[0]'s base\n"
	  "name is NAME", NULL },
	{ "name", required_argument, 'n', 'n', CLI_SERIES, "NAME", NULL,
	  "the one process named NAME (comm or argv[0], as above)", NULL },
	{ "all", no_argument, 0, OPT_ALL, CLI_ALL, NULL, NULL,
	  "every process this user may read", NULL },
	{ "every", required_argument, 0, OPT_EVERY, CLI_SERIES | CLI_ALL, "DURATION",
	  NULL, "a snapshot (with --all a round) every DURATION: 500ms, 2s, 1m", NULL },
	{ "count", required_argument, 0, OPT_COUNT, CLI_SERIES | CLI_ALL, "N", NULL,
	  "stop after N snapshots (N rounds with --all)", NULL },
	{ "for", required_argument, 0, OPT_FOR, CLI_SERIES | CLI_ALL, "DURATION", NULL,
	  "stop after DURATION", NULL },
	{ "on-change", required_argument, 0, OPT_ON_CHANGE, CLI_SERIES, "SIZE", NULL,
	  "snapshot only when Rss, Pss or Swap moved by SIZE (4M, 512K)\n"
	  "since the last snapshot", NULL },
	{ "redact", no_argument, 0, OPT_REDACT, ALL_CAPTURES, NULL, NULL,
	  "names and paths outside the system directories become keyed\n"
	  "tokens; arguments, hostname, boot_id, uid, gid are dropped", NULL },
	{ "redact-key", required_argument, 0, OPT_REDACT_KEY, ALL_CAPTURES, "FILE",
	  NULL, "with --redact: the key of the tokens, so captures that must be\n"
	  "compared match (created when FILE is missing)", NULL },
	{ "redact-keep", required_argument, 0, OPT_REDACT_KEEP, ALL_CAPTURES, "DIR",
	  NULL, "with --redact: keep paths under DIR too (/opt/vendor)", NULL },
	{ "from-smaps", required_argument, 0, OPT_FROM_SMAPS, CLI_CAPTURE, "FILE|-",
	  NULL, "build the snapshot from saved smaps text (- reads stdin)", NULL },
	{ "proc-files", no_argument, 0, OPT_PROC_FILES, CLI_CAPTURE, NULL, NULL,
	  "with --from-smaps FILE: also read the saved stat, cmdline, comm,\n"
	  "status, smaps_rollup beside it", NULL },
	{ "build-ids", no_argument, 0, OPT_BUILD_IDS, CLI_CAPTURE, NULL, NULL,
	  "with --from-smaps: read the build-ids of the files it names as\n"
	  "they are on this host", NULL },
	{ "no-build-ids", no_argument, 0, OPT_NO_BUILD_IDS, CLI_CAPTURE | CLI_ALL |
	  CLI_SERIES, NULL, NULL, "do not read the mapped files' build-ids", NULL },

	/* show (pmap's options first) */
	{ "extended", no_argument, 'x', 'x', CLI_SHOW, NULL, NULL,
	  "RSS and Dirty columns", NULL },
	{ NULL, no_argument, 'X', 'X', CLI_SHOW, NULL, NULL,
	  "the important smaps fields; -XX: all of them", NULL },
	{ "device", no_argument, 'd', 'd', CLI_SHOW, NULL, NULL,
	  "offset and device columns", NULL },
	{ "quiet", no_argument, 'q', 'q', CLI_SHOW, NULL, NULL,
	  "no column header and no footer", NULL },
	{ "show-path", no_argument, 'p', 'p', CLI_SHOW, NULL, NULL,
	  "full paths instead of file names", NULL },
	{ "range", required_argument, 'A', 'A', CLI_SHOW, "LOW[,HIGH]", NULL,
	  "only mappings overlapping the hex range", NULL },
	{ "human", no_argument, 0, OPT_HUMAN, CLI_SHOW, NULL, NULL,
	  "sizes as 512K, 1.3M, 20G where pmap prints kB (-h is --help, as\n"
	  "in pmap)", NULL },
	{ "explain", no_argument, 0, OPT_EXPLAIN, CLI_SHOW, NULL, NULL,
	  "one row per mapping: its kind and why, what load or .bss it\n"
	  "belongs to, and how the thread stacks were found", NULL },

	/* region filters */
	{ "kind", required_argument, 0, OPT_KIND, REGION_FILTERS, "LIST", NULL,
	  "heap,stack,anon,lib,file,shmem,special (or exact kinds: exe,\n"
	  "thread-stack, arena, anon-named, guard, reserved)", NULL },
	{ "min-size", required_argument, 0, OPT_MIN_SIZE, REGION_FILTERS, "SIZE", NULL,
	  "mappings of at least SIZE (4K, 10M, 1.5G)", NULL },
	{ "max-size", required_argument, 0, OPT_MAX_SIZE, REGION_FILTERS, "SIZE", NULL,
	  "mappings of at most SIZE", NULL },
	{ "path", required_argument, 0, OPT_PATH, REGION_FILTERS, "GLOB", NULL,
	  "named mappings whose path or file name matches GLOB", NULL },

	/* diff, around, trend, report */
	{ "min-change", required_argument, 0, OPT_MIN_CHANGE, REPORTS | CLI_REPORT,
	  "SIZE", NULL, "hide changes smaller than SIZE in Size, Rss, Private_Dirty,\n"
	  "Anonymous and Swap (default 4K)", NULL },
	{ "match", required_argument, 0, OPT_MATCH, REPORTS | CLI_TREND | CLI_REPORT,
	  "HOW", "auto|address|identity",
	  "match regions by address (one process) or by identity (build-id,\n"
	  "path, name, kind and size); default auto", NULL },
	{ "fail-if", required_argument, 0, OPT_FAIL_IF, REPORTS, "EXPR", NULL,
	  "exit 1 when EXPR holds (repeatable), e.g. rss>+10%  rss>+8M\n"
	  "heap.rss>+1M  anon.dirty>+64M  dup-libs>0  new-libs>0\n"
	  "thread-stacks>+0  regions>+100", NULL },
	{ "fail-if", required_argument, 0, OPT_FAIL_IF, CLI_TREND, "EXPR", NULL,
	  "exit 1 when EXPR holds (repeatable): leak-suspects>0\n"
	  "rss.slope>+1M/min  heap.rss.slope>64K/min  regions.slope>10/min,\n"
	  "or a diff expression (rss>+10%) on the first and last snapshots", NULL },
	{ "map-path", required_argument, 0, OPT_MAP_PATH, REPORTS, "OLD=NEW", NULL,
	  "paths under OLD in the old snapshot are under NEW in the new one\n"
	  "(another host, a container); repeatable", NULL },
	{ "min-slope", required_argument, 0, OPT_MIN_SLOPE, CLI_TREND | CLI_REPORT,
	  "RATE", NULL, "slowest growth that is a leak (default 16K/min); units /s,\n"
	  "/min, /h", NULL },
	{ "min-points", required_argument, 0, OPT_MIN_POINTS, CLI_TREND, "N", NULL,
	  "snapshots a region needs to be judged (default 5)", NULL },
	{ "ascii", no_argument, 0, OPT_ASCII, CLI_TREND | CLI_WATCH, NULL, NULL,
	  "ASCII sparklines instead of Unicode blocks", NULL },
	{ "timing", no_argument, 0, OPT_TIMING, CLI_TREND, NULL, NULL,
	  "print the time spent loading, matching and judging, and reporting\n"
	  "on stderr", NULL },

	/* check */
	{ "strict", no_argument, 0, OPT_STRICT, CLI_CHECK, NULL, NULL,
	  "exit 1 when a warning or an error is found", NULL },
	{ "only", required_argument, 0, OPT_ONLY, CLI_CHECK, "RULES", NULL,
	  "run only these rules (comma-separated)", NULL },
	{ "skip", required_argument, 0, OPT_SKIP, CLI_CHECK, "RULES", NULL,
	  "do not run these rules", NULL },
	{ "heap-min", required_argument, 0, OPT_HEAP_MIN, CLI_CHECK, "SIZE", NULL,
	  "heap-fragmentation: heaps of SIZE or more [16M]", NULL },
	{ "heap-ratio", required_argument, 0, OPT_HEAP_RATIO, CLI_CHECK, "N", NULL,
	  "...whose Size is N times their Rss or more [4]", NULL },
	{ "small-maps", required_argument, 0, OPT_SMALL_MAPS, CLI_CHECK, "N", NULL,
	  "...or N small anonymous regions or more [256]", NULL },
	{ "small-size", required_argument, 0, OPT_SMALL_SIZE, CLI_CHECK, "SIZE", NULL,
	  "...small meaning at most SIZE [1M]", NULL },
	{ "dirty-ratio", required_argument, 0, OPT_DIRTY_RATIO, CLI_CHECK, "PCT", NULL,
	  "private-dirty-ratio: Private_Dirty over PCT% of a region's Size [90]",
	  NULL },
	{ "dirty-min", required_argument, 0, OPT_DIRTY_MIN, CLI_CHECK, "SIZE", NULL,
	  "...in regions of SIZE or more [64M]", NULL },
	{ "swap-ratio", required_argument, 0, OPT_SWAP_RATIO, CLI_CHECK, "PCT", NULL,
	  "swap-pressure: Swap over PCT% of Rss+Swap [50]", NULL },
	{ "swap-min", required_argument, 0, OPT_SWAP_MIN, CLI_CHECK, "SIZE", NULL,
	  "...and at least SIZE of Swap [1M]", NULL },
	{ "large-anon", required_argument, 0, OPT_LARGE_ANON, CLI_CHECK, "SIZE", NULL,
	  "large-anonymous: unnamed anonymous regions of SIZE or more [256M]",
	  NULL },
	{ "thread-stacks", required_argument, 0, OPT_THREAD_STACKS, CLI_CHECK, "N",
	  NULL, "thread-stacks: a warning above N stacks [256]", NULL },
	{ "map-count-ratio", required_argument, 0, OPT_MAP_RATIO, CLI_CHECK, "PCT",
	  NULL, "map-count: regions over PCT% of vm.max_map_count [50]", NULL },
	{ "max-map-count", required_argument, 0, OPT_MAX_MAP, CLI_CHECK, "N", NULL,
	  "vm.max_map_count [recorded in the snapshot; for a PID read from\n"
	  "/proc/sys; unknown in an older file: the rule is skipped]", NULL },

	/* watch */
	{ "interval", required_argument, 0, OPT_INTERVAL, CLI_WATCH, "DURATION", NULL,
	  "time between refreshes (default 1s; 500ms, 2s)", NULL },
	{ "batch", no_argument, 0, OPT_BATCH, CLI_WATCH, NULL, NULL,
	  "plain text even on a terminal", NULL },
	{ "count", required_argument, 0, OPT_COUNT, CLI_WATCH, "N", NULL,
	  "stop after N refreshes", NULL },
	{ "save-dir", required_argument, 0, OPT_SAVE_DIR, CLI_WATCH, "DIR", NULL,
	  "where w writes its snapshots (default: .)", NULL },

	/* rank */
	{ "libs", no_argument, 0, OPT_LIBS, CLI_RANK, NULL, NULL,
	  "one row per library (by build-id, else by path): processes mapping\n"
	  "it, its Rss, Pss and private memory summed over them", NULL },
	{ "by", required_argument, 0, OPT_BY, CLI_RANK, "WHAT", "user|comm",
	  "one row per user or per command", NULL },
	{ "rollup", no_argument, 0, OPT_ROLLUP, CLI_RANK, NULL, NULL,
	  "live processes: read only smaps_rollup (totals, no kinds; several\n"
	  "times faster)", NULL },

	/* everywhere */
	{ "no-checksum", no_argument, 0, OPT_NO_CHECKSUM, READERS, NULL, NULL,
	  "load files without a checksum without a warning", NULL },
	{ "help", no_argument, 'h', 'h', EVERY_COMMAND, NULL, NULL, "this help", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL },
};

static bool row_end(const cli_option *o)
{
	return !o->name && !o->letter;
}

static const cli_option *find_alias_target(const cli_option *alias, unsigned command)
{
	for (const cli_option *o = cli_options; !row_end(o); o++)
		if (!o->alias_of && (o->commands & command) && o->name &&
		    strcmp(o->name, alias->alias_of) == 0)
			return o;
	return NULL;
}

static struct option getopt_longs[128];
static char getopt_shorts[64];
static unsigned getopt_built;

static void build_getopt(unsigned command)
{
	size_t nl = 0, ns = 0;
	if (getopt_built == command)
		return;
	getopt_shorts[ns++] = ':'; /* a missing value returns ':' */
	for (const cli_option *o = cli_options; !row_end(o); o++) {
		if (!(o->commands & command))
			continue;
		if (o->name && nl + 1 < sizeof(getopt_longs) / sizeof(*getopt_longs))
			getopt_longs[nl++] = (struct option){ o->name, o->has_arg, NULL, o->id };
		if (o->letter && !strchr(getopt_shorts + 1, o->letter) &&
		    ns + 3 < sizeof(getopt_shorts)) {
			getopt_shorts[ns++] = (char)o->letter;
			if (o->has_arg)
				getopt_shorts[ns++] = ':';
		}
	}
	getopt_longs[nl] = (struct option){ NULL, 0, NULL, 0 };
	getopt_shorts[ns] = '\0';
	getopt_built = command;
}

/* "mapsnap show: ..." on stderr: the command's own words. */
static int command_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int command_error(const char *name, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return cli_error("%s: %s", name, line);
}

static int bad_option(const char *name, int c, char **argv)
{
	const char *arg = argv[optind - 1];
	char word[128];
	if (arg && arg[0] == '-' && arg[1] == '-') {
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg, "="), arg);
	} else {
		snprintf(word, sizeof(word), "-%c", optopt ? optopt : '?');
	}
	if (c == ':')
		command_error(name, "option '%s' needs a value (see 'mapsnap %s --help')",
			      word, name);
	else
		command_error(name, "unknown option '%s' (see 'mapsnap %s --help')", word,
			      name);
	return '?';
}

/* The option as the user spelled it ("--limit" for --top), for errors. */
static char typed[64];

int cli_getopt(unsigned command, const char *name, int argc, char **argv)
{
	int index = -1;
	build_getopt(command);
	opterr = 0;
	int c = getopt_long(argc, argv, getopt_shorts, getopt_longs, &index);
	if (index >= 0)
		snprintf(typed, sizeof(typed), "--%s", getopt_longs[index].name);
	else
		snprintf(typed, sizeof(typed), "-%c", c);
	if (c == '?' || c == ':')
		return bad_option(name, c, argv);
	if (c == OPT_NO_CHECKSUM)
		cli_no_checksum = true;
	return c;
}

#define HELP_COLUMN 28
#define HELP_WIDTH 79

/* The left column, then help as one paragraph wrapped at HELP_WIDTH. */
void cli_print_row(FILE *f, const char *left, const char *help)
{
	int col = fprintf(f, "%s", left);
	const char *w = help ? help : "";
	bool first = true;
	if (col >= HELP_COLUMN) {
		fputc('\n', f);
		col = 0;
	}
	while (*w) {
		while (*w == ' ' || *w == '\n')
			w++;
		int len = (int)strcspn(w, " \n");
		if (!len)
			break;
		if (first || col + 1 + len > HELP_WIDTH) {
			if (!first)
				fputc('\n', f);
			col = first ? col : 0;
			col += fprintf(f, "%*s", HELP_COLUMN - col, "");
		} else {
			col += fprintf(f, " ");
		}
		col += fprintf(f, "%.*s", len, w);
		first = false;
		w += len;
	}
	fputc('\n', f);
}

static void left_column(char *buf, size_t size, const cli_option *o)
{
	if (!o->name)
		snprintf(buf, size, "  -%c", o->letter);
	else if (o->letter)
		snprintf(buf, size, "  -%c, --%s%s%s", o->letter, o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, size, "      --%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
}

static void print_values(FILE *f, const char *values)
{
	char line[256];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s: ", "one of");
	for (const char *v = values; *v && n + 3 < sizeof(line); v++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s",
				      *v == '|' ? ", " : (char[]){ *v, 0 });
	cli_print_row(f, "", line);
}

void cli_print_options(FILE *f, unsigned command, unsigned except)
{
	char left[128], help[160];
	for (const cli_option *o = cli_options; !row_end(o); o++) {
		if (!(o->commands & command) || (o->commands & except) || o->alias_of)
			continue;
		left_column(left, sizeof(left), o);
		cli_print_row(f, left, o->help);
		if (o->values)
			print_values(f, o->values);
		for (const cli_option *a = cli_options; !row_end(a); a++) {
			if (!a->alias_of || !(a->commands & command) ||
			    find_alias_target(a, command) != o)
				continue;
			left_column(left, sizeof(left), a);
			snprintf(help, sizeof(help), "the same as --%s (an older spelling)",
				 o->name);
			cli_print_row(f, left, help);
		}
	}
}

static const cli_option *row_of(unsigned command, int id)
{
	for (const cli_option *o = cli_options; !row_end(o); o++)
		if (o->id == id && (o->commands & command) && !o->alias_of)
			return o;
	return NULL;
}

int cli_pick(unsigned command, const char *name, int id, const char *arg)
{
	const cli_option *o = row_of(command, id);
	if (!o || !o->values)
		return -1;
	int index = 0;
	for (const char *v = o->values;; index++) {
		size_t len = strcspn(v, "|");
		if (strlen(arg) == len && strncmp(v, arg, len) == 0)
			return index;
		if (!v[len])
			break;
		v += len + 1;
	}
	char list[200];
	size_t n = 0;
	for (const char *v = o->values; *v && n + 3 < sizeof(list); v++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s",
				      *v == '|' ? ", " : (char[]){ *v, 0 });
	command_error(name, "%s takes %s, not '%s'", typed[0] ? typed : o->name, list, arg);
	return -1;
}

static const char *const command_names[] = {
	"capture", "capture --every", "capture --all", "convert", "show", "diff",
	"around", "trend", "summary", "check", "report", "watch", "rank",
};

void cli_list_options(FILE *f)
{
	for (const cli_option *o = cli_options; !row_end(o); o++)
		for (unsigned k = 0; k < sizeof(command_names) / sizeof(*command_names); k++) {
			if (!(o->commands & (1u << k)))
				continue;
			fprintf(f, "%s\t%s%s\t%c\t%s\t%s\t%s\n", command_names[k],
				o->name ? "--" : "", o->name ? o->name : "-",
				o->letter ? o->letter : '-', o->has_arg ? o->arg : "-",
				o->values ? o->values : "-",
				o->alias_of ? o->alias_of : "-");
		}
}

int cli_gate_complete(const char *name, const char *expr)
{
	const char *op = strpbrk(expr, "<>");
	if (!op)
		return EXIT_OK; /* the parser says what is missing */
	size_t oplen = op[1] == '=' ? 2 : 1;
	const char *lhs = expr, *rhs = op + oplen;
	while (lhs < op && isspace((unsigned char)*lhs))
		lhs++;
	while (*rhs && isspace((unsigned char)*rhs))
		rhs++;
	if (lhs == op)
		return command_error(name, "--fail-if '%s': what to compare is missing before "
				     "'%.*s' (e.g. rss%.*s+10%%)", expr, (int)oplen, op,
				     (int)oplen, op);
	if (!*rhs)
		return command_error(name, "--fail-if '%s': the limit is missing after "
				     "'%.*s' (e.g. %.*s+10%%, %.*s+8M, %.*s0)", expr, (int)oplen,
				     op, (int)(op - expr + oplen), expr, (int)(op - expr + oplen),
				     expr, (int)(op - expr + oplen), expr);
	return EXIT_OK;
}

int cli_parse_top(const char *name, const char *opt, const char *arg, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || n > SIZE_MAX / 2)
		return command_error(name, "%s takes a number (0: all), not '%s'",
				     typed[0] ? typed : opt, arg);
	*out = (size_t)n;
	return EXIT_OK;
}

/* ---- stdout ---- */

static cli_output stdout_file;
static bool stdout_redirected;

int cli_stdout_to(const char *name, const char *path, bool force)
{
	snap_error err = { 0 };
	if (!path || strcmp(path, "-") == 0)
		return EXIT_OK;
	if (cli_output_open(&stdout_file, path, force, &err) < 0)
		return cli_report(&err);
	fflush(stdout);
	if (dup2(fileno(stdout_file.f), STDOUT_FILENO) < 0) {
		int e = errno;
		cli_output_discard(&stdout_file);
		return command_error(name, "%s: %s", path, strerror(e));
	}
	stdout_redirected = true;
	return EXIT_OK;
}

int cli_stdout_finish(const char *name, int status)
{
	snap_error err = { 0 };
	errno = 0;
	bool failed = fflush(stdout) != 0 || ferror(stdout);
	int e = errno ? errno : EIO;
	if (stdout_redirected) {
		stdout_redirected = false;
		if (failed || status == EXIT_ERROR) {
			cli_output_discard(&stdout_file);
			return failed ? command_error(name, "%s: write failed: %s",
						      stdout_file.path ? stdout_file.path
								       : "output",
						      strerror(e))
				      : status;
		}
		if (cli_output_commit(&stdout_file, &err) < 0)
			return cli_report(&err);
		return status;
	}
	if (failed)
		return command_error(name, "writing to stdout failed: %s", strerror(e));
	return status;
}

/* ---- redaction ---- */

int cli_redaction_keep(cli_redaction *c, const char *dir)
{
	if (dir[0] != '/' || strcmp(dir, "/") == 0)
		return cli_error("capture: --redact-keep wants an absolute directory "
				 "such as /opt/vendor, not '%s'", dir);
	if (c->nkeep == CLI_REDACT_KEEP_MAX)
		return cli_error("capture: at most %d --redact-keep directories",
				 CLI_REDACT_KEEP_MAX);
	c->keep[c->nkeep++] = dir;
	return EXIT_OK;
}

int cli_redaction_ready(cli_redaction *c, snap_capture_opts *opts)
{
	snap_error err = { 0 };
	bool created = false;
	if ((c->key_file || c->nkeep) && !opts->redact)
		return cli_error("capture: --redact-key and --redact-keep go with --redact");
	if (!opts->redact)
		return EXIT_OK;
	int rc = c->key_file ? snap_redact_key_file(&c->r, c->key_file, &created, &err)
			     : snap_redact_random(&c->r, &err);
	if (rc < 0)
		return c->key_file ? cli_report(&err) : cli_error("capture: %s", err.message);
	if (created)
		cli_warn("%s: a new redaction key; pass it to every capture that must "
			 "compare with this one, and keep it private", c->key_file);
	c->r.keep = c->keep;
	c->r.nkeep = c->nkeep;
	opts->redaction = &c->r;
	return EXIT_OK;
}

/* ---- inputs ---- */

int cli_snapshots_push(cli_snapshots *list, snap_snapshot *snap)
{
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		snap_snapshot **grown = realloc(list->items, cap * sizeof(*grown));
		if (!grown)
			return SNAP_ENOMEM;
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count++] = snap;
	return SNAP_OK;
}

void cli_snapshots_free(cli_snapshots *list)
{
	for (size_t i = 0; i < list->count; i++)
		snap_snapshot_free(list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* pmap's "/proc/PID": the process, not the directory. */
static bool proc_path(const char *arg)
{
	long ignored;
	return strncmp(arg, "/proc/", 6) == 0 && cli_is_pid(arg, &ignored);
}

/* As pmap 4.0.2 reads a PID: "/proc/" may come first, then a digit, and
 * strtoul(s, 0) takes it (0x1a2b is hex, 013435 octal). */
bool cli_is_pid(const char *arg, long *pid)
{
	const char *s = strncmp(arg, "/proc/", 6) == 0 ? arg + 6 : arg;
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || v < 1 || v > 0x7fffffff)
		return false;
	*pid = (long)v;
	return true;
}

bool cli_is_live_pid(const char *arg, long *pid)
{
	long ignored;
	return (proc_path(arg) || access(arg, F_OK) != 0) &&
	       cli_is_pid(arg, pid ? pid : &ignored);
}

long cli_tgid(long pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return pid;
	const char *t = strstr(buf, "\nTgid:");
	long tgid = t ? strtol(t + 7, NULL, 10) : 0;
	return tgid > 0 ? tgid : pid;
}

bool cli_input_label(char *buf, size_t size, const char *arg)
{
	long pid;
	bool live = cli_is_live_pid(arg, &pid);
	if (live)
		snprintf(buf, size, "pid %ld", pid);
	else
		snprintf(buf, size, "%s", arg);
	return live;
}

int cli_peek_content(FILE *f)
{
	int c;
	while ((c = getc(f)) != EOF && isspace(c))
		;
	if (c != EOF)
		ungetc(c, f);
	return c;
}

bool cli_no_checksum;

static int load_json_stream(cli_snapshots *list, FILE *f, const char *source,
			    snap_error *err)
{
	size_t before = list->count, unchecked = 0;
	for (;;) {
		snap_snapshot *snap;
		int rc = fmt_json_load(&snap, f, source, err);
		if (rc == 1)
			break;
		if (rc == SNAP_ETRUNC && list->count > before) {
			cli_warn("%s: the last snapshot is cut off (its writer was "
				 "stopped mid-write); using the %zu complete ones", source,
				 list->count - before);
			break;
		}
		if (rc < 0)
			return rc;
		if (cli_snapshots_push(list, snap) < 0) {
			snap_snapshot_free(snap);
			return snap_error_set(err, SNAP_ENOMEM, source, 0, "out of memory");
		}
		if (fmt_checksum_mismatch(snap))
			cli_warn("%s: checksum mismatch: the snapshot was edited or "
				 "corrupted", source);
		unchecked += !snap->has_stored_checksum;
	}
	if (unchecked && !cli_no_checksum)
		cli_warn("%s: no checksum, so edits and corruption cannot be detected "
			 "(--no-checksum accepts such files silently)", source);
	if (list->count == before)
		return snap_error_set(err, SNAP_EFORMAT, source, 0, "no snapshot in it");
	return 0;
}

/* Raw smaps text (a user ran `cat /proc/PID/smaps > FILE`). */
static int load_smaps_text(cli_snapshots *list, FILE *f, const char *source,
			   snap_error *err)
{
	snap_snapshot *snap;
	snap_error why;
	int rc = snap_snapshot_new(&snap, &why);
	if (rc < 0)
		return snap_error_set(err, rc, source, 0, "%s", why.message);
	snap_parser *p = NULL;
	char *buf = malloc(1 << 16);
	if (!buf) {
		rc = snap_error_set(err, SNAP_ENOMEM, source, 0, "out of memory");
		goto out;
	}
	if ((rc = snap_parser_new(&p, snap, source, NULL, NULL, err)) < 0)
		goto out;
	size_t n;
	while ((n = fread(buf, 1, 1 << 16, f)) > 0)
		if ((rc = snap_parser_feed(p, buf, n, err)) != 0)
			goto out;
	if (ferror(f)) {
		rc = snap_error_set(err, SNAP_EIO, source, 0, "read failed");
		goto out;
	}
	if ((rc = snap_parser_finish(p, err)) != 0)
		goto out;
	snap->tool = "mapsnap " SNAP_VERSION_STRING;
	snap->source = "smaps-file";
	rc = cli_snapshots_push(list, snap);
	if (rc == 0)
		snap = NULL;
out:
	free(buf);
	snap_parser_free(p);
	snap_snapshot_free(snap);
	return rc;
}

static int load_stream(cli_snapshots *list, FILE *f, const char *source,
		       snap_error *err)
{
	int c = cli_peek_content(f);
	if (c == EOF)
		return snap_error_set(err, SNAP_EFORMAT, source, 0,
				      ferror(f) ? "read failed" : "empty input");
	if (c == '{' || c == '[')
		return load_json_stream(list, f, source, err);
	if (isxdigit(c))
		return load_smaps_text(list, f, source, err);
	return snap_error_set(err, SNAP_EFORMAT, source, 0,
			      "neither a snapshot (JSON) nor smaps text");
}

void cli_capture_env(snap_capture_opts *opts)
{
	const char *v = getenv("MAPSNAP_NO_PROCMAP_QUERY");
	if (v && strcmp(v, "1") == 0)
		opts->no_procmap_query = true;
}

int cli_load_arg(cli_snapshots *list, const char *arg,
		 const snap_capture_opts *capture, snap_error *err)
{
	long pid;
	struct stat st;
	if (strcmp(arg, "-") == 0)
		return load_stream(list, stdin, "<stdin>", err);
	if (!proc_path(arg) && stat(arg, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return snap_error_set(err, SNAP_EINVAL, arg, 0, "is a directory");
		FILE *f = fopen(arg, "r");
		if (!f)
			return snap_error_set(err, SNAP_EIO, arg, 0, "%s", strerror(errno));
		int rc = load_stream(list, f, arg, err);
		fclose(f);
		return rc;
	}
	if (!cli_is_pid(arg, &pid))
		return snap_error_set(err, SNAP_EINVAL, arg, 0,
				      "no such file, and not a process id");
	snap_capture_opts opts = capture ? *capture : (snap_capture_opts){ .version = SNAP_CAPTURE_OPTS_VERSION };
	cli_capture_env(&opts);
	snap_snapshot *snap;
	/* a thread id stands for its process, as in pmap */
	int rc = snap_capture(&snap, (pid_t)cli_tgid(pid), &opts, err);
	if (rc < 0)
		return rc;
	if (cli_snapshots_push(list, snap) < 0) {
		snap_snapshot_free(snap);
		return snap_error_set(err, SNAP_ENOMEM, arg, 0, "out of memory");
	}
	return 0;
}

/* ---- --name ---- */

/* comm is the first 15 bytes of the program's name; argv[0]'s base name
 * is what ps -f and pgrep -f users see. */
static bool named(long pid, const char *name)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n >= 0 && strcmp(buf, name) == 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	return strcmp(base_of(buf), name) == 0; /* argv[0] ends at its NUL */
}

int cli_find_pids_by_name(const char *name, pid_t **out, size_t *count)
{
	DIR *d = opendir("/proc");
	size_t n = 0, cap = 0;
	pid_t *pids = NULL;
	struct dirent *de;
	if (!d)
		return cli_error("/proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		long pid;
		if (!cli_is_pid(de->d_name, &pid) || !named(pid, name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			pid_t *grown = realloc(pids, cap * sizeof(*grown));
			if (!grown) {
				closedir(d);
				free(pids);
				return cli_error("out of memory");
			}
			pids = grown;
		}
		pids[n++] = (pid_t)pid;
	}
	closedir(d);
	if (n > 1)
		qsort(pids, n, sizeof(*pids), by_pid);
	*out = pids;
	*count = n;
	return EXIT_OK;
}

int cli_no_such_name(const char *command, const char *name)
{
	if (strlen(name) > 15)
		return cli_error("%s: no process named '%s': a comm holds only its first "
				 "15 bytes ('%.15s'), and no argv[0] is named so either",
				 command, name, name);
	return cli_error("%s: no process named '%s' (neither comm nor argv[0])", command,
			 name);
}

/* ---- stop signals ---- */

#define CLEANUP_SLOTS 8

static enum cli_stop_mode stop_mode;
static bool signals_ready;
static volatile sig_atomic_t stop_signal;
static char cleanup_paths[CLEANUP_SLOTS][PATH_MAX];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];
static char cleanup_dir_path[PATH_MAX];
static volatile sig_atomic_t cleanup_dir_set;
static volatile sig_atomic_t cleanup_child_pid;

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

void cli_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(*stop_sigs); i++)
		sigaddset(set, stop_sigs[i]);
}

const char *cli_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM"
		: sig == SIGHUP ? "SIGHUP" : "a signal";
}

int cli_stop_signal(void)
{
	return stop_signal;
}

/* Only async-signal-safe calls here. */
static void on_stop(int sig, siginfo_t *info, void *context)
{
	(void)context;
	int saved = errno;
	if (stop_mode == CLI_STOP_FLAG) {
		stop_signal = sig;
		errno = saved;
		return;
	}
	pid_t child = (pid_t)cleanup_child_pid;
	if (child > 0) {
		/* The terminal signals the whole process group: the command
		 * has its own copy already (SI_KERNEL). */
		if (info->si_code != SI_KERNEL)
			kill(child, sig);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (cleanup_used[i])
			unlink(cleanup_paths[i]);
	if (cleanup_dir_set)
		rmdir(cleanup_dir_path);
	/* Die by the signal, as the shell expects of an interrupted command:
	 * it stays pending (blocked in here) and kills on return. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

void cli_signals_init(enum cli_stop_mode mode)
{
	struct sigaction sa = { .sa_sigaction = on_stop, .sa_flags = SA_SIGINFO };
	stop_mode = mode;
	if (signals_ready)
		return;
	signals_ready = true;
	cli_stop_signals(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(*stop_sigs); i++) {
		struct sigaction old;
		if (sigaction(stop_sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue; /* nohup, or `cmd &` in a script: keep it ignored */
		sigaction(stop_sigs[i], &sa, NULL);
	}
}

/* The cleanup list changes with the stop signals blocked, so that the
 * handler never sees half a path. */
static void block_stops(sigset_t *old)
{
	sigset_t set;
	cli_stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

int cli_cleanup_file(const char *path)
{
	sigset_t old;
	int slot = -1;
	if (!signals_ready)
		cli_signals_init(CLI_STOP_CLEANUP);
	block_stops(&old);
	for (int i = 0; i < CLEANUP_SLOTS && slot < 0; i++)
		if (!cleanup_used[i] && strlen(path) < PATH_MAX) {
			snprintf(cleanup_paths[i], PATH_MAX, "%s", path);
			cleanup_used[i] = 1;
			slot = i;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return slot;
}

void cli_cleanup_forget(int slot)
{
	if (slot >= 0 && slot < CLEANUP_SLOTS)
		cleanup_used[slot] = 0;
}

void cli_cleanup_dir(const char *path)
{
	sigset_t old;
	if (!signals_ready)
		cli_signals_init(CLI_STOP_CLEANUP);
	block_stops(&old);
	cleanup_dir_set = 0;
	if (path && strlen(path) < PATH_MAX) {
		snprintf(cleanup_dir_path, PATH_MAX, "%s", path);
		cleanup_dir_set = 1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void cli_cleanup_child(pid_t pid)
{
	cleanup_child_pid = pid;
}

/* ---- outputs ---- */

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}


int cli_make_dirs(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		bool end = *p == '\0';
		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		if (end || p[1] == '\0')
			return 0;
		*p = '/';
	}
}

int cli_sync_dir_of(const char *path)
{
	char *dir = dir_of(path);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	free(dir);
	if (fd < 0)
		return -1;
	/* Some file systems cannot sync a directory: nothing to wait for. */
	int rc = fsync(fd) != 0 && errno != EINVAL && errno != EROFS ? -1 : 0;
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* An unnamed file in dir; -1 with errno when the file system has none. */
static int open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
	return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
	(void)dir;
	errno = EOPNOTSUPP;
	return -1;
#endif
}

/* A hidden temporary file beside path, named in out->tmp and put on the
 * signal cleanup list. */
static int open_named(cli_output *out, const char *dir)
{
	if (asprintf(&out->tmp, "%s/.%s.XXXXXX", dir, base_of(out->path)) < 0) {
		out->tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	sigset_t old;
	block_stops(&old);
	int fd = mkostemp(out->tmp, O_CLOEXEC);
	int e = errno;
	if (fd >= 0) {
		out->cleanup_slot = cli_cleanup_file(out->tmp);
		mode_t mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
	} else {
		free(out->tmp);
		out->tmp = NULL;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return fd;
}

static void output_free(cli_output *out)
{
	free(out->tmp);
	free(out->path);
	free(out->buffer);
	memset(out, 0, sizeof(*out));
	out->cleanup_slot = -1;
}

int cli_output_open(cli_output *out, const char *path, bool force,
		    snap_error *err)
{
	memset(out, 0, sizeof(*out));
	out->cleanup_slot = -1;
	if (strcmp(path, "-") == 0) {
		out->f = stdout;
		out->to_stdout = true;
		return 0;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		/* Renaming over a device or a link would replace it, not
		 * write into it. */
		if (!S_ISREG(st.st_mode))
			return snap_error_set(err, SNAP_EEXIST, path, 0,
					      "exists and is not a regular file");
		if (!force)
			return snap_error_set(err, SNAP_EEXIST, path, 0,
					      "already exists (use --force to overwrite)");
	}
	char *dir = dir_of(path);
	out->force = force;
	out->path = strdup(path);
	if (!dir || !out->path) {
		free(dir);
		output_free(out);
		return snap_error_set(err, SNAP_ENOMEM, path, 0, "out of memory");
	}
	int fd = open_unnamed(dir);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = open_named(out, dir);
	int e = errno;
	free(dir);
	if (fd < 0) {
		output_free(out);
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot create: %s",
				      strerror(e));
	}
	out->f = fdopen(fd, "w");
	if (!out->f) {
		close(fd);
		cli_output_discard(out);
		return snap_error_set(err, SNAP_ENOMEM, path, 0, "out of memory");
	}
	/* glibc ignores the size when it allocates the buffer itself. */
	if ((out->buffer = malloc(1 << 20)))
		setvbuf(out->f, out->buffer, _IOFBF, 1 << 20);
	return 0;
}

static int finish_write(cli_output *out)
{
	int rc = fflush(out->f) != 0 || ferror(out->f) ? -1 : 0;
	if (rc == 0 && fsync(fileno(out->f)) != 0 && errno != EINVAL)
		rc = -1;
	return rc;
}

/* Gives the unnamed file fd the name path; EEXIST when path exists. */
static int link_unnamed(int fd, const char *path)
{
	char proc[64];
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not. */
	if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

/* Replaces path with the unnamed file: a name of its own first (the
 * caller blocks the stop signals), then one rename over the target. */
static int replace_with_unnamed(int fd, const char *path)
{
	char *dir = dir_of(path), *tmp = NULL;
	int rc = -1;
	for (unsigned n = 0; dir && n < 100 && rc < 0; n++) {
		free(tmp);
		if (asprintf(&tmp, "%s/.%s.%ld.%u", dir, base_of(path), (long)getpid(), n) < 0) {
			tmp = NULL;
			break;
		}
		rc = link_unnamed(fd, tmp);
		if (rc < 0 && errno != EEXIST)
			break;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		rc = -1;
	}
	free(dir);
	free(tmp);
	return rc;
}

static int put_in_place(cli_output *out, bool force)
{
	int fd = fileno(out->f);
	if (out->tmp)
		return force ? rename(out->tmp, out->path)
			     : fmt_rename_noreplace(out->tmp, out->path);
	return force ? replace_with_unnamed(fd, out->path) : link_unnamed(fd, out->path);
}

int cli_output_commit(cli_output *out, snap_error *err)
{
	if (out->to_stdout) {
		int rc = fflush(stdout) != 0 || ferror(stdout);
		memset(out, 0, sizeof(*out));
		return rc ? snap_error_set(err, SNAP_EIO, "<stdout>", 0,
					   "write failed: %s", strerror(errno))
			  : 0;
	}
	if (finish_write(out) < 0) {
		int e = errno;
		snap_error_set(err, SNAP_EIO, out->path, 0, "write failed: %s",
			       strerror(e ? e : EIO));
		cli_output_discard(out);
		return SNAP_EIO;
	}
	sigset_t old;
	block_stops(&old);
	int rc = put_in_place(out, out->force);
	int e = errno;
	if (rc == 0 && out->tmp) {
		cli_cleanup_forget(out->cleanup_slot);
		out->cleanup_slot = -1;
		free(out->tmp);
		out->tmp = NULL;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		if (e == EEXIST)
			snap_error_set(err, SNAP_EEXIST, out->path, 0,
				       "was created by someone else while mapsnap "
				       "wrote it; left as it is (use --force to "
				       "overwrite)");
		else
			snap_error_set(err, SNAP_EIO, out->path, 0,
				       "cannot put into place: %s", strerror(e));
		cli_output_discard(out);
		return e == EEXIST ? SNAP_EEXIST : SNAP_EIO;
	}
	cli_sync_dir_of(out->path);
	fclose(out->f);
	output_free(out);
	return 0;
}

void cli_output_discard(cli_output *out)
{
	if (out->to_stdout) {
		fflush(stdout);
		memset(out, 0, sizeof(*out));
		return;
	}
	if (out->f)
		fclose(out->f); /* an unnamed file goes with its last descriptor */
	if (out->tmp) {
		unlink(out->tmp);
		cli_cleanup_forget(out->cleanup_slot);
	}
	output_free(out);
}

/* ---- streaming inputs ---- */

static int each_in_stream(FILE *f, const char *source, cli_snapshot_fn fn,
			  void *ctx, snap_error *err)
{
	int c = cli_peek_content(f);
	if (c == EOF)
		return snap_error_set(err, SNAP_EFORMAT, source, 0,
				      ferror(f) ? "read failed" : "empty input");
	if (c != '{' && c != '[') {
		cli_snapshots one = { 0 };
		int rc = load_stream(&one, f, source, err);
		for (size_t i = 0; rc == 0 && i < one.count; i++)
			rc = fn(ctx, one.items[i], source);
		cli_snapshots_free(&one);
		return rc;
	}
	for (size_t n = 0;; n++) {
		snap_snapshot *snap;
		int rc = fmt_json_load(&snap, f, source, err);
		if (rc == 1 && n == 0)
			return snap_error_set(err, SNAP_EFORMAT, source, 0, "no snapshot in it");
		if (rc == 1)
			return 0;
		if (rc == SNAP_ETRUNC && n) {
			cli_warn("%s: the last snapshot is cut off (its writer was stopped "
				 "mid-write); using the %zu complete ones", source, n);
			return 0;
		}
		if (rc < 0)
			return rc;
		if (fmt_checksum_mismatch(snap))
			cli_warn("%s: checksum mismatch: the snapshot was edited or "
				 "corrupted", source);
		rc = fn(ctx, snap, source);
		snap_snapshot_free(snap);
		if (rc)
			return rc;
	}
}

static int each_in_file(const char *path, cli_snapshot_fn fn, void *ctx,
			snap_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return snap_error_set(err, SNAP_EIO, path, 0, "%s", strerror(errno));
	int rc = each_in_stream(f, path, fn, ctx, err);
	fclose(f);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool snapshot_file_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int list_json_files(const char *dir, char ***out, size_t *count,
			   snap_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return snap_error_set(err, SNAP_EIO, dir, 0, "%s", strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!snapshot_file_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*grown));
			if (!grown) {
				rc = SNAP_ENOMEM;
				break;
			}
			names = grown;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			rc = SNAP_ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*count = n;
	return rc < 0 ? snap_error_set(err, rc, dir, 0, "out of memory") : 0;
}

static int each_in_directory(const char *dir, cli_snapshot_fn fn, void *ctx,
			     snap_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = list_json_files(dir, &names, &n, err);
	if (rc == 0 && n == 0)
		rc = snap_error_set(err, SNAP_EFORMAT, dir, 0, "no *.json snapshot in it");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = each_in_file(names[i], fn, ctx, err);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int cli_each_snapshot(const char *arg, const snap_capture_opts *capture,
		      cli_snapshot_fn fn, void *ctx, snap_error *err)
{
	struct stat st;
	/* Each document's buffer is large and of another size: glibc's
	 * adaptive threshold would soon serve them from the heap, whose
	 * freed pages stay resident, and memory would grow with the
	 * series. Mapped, they go back to the system when freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (strcmp(arg, "-") == 0)
		return each_in_stream(stdin, "<stdin>", fn, ctx, err);
	if (!proc_path(arg) && stat(arg, &st) == 0)
		return S_ISDIR(st.st_mode) ? each_in_directory(arg, fn, ctx, err)
					   : each_in_file(arg, fn, ctx, err);
	cli_snapshots one = { 0 };
	int rc = cli_load_arg(&one, arg, capture, err);
	if (rc == 0 && one.count)
		rc = fn(ctx, one.items[0], arg);
	cli_snapshots_free(&one);
	return rc;
}

static int duration_arg(int64_t *ms, const char *arg, const char *opt)
{
	snap_error err;
	if (snap_parse_duration(arg, ms, &err) < 0)
		return cli_error("capture: %s: %s", opt, err.message);
	return EXIT_OK;
}

static int count_arg(size_t *count, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (!*arg || *end || n < 1)
		return cli_error("capture: --count wants a number >= 1, not '%s'", arg);
	*count = (size_t)n;
	return EXIT_OK;
}

int cli_schedule_option(cli_schedule *s, int c, const char *arg)
{
	switch (c) {
	case OPT_EVERY: return duration_arg(&s->every_ms, arg, "--every");
	case OPT_FOR:
		s->has_for = true;
		return duration_arg(&s->for_ms, arg, "--for");
	case OPT_COUNT: return count_arg(&s->count, arg);
	}
	return 1;
}

int cli_schedule_check(const cli_schedule *s)
{
	if (s->count && s->has_for)
		return cli_error("capture: give --count or --for, not both");
	return EXIT_OK;
}

bool cli_schedule_over(const cli_schedule *s, int64_t tick)
{
	return s->has_for && tick * s->every_ms > s->for_ms;
}

int cli_capture_option(snap_capture_opts *opts, cli_redaction *redaction, int c,
		       const char *arg)
{
	switch (c) {
	case OPT_REDACT: opts->redact = true; return EXIT_OK;
	case OPT_REDACT_KEY: redaction->key_file = arg; return EXIT_OK;
	case OPT_REDACT_KEEP: return cli_redaction_keep(redaction, arg);
	case OPT_NO_BUILD_IDS: opts->no_build_ids = true; return EXIT_OK;
	}
	return 1;
}
