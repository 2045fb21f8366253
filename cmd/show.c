/* mapsnap show: a snapshot (file, stdin or live pid) in the formats of
 * procps-ng pmap 4.0.2, plus sorting and filters pmap does not have. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "filters.h"

enum sort_key { SORT_NONE, SORT_RSS, SORT_PSS, SORT_SIZE, SORT_DIRTY, SORT_SWAP, SORT_ANON };

struct show_settings {
	fmt_pmap_opts view;
	int x_count;
	bool extended, device;
	bool explain; /* --explain: kinds and their evidence, not a pmap view */
	enum sort_key sort;
	size_t top;
	bool has_top;
	const char *output; /* -o FILE */
	bool force;
	bool help;
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
	      "exactly as procps-ng pmap 4.0.2 prints them. A PID is taken as pmap\n"
	      "takes it: /proc/PID, 0x1a2b (hex) and 013435 (octal) work, a thread\n"
	      "id shows its process, a zombie prints its name and <defunct>.\n"
	      "-x, -X, -d, -q, -p and -A are pmap's options, with pmap's meaning;\n"
	      "-h is --help, as in pmap.\n"
	      "\n", f);
	cli_print_options(f, CLI_SHOW, 0);
	fputs("\n"
	      "A filtered view prints totals of the rows it shows and says so on\n"
	      "its last line.\n"
	      "\n"
	      "Examples:\n"
	      "  mapsnap show -x 1234                  as pmap -x 1234\n"
	      "  mapsnap show -x --sort rss --top 10 snap.json\n"
	      "  mapsnap show --kind heap,anon --human 1234\n"
	      "\n"
	      "Exit status: 0, or 2 on a usage or input error (a process that\n"
	      "cannot be read, a bad file).\n", f);
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
	int k = cli_pick(CLI_SHOW, "show", OPT_SORT, arg);
	if (k < 0)
		return EXIT_ERROR;
	s->sort = (enum sort_key)(k + 1); /* the order of the table's words */
	return EXIT_OK;
}

