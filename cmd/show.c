/* mapsnap show: a snapshot (file, stdin or live pid) in the formats of
 * procps-ng pmap 4.0.2, plus sorting and filters pmap does not have. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "filters.h"

enum sort_key { SORT_NONE, SORT_RSS, SORT_PSS, SORT_SIZE, SORT_DIRTY, SORT_SWAP };

struct show_settings {
	fmt_pmap_opts view;
	int x_count;
	bool extended, device;
	bool explain; /* --explain: kinds and their evidence, not a pmap view */
	enum sort_key sort;
	size_t top;
	bool has_top;
	cli_filter filter; /* --kind, --min-size, --max-size, --path */
	const char *range_arg;
	char filters[512]; /* the filter options as given, for the note */
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap show [options] SNAPSHOT|PID|-...\n"
	      "\n"
	      "Shows snapshots (files with one or more snapshot documents, raw\n"
	      "smaps text, '-' for stdin) or live processes (captured in memory)\n"
	      "exactly as procps-ng pmap 4.0.2 prints them.\n"
	      "\n"
	      "pmap's options:\n"
	      "  -x, --extended        RSS and Dirty columns\n"
	      "  -X                    the important smaps fields; -XX: all of them\n"
	      "  -d, --device          offset and device columns\n"
	      "  -q, --quiet           no column header and no footer\n"
	      "  -p, --show-path       full paths instead of file names\n"
	      "  -A, --range=LOW[,HIGH]  only mappings overlapping the hex range\n"
	      "beyond pmap:\n"
	      "  -h, --human           sizes as 512K, 1.3M, 20G where pmap prints kB\n"
	      "      --explain         one row per mapping: its kind and why (the\n"
	      "                        evidence), what load or .bss it belongs to, and\n"
	      "                        how the thread stacks were found\n"
	      "      --sort KEY        largest first by rss, pss, size, dirty or swap\n"
	      "      --top N           only the first N rows (sorted by rss unless\n"
	      "                        --sort says otherwise)\n", f);
	fputs(filter_usage, f);
	fputs(CLI_NO_CHECKSUM_USAGE
	      "      --help            this help\n"
	      "\n"
	      "A filtered view prints totals of the rows it shows and says so on\n"
	      "its last line.\n", f);
}

/* ---- option values ------------------------------------------------------- */

