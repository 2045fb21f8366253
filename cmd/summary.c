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
	bool prometheus;    /* --format prometheus */
	const char *output; /* -o FILE, written atomically; NULL: stdout */
	bool force;
	snap_summary_opts summary;
	cli_filter filter;
	char filters[512]; /* the filter options as given */
	size_t libs;
	bool libs_given; /* --libs N, else --top N limits the libraries too */
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
	      "\n", f);
	cli_print_options(f, CLI_SUMMARY, 0);
	fputs("\n"
	      "Filters count only the regions they keep; the smaps_rollup check\n"
	      "then does not apply. A torn read (the totals disagree with the\n"
	      "rollup) is reported in the summary and, for json and markdown, on\n"
	      "stderr.\n"
	      "\n"
	      "Examples:\n"
	      "  mapsnap summary 1234                      where process 1234's memory is\n"
	      "  mapsnap summary --sort pss --top 5 snap.json\n"
	      "  mapsnap summary --format prometheus host/ -o metrics.prom\n"
	      "\n"
	      "Exit status: 0, or 2 on a usage or input error.\n", f);
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

static int parse_sort(struct summary_settings *s, const char *arg)
{
	if (cli_pick(CLI_SUMMARY, "summary", OPT_SORT, arg) < 0)
		return EXIT_ERROR;
	s->summary.metric = (enum snap_measure)snap_measure_parse(arg);
	return EXIT_OK;
}

static int parse_top(struct summary_settings *s, const char *arg)
{
	size_t n;
	if (cli_parse_top("summary", "--top", arg, &n) != EXIT_OK)
		return EXIT_ERROR;
	s->summary.top = n ? n : SIZE_MAX;
	if (!s->libs_given)
		s->libs = n;
	return EXIT_OK;
}

static int region_filter(struct summary_settings *s, const char *opt, const char *arg)
{
	size_t n = strlen(s->filters);
	snprintf(s->filters + n, sizeof(s->filters) - n, "%s%s %s", n ? " " : "", opt,
		 arg);
	return filter_option(&s->filter, "summary", opt, arg);
}

static int parse_option(struct summary_settings *s, int c, const char *arg)
{
	switch (c) {
	case OPT_FORMAT:
		s->prometheus = strcmp(arg, "prometheus") == 0;
		return s->prometheus ? EXIT_OK : cli_parse_format("summary", arg, &s->format);
	case 'o': s->output = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case OPT_TOP: return parse_top(s, arg);
	case OPT_SORT: return parse_sort(s, arg);
	case OPT_LIBS:
		s->libs_given = true;
		return parse_count(&s->libs, "--libs", arg);
	case OPT_KIND: return region_filter(s, "--kind", arg);
	case OPT_MIN_SIZE: return region_filter(s, "--min-size", arg);
	case OPT_MAX_SIZE: return region_filter(s, "--max-size", arg);
	case OPT_PATH: return region_filter(s, "--path", arg);
	case OPT_NO_CHECKSUM: return EXIT_OK;
	default: return EXIT_ERROR;
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct summary_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_SUMMARY, "summary", argc, argv)) != -1) {
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

static int write_summary(const struct summary_settings *s, FILE *f,
			 const snap_summary *sum, const char *label)
{
	fmt_summary_opts o = { label, s->filters[0] ? s->filters : NULL, s->libs };
	switch (s->format) {
	case CLI_FORMAT_JSON: return fmt_summary_json(f, sum, &o);
	case CLI_FORMAT_MARKDOWN: return fmt_summary_markdown(f, sum, &o);
	default: return fmt_summary_text(f, sum, &o);
	}
}

static int summarise(const struct summary_settings *s, FILE *f,
		     const snap_snapshot *snap, const char *arg, const char *label)
{
	snap_summary *sum;
	snap_summary_opts opts = s->summary;
	if (filter_active(&s->filter)) {
		opts.filter = keep_region;
		opts.filter_ctx = (void *)&s->filter;
	}
	if (snap_summary_new(&sum, snap, &opts, NULL) < 0)
		return cli_error("summary: %s: out of memory", arg);
	int rc = write_summary(s, f, sum, label);
	if (sum->torn && s->format != CLI_FORMAT_TEXT)
		warn_torn(sum, arg);
	snap_summary_free(sum);
	if (rc < 0)
		return cli_error("summary: writing the output failed");
	return EXIT_OK;
}

static int summarise_arg(const struct summary_settings *s, FILE *f, const char *arg,
			 bool *first)
{
	cli_snapshots list = { 0 };
	snap_error err = { 0 };
	char label[600];
	cli_input_label(label, sizeof(label), arg);
	/* A file whose third document is broken still gives the first two. */
	bool loaded = cli_load_arg(&list, arg, NULL, &err) == 0;
	int status = EXIT_OK;
	for (size_t i = 0; i < list.count && status == EXIT_OK; i++) {
		if (!*first && s->format == CLI_FORMAT_TEXT)
			fputc('\n', f);
		*first = false;
		status = summarise(s, f, list.items[i], arg, label);
	}
	cli_snapshots_free(&list);
	return loaded ? status : cli_report(&err);
}

/* ---- --format prometheus: every input first, then each family once ---- */

struct prom_set {
	fmt_prom_process *procs;
	size_t count, cap;
	int rc; /* SNAP_ENOMEM when that stopped the inputs */
};

/* The process already listed under this pid, or NULL. */
static fmt_prom_process *find_pid(struct prom_set *set, long pid)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->procs[i].pid == pid)
			return &set->procs[i];
	return NULL;
}