static int parse_top(struct show_settings *s, const char *arg)
{
	if (cli_parse_top("show", "--top", arg, &s->top) != EXIT_OK)
		return EXIT_ERROR;
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

static int parse_option(struct show_settings *s, int c, const char *arg)
{
	switch (c) {
	case 'x': s->extended = true; return EXIT_OK;
	case 'X': s->x_count++; return EXIT_OK;
	case 'd': s->device = true; return EXIT_OK;
	case 'q': s->view.quiet = true; return EXIT_OK;
	case 'p': s->view.show_path = true; return EXIT_OK;
	case 'o': s->output = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case 'h': s->help = true; return EXIT_OK;
	case OPT_HUMAN: s->view.human = true; return EXIT_OK;
	case 'A': s->range_arg = arg; return parse_range(&s->view, arg);
	case OPT_EXPLAIN: s->explain = true; return EXIT_OK;
	case OPT_SORT: return parse_sort(s, arg);
	case OPT_TOP: note_filter(s, "--top", arg); return parse_top(s, arg);
	case OPT_KIND: return region_filter(s, "--kind", arg);
	case OPT_MIN_SIZE: return region_filter(s, "--min-size", arg);
	case OPT_MAX_SIZE: return region_filter(s, "--max-size", arg);
	case OPT_PATH: return region_filter(s, "--path", arg);
	case OPT_NO_CHECKSUM: return EXIT_OK;
	default: return EXIT_ERROR;
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct show_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_SHOW, "show", argc, argv)) != -1)
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	if (s->help) {
		usage(stdout);
		return -1;
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
	case SORT_ANON: return snap_region_get(snap, r, "Anonymous");
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
	    snap_classify(snap, kinds, NULL, NULL, NULL) < 0) {
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
	if (s->has_top && s->top && s->top < n) /* --top 0: all */
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
	int rc = snap_identity_new(&id, snap, NULL);
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

/* ---- what pmap prints of a process it cannot read ------------------------- */

static bool read_proc_text(long pid, const char *name, char *buf, size_t size,
			   size_t *len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	*len = fread(buf, 1, size - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return true;
}

/* 'Z' for a zombie (stat's third field, after the last ')'), or 0. */
static char proc_state(long pid)
{
	char buf[1024];
	size_t len;
	if (!read_proc_text(pid, "stat", buf, sizeof(buf), &len))
		return 0;
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* A snapshot of the process line alone: its command line, or as procps
 * names a process without one, "[comm]" (a zombie: "[comm] <defunct>"). */
static int process_line_only(snap_snapshot **out, long pid, bool zombie)
{
	char cmdline[8192], comm[64], name[96];
	size_t len = 0, clen = 0, argc = 0;
	snap_snapshot *snap;
	if (snap_snapshot_new(&snap, NULL) < 0)
		return SNAP_ENOMEM;
	if (!read_proc_text(pid, "comm", comm, sizeof(comm), &clen))
		clen = 0;
	comm[strcspn(comm, "\n")] = '\0';
	if (zombie || !read_proc_text(pid, "cmdline", cmdline, sizeof(cmdline), &len))
		len = 0;
	for (size_t i = 0; i < len; i++)
		argc += cmdline[i] == '\0';
	argc += len && cmdline[len - 1] != '\0';
	const char **argv = snap_snapshot_alloc(snap, (argc + 1) * sizeof(*argv));
	snap->process.known = true;
	snap->process.pid = pid;
	snap->process.comm = snap_snapshot_strdup(snap, comm);
	snap->process.argv = argv;
	for (size_t i = 0, at = 0; argv && i < argc; i++) {
		argv[i] = snap_snapshot_strdup(snap, cmdline + at);
		at += strlen(cmdline + at) + 1;
	}
	if (argv && zombie) {
		snprintf(name, sizeof(name), "[%s] <defunct>", comm);
		argv[argc++] = snap_snapshot_strdup(snap, name);
	}
	snap->process.argc = argc;
	*out = snap;
	return argv ? SNAP_OK : SNAP_ENOMEM;
}

/* pmap 4.0.2 prints a zombie as its process line and an empty map (in
 * -X and -XX, the process line alone: it prints the table's header with
 * the first mapping), and a process it may not read as the process line
 * alone, before it fails. */
static int show_process_line(const struct show_settings *s, long pid, bool zombie)
{
	snap_snapshot *snap = NULL;
	fmt_pmap_opts view = s->view;
	if (!zombie || view.mode == FMT_PMAP_X || view.mode == FMT_PMAP_XX)
		view.quiet = true;
	view.rows = NULL;
	view.nrows = 0;
	int rc = process_line_only(&snap, pid, zombie);
	if (rc == SNAP_OK)
		rc = fmt_pmap_write(stdout, snap, &view);
	snap_snapshot_free(snap);
	return rc;
}

static int show_arg(const struct show_settings *s, const char *arg)
{
	cli_snapshots list = { 0 };
	/* pmap's views use neither the rollup nor build-ids */
	snap_capture_opts capture = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true, .no_build_ids = true };
	snap_error err = { 0 };
	long pid = 0;
	bool live = !s->explain && cli_is_live_pid(arg, &pid);
	if (live && proc_state(cli_tgid(pid)) == 'Z')
		return show_process_line(s, cli_tgid(pid), true) < 0
			? cli_error("show: writing the output failed") : EXIT_OK;
	/* A file whose third document is broken still shows the first two. */
	int rc = cli_load_arg(&list, arg, &capture, &err);
	bool loaded = rc == 0;
	int status = EXIT_OK;
	for (size_t i = 0; i < list.count && status == EXIT_OK; i++)
		status = show_snapshot(s, list.items[i], arg);
	cli_snapshots_free(&list);
	if (rc == SNAP_EPERM && live)
		show_process_line(s, cli_tgid(pid), false);
	return loaded ? status : cli_report(&err);
}

int cmd_show(int argc, char **argv)
{
	struct show_settings s = { 0 };
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_stdout_to("show", s.output, s.force) != EXIT_OK)
		return EXIT_ERROR;
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++)
		if (show_arg(&s, argv[i]) != EXIT_OK)
			status = EXIT_ERROR;
	return status;
}