static bool parse_hex(const char *s, const char *end, uint64_t *out)
{
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (s == end || end - s > 16)
		return false;
	uint64_t v = 0;
	for (; s < end; s++) {
		char c = *s;
		int d = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* pmap's -A: "LOW,HIGH" in hex; either side may be empty; "ADDR" alone is
 * LOW and HIGH both. */
static int parse_range(fmt_pmap_opts *view, const char *arg)
{
	const char *comma = strchr(arg, ',');
	const char *end = arg + strlen(arg);
	view->low = 0;
	view->high = UINT64_MAX;
	view->has_range = true;
	if (!comma) {
		if (!parse_hex(arg, end, &view->low))
			return cli_error("show: bad -A range '%s'", arg);
		view->high = view->low;
		return EXIT_OK;
	}
	if ((comma > arg && !parse_hex(arg, comma, &view->low)) ||
	    (comma + 1 < end && !parse_hex(comma + 1, end, &view->high)))
		return cli_error("show: bad -A range '%s'", arg);
	return EXIT_OK;
}

static int parse_sort(struct show_settings *s, const char *arg)
{
	static const char *const names[] = { "", "rss", "pss", "size", "dirty", "swap" };
	for (size_t i = 1; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(arg, names[i]) == 0) {
			s->sort = (enum sort_key)i;
			return EXIT_OK;
		}
	return cli_error("show: --sort takes rss, pss, size, dirty or swap, not '%s'", arg);
}

static int parse_top(struct show_settings *s, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-')
		return cli_error("show: --top takes a number, not '%s'", arg);
	s->top = (size_t)n;
	s->has_top = true;
	return EXIT_OK;
}

/* Remembers a filter option for the "filtered" note. */
static void note_filter(struct show_settings *s, const char *opt, const char *arg)
{
	size_t n = strlen(s->filters);
	snprintf(s->filters + n, sizeof(s->filters) - n, "%s%s %s", n ? " " : "",
		 opt, arg);
}

static int region_filter(struct show_settings *s, const char *opt, const char *arg)
{
	note_filter(s, opt, arg);
	return filter_option(&s->filter, "show", opt, arg);
}

/* ---- command line -------------------------------------------------------- */

enum { OPT_SORT = 256, OPT_TOP, OPT_KIND, OPT_MIN, OPT_MAX, OPT_PATH, OPT_EXPLAIN, OPT_HELP };

static int parse_option(struct show_settings *s, int c, const char *arg)
{
	switch (c) {
	case 'x': s->extended = true; return EXIT_OK;
	case 'X': s->x_count++; return EXIT_OK;
	case 'd': s->device = true; return EXIT_OK;
	case 'q': s->view.quiet = true; return EXIT_OK;
	case 'p': s->view.show_path = true; return EXIT_OK;
	case 'h': s->view.human = true; return EXIT_OK;
	case 'A': s->range_arg = arg; return parse_range(&s->view, arg);
	case OPT_EXPLAIN: s->explain = true; return EXIT_OK;
	case OPT_SORT: return parse_sort(s, arg);
	case OPT_TOP: note_filter(s, "--top", arg); return parse_top(s, arg);
	case OPT_KIND: return region_filter(s, "--kind", arg);
	case OPT_MIN: return region_filter(s, "--min-size", arg);
	case OPT_MAX: return region_filter(s, "--max-size", arg);
	case OPT_PATH: return region_filter(s, "--path", arg);
	case OPT_HELP: usage(stdout); exit(EXIT_OK);
	default: return cli_error("show: see 'mapsnap show --help'");
	}
}

static int parse_args(struct show_settings *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "extended", no_argument, NULL, 'x' },
		{ "device", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "show-path", no_argument, NULL, 'p' },
		{ "range", required_argument, NULL, 'A' },
		{ "human", no_argument, NULL, 'h' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "min-size", required_argument, NULL, OPT_MIN },
		{ "max-size", required_argument, NULL, OPT_MAX },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "help", no_argument, NULL, OPT_HELP },
		CLI_NO_CHECKSUM_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "xXdqpA:h", options, NULL)) != -1) {
		if (c == CLI_OPT_NO_CHECKSUM) {
			cli_no_checksum = true;
			continue;
		}
		if (c == '?')
			return cli_bad_option("show", argv);
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (s->extended + s->device + (s->x_count > 0) + s->explain > 1)
		return cli_error("show: options -x, -X, -d and --explain are mutually exclusive");
	s->view.mode = s->extended ? FMT_PMAP_EXTENDED
		     : s->device ? FMT_PMAP_DEVICE
		     : s->x_count == 1 ? FMT_PMAP_X
		     : s->x_count > 1 ? FMT_PMAP_XX : FMT_PMAP_DEFAULT;
	if (s->has_top && s->sort == SORT_NONE)
		s->sort = SORT_RSS;
	if (optind >= argc)
		return cli_error("show: what to show? give a snapshot file, '-' or a PID");
	return EXIT_OK;
}

/* ---- choosing rows ------------------------------------------------------- */

static bool chooses_rows(const struct show_settings *s)
{
	return s->sort != SORT_NONE || s->has_top || filter_active(&s->filter);
}

static bool region_passes(const struct show_settings *s, const snap_region *r,
			  const enum snap_kind *kinds, size_t i)
{
	const fmt_pmap_opts *v = &s->view;
	if (v->has_range && (r->end - 1 < v->low || r->start > v->high))
		return false;
	return filter_region(&s->filter, r, kinds ? kinds[i] : SNAP_KIND_ANON);
}

static uint64_t sort_value(const snap_snapshot *snap, const snap_region *r,
			   enum sort_key key)
{
	switch (key) {
	case SORT_RSS: return snap_region_get(snap, r, "Rss");
	case SORT_PSS: return snap_region_get(snap, r, "Pss");
	case SORT_SIZE: return (r->end - r->start) >> 10;
	case SORT_DIRTY:
		return snap_region_get(snap, r, "Shared_Dirty") +
		       snap_region_get(snap, r, "Private_Dirty");
	case SORT_SWAP: return snap_region_get(snap, r, "Swap");
	case SORT_NONE: break;
	}
	return 0;
}

struct keyed_row {
	uint64_t key;
	size_t index;
};

/* Largest first; equal keys keep address order. */
static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed_row *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int sort_rows(const snap_snapshot *snap, size_t *rows, size_t n,
		     enum sort_key key)
{
	struct keyed_row *keyed = malloc((n + 1) * sizeof(*keyed));
	if (!keyed)
		return SNAP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		keyed[i] = (struct keyed_row){ sort_value(snap, &snap->regions[rows[i]], key),
					       rows[i] };
	qsort(keyed, n, sizeof(*keyed), cmp_keyed);
	for (size_t i = 0; i < n; i++)
		rows[i] = keyed[i].index;
	free(keyed);
	return SNAP_OK;
}

/* The rows a filtered or sorted view prints; *rows is malloc'd. known
 * holds the kinds when the caller classified the snapshot already. */