/* One set of metrics per pid (a series file holds many snapshots of one
 * process; one exposition may not repeat a series): the latest wins. */
static int add_process(void *ctx, const snap_snapshot *snap, const char *source)
{
	struct prom_set *set = ctx;
	snap_check *c;
	fmt_prom_process p;
	(void)source;
	if ((set->rc = snap_check_new(&c, snap, NULL, NULL)) < 0)
		return set->rc;
	set->rc = fmt_prom_process_init(&p, c, 0);
	snap_check_free(c);
	if (set->rc < 0)
		return set->rc;
	fmt_prom_process *seen = find_pid(set, p.pid);
	if (seen && seen->captured_at > p.captured_at) {
		fmt_prom_process_clear(&p);
		return 0;
	}
	if (seen) {
		fmt_prom_process_clear(seen);
		*seen = p;
		return 0;
	}
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		fmt_prom_process *grown = realloc(set->procs, cap * sizeof(*grown));
		if (!grown) {
			fmt_prom_process_clear(&p);
			return set->rc = SNAP_ENOMEM;
		}
		set->procs = grown;
		set->cap = cap;
	}
	set->procs[set->count++] = p;
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const fmt_prom_process *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int write_prometheus(FILE *f, int argc, char **argv)
{
	struct prom_set set = { 0 };
	snap_error err = { 0 };
	int status = EXIT_OK;
	for (int i = 0; i < argc && status == EXIT_OK; i++) {
		snap_capture_opts capture = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true };
		if (cli_each_snapshot(argv[i], &capture, add_process, &set, &err) != 0)
			status = set.rc == SNAP_ENOMEM ? cli_error("summary: out of memory")
						       : cli_report(&err);
	}
	if (status == EXIT_OK) {
		qsort(set.procs, set.count, sizeof(*set.procs), by_pid);
		if (fmt_prometheus_write(f, set.procs, set.count) < 0)
			status = cli_error("summary: writing the output failed");
	}
	for (size_t i = 0; i < set.count; i++)
		fmt_prom_process_clear(&set.procs[i]);
	free(set.procs);
	return status;
}

int cmd_summary(int argc, char **argv)
{
	struct summary_settings s = { .libs = 10 };
	snap_summary_opts_init(&s.summary, SNAP_SUMMARY_OPTS_VERSION);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if (s.prometheus && filter_active(&s.filter))
		return cli_error("summary: --format prometheus counts every region (no "
				 "--kind, --min-size, --max-size or --path)");
	snap_error err = { 0 };
	cli_output out;
	if (cli_output_open(&out, s.output ? s.output : "-", s.force, &err) < 0)
		return cli_report(&err);
	int status = EXIT_OK;
	bool first = true;
	if (s.prometheus)
		status = write_prometheus(out.f, argc - optind, argv + optind);
	else
		for (int i = optind; i < argc; i++)
			if (summarise_arg(&s, out.f, argv[i], &first) != EXIT_OK)
				status = EXIT_ERROR;
	/* A file is all or nothing; stdout keeps what the good inputs gave. */
	if (status != EXIT_OK && !out.to_stdout) {
		cli_output_discard(&out);
		return status;
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return status;
}