static int choose_rows(size_t **rows_out, size_t *nrows, const snap_snapshot *snap,
		       const struct show_settings *s, const enum snap_kind *known)
{
	enum snap_kind *kinds = NULL;
	size_t *rows = malloc((snap->nregions + 1) * sizeof(*rows));
	bool classify = s->filter.has_kinds && !known;
	if (classify && (kinds = malloc((snap->nregions + 1) * sizeof(*kinds))) &&
	    snap_classify(snap, kinds, NULL, NULL) < 0) {
		free(kinds);
		kinds = NULL;
	}
	if (!rows || (classify && !kinds)) {
		free(rows);
		free(kinds);
		return SNAP_ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < snap->nregions; i++)
		if (region_passes(s, &snap->regions[i], known ? known : kinds, i))
			rows[n++] = i;
	free(kinds);
	if (s->sort != SORT_NONE && sort_rows(snap, rows, n, s->sort) < 0) {
		free(rows);
		return SNAP_ENOMEM;
	}
	if (s->has_top && s->top < n)
		n = s->top;
	*rows_out = rows;
	*nrows = n;
	return SNAP_OK;
}

/* ---- showing ------------------------------------------------------------- */

static void filtered_note(char *note, size_t size, const struct show_settings *s,
			  size_t shown, size_t all)
{
	snprintf(note, size, "filtered: %zu of %zu mappings shown (%s%s%s); totals are "
		 "of the rows shown", shown, all, s->filters,
		 s->range_arg ? " -A " : "", s->range_arg ? s->range_arg : "");
}

/* --explain: one interpretation of the snapshot chooses the rows (by
 * kind) and explains them. */
static int explain_snapshot(const struct show_settings *s, const snap_snapshot *snap)
{
	snap_identity *id = NULL;
	size_t *rows = NULL;
	char note[700];
	fmt_explain_opts opts = { .quiet = s->view.quiet };
	int rc = snap_identity_new(&id, snap);
	if (rc == SNAP_OK && (chooses_rows(s) || s->view.has_range)) {
		rc = choose_rows(&rows, &opts.nrows, snap, s, id->kinds);
		opts.rows = rows;
		if (rc == SNAP_OK && s->filters[0]) {
			filtered_note(note, sizeof(note), s, opts.nrows, snap->nregions);
			opts.note = note;
		}
	}
	if (rc == SNAP_OK)
		rc = fmt_explain_text(stdout, id, &opts);
	free(rows);
	snap_identity_free(id);
	return rc;
}

static int pmap_snapshot(const struct show_settings *s, const snap_snapshot *snap)
{
	fmt_pmap_opts view = s->view;
	size_t *rows = NULL;
	char note[700];
	if (chooses_rows(s)) {
		if (choose_rows(&rows, &view.nrows, snap, s, NULL) < 0)
			return SNAP_ENOMEM;
		view.rows = rows;
		if (s->filters[0]) {
			filtered_note(note, sizeof(note), s, view.nrows, snap->nregions);
			view.note = note;
		}
	}
	int rc = fmt_pmap_write(stdout, snap, &view);
	free(rows);
	return rc;
}

static int show_snapshot(const struct show_settings *s, const snap_snapshot *snap,
			 const char *arg)
{
	int rc = s->explain ? explain_snapshot(s, snap) : pmap_snapshot(s, snap);
	if (rc == SNAP_ENOMEM)
		return cli_error("show: %s: out of memory", arg);
	if (rc < 0)
		return cli_error("show: writing the output failed");
	return EXIT_OK;
}

static int show_arg(const struct show_settings *s, const char *arg)
{
	cli_snapshots list = { 0 };
	/* pmap's views never use smaps_rollup: skip its second page walk. */
	/* pmap's views use neither the rollup nor build-ids */
	snap_capture_opts capture = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true, .no_build_ids = true };
	snap_error err = { 0 };
	/* A file whose third document is broken still shows the first two. */
	bool loaded = cli_load_arg(&list, arg, &capture, &err) == 0;
	int status = EXIT_OK;
	for (size_t i = 0; i < list.count && status == EXIT_OK; i++)
		status = show_snapshot(s, list.items[i], arg);
	cli_snapshots_free(&list);
	return loaded ? status : cli_report(&err);
}

int cmd_show(int argc, char **argv)
{
	struct show_settings s = { 0 };
	if (parse_args(&s, argc, argv) != EXIT_OK)
		return EXIT_ERROR;
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++)
		if (show_arg(&s, argv[i]) != EXIT_OK)
			status = EXIT_ERROR;
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error("show: writing the output failed");
	return status;
}
