/* mapsnap rank: every process of the host (or the ones named, or saved
 * snapshots of them) ranked by Pss, USS, Rss or swap, like smem and
 * procrank; --libs ranks libraries by what they cost across processes,
 * like librank; --by groups processes by user or command. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "rank.h"

struct rank_settings {
	enum cli_format format;
	bool prometheus;
	enum fmt_rank_value sort;
	enum fmt_rank_by by;
	bool libs;
	bool rollup;   /* live processes: smaps_rollup only */
	size_t top;
	bool has_top;
	const char *output; /* -o FILE */
	bool force;
};

/* What the inputs gave, and what could not be read. */
struct rank_run {
	const struct rank_settings *s;
	rank_entries *entries;
	bool regions;        /* read live processes' full smaps */
	size_t vanished, denied;
	size_t live, files;  /* inputs of each sort */
	char host_boot_id[64];
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap rank [options] [PID|SNAPSHOT|DIR|-]...\n"
	      "\n"
	      "One row per process, largest first: pid, user, comm, Rss, Pss, USS\n"
	      "(Private_Clean + Private_Dirty), Swap, SwapPss and the kinds that\n"
	      "hold most of it, with the totals. With no argument, every process\n"
	      "this user may read; processes that exit or deny access meanwhile are\n"
	      "counted on stderr, never fatal. A PID is read now; a SNAPSHOT file\n"
	      "(one or more documents, e.g. a stream from capture --all) or every\n"
	      "file of a DIR ranks saved processes (the latest snapshot of each).\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_RANK, 0);
	fputs("\n"
	      "Live processes are read through smaps (kinds per process) unless\n"
	      "--rollup or --format prometheus, which need only the totals of\n"
	      "smaps_rollup; --libs always reads smaps.\n"
	      "\n"
	      "Examples:\n"
	      "  mapsnap rank --top 10                  the ten largest by Pss\n"
	      "  mapsnap rank --sort uss $(pgrep nginx)  what each worker owns alone\n"
	      "  mapsnap rank --libs --sort pss         what each library costs\n"
	      "  mapsnap rank --by user                 like smem -u\n"
	      "  mapsnap rank host/                     a saved host, on any machine\n"
	      "\n"
	      "Exit status: 0, or 2 on a usage or input error (or nothing to rank).\n",
	      f);
}

static int parse_sort(struct rank_settings *s, const char *arg)
{
	/* the table's words: pss|rss|uss|swap|swappss */
	static const enum fmt_rank_value values[] = {
		FMT_RANK_PSS, FMT_RANK_RSS, FMT_RANK_USS, FMT_RANK_SWAP, FMT_RANK_SWAP_PSS,
	};
	if (strcmp(arg, "private") == 0) { /* an older word for uss */
		s->sort = FMT_RANK_USS;
		return EXIT_OK;
	}
	int k = cli_pick(CLI_RANK, "rank", OPT_SORT, arg);
	if (k < 0 || (size_t)k >= sizeof(values) / sizeof(*values))
		return EXIT_ERROR;
	s->sort = values[k];
	return EXIT_OK;
}

static int parse_by(struct rank_settings *s, const char *arg)
{
	if (strcmp(arg, "user") == 0)
		s->by = FMT_RANK_BY_USER;
	else if (strcmp(arg, "comm") == 0)
		s->by = FMT_RANK_BY_COMM;
	else if (strcmp(arg, "process") == 0 || strcmp(arg, "pid") == 0)
		s->by = FMT_RANK_BY_PROCESS;
	else
		return cli_error("rank: --by takes user or comm, not '%s'", arg);
	return EXIT_OK;
}

static int parse_top(struct rank_settings *s, const char *arg)
{
	if (cli_parse_top("rank", "--top", arg, &s->top) != EXIT_OK)
		return EXIT_ERROR;
	s->has_top = true;
	return EXIT_OK;
}

static int parse_format(struct rank_settings *s, const char *arg)
{
	s->prometheus = strcmp(arg, "prometheus") == 0;
	if (s->prometheus)
		return EXIT_OK;
	if (strcmp(arg, "text") && strcmp(arg, "json") && strcmp(arg, "markdown") &&
	    strcmp(arg, "md"))
		return cli_error("rank: unknown --format '%s' (text, json, markdown, "
				 "prometheus)", arg);
	return cli_parse_format("rank", arg, &s->format);
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct rank_settings *s, int argc, char **argv)
{
	int c, rc = EXIT_OK;
	while (rc == EXIT_OK && (c = cli_getopt(CLI_RANK, "rank", argc, argv)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return -1;
		case 'o': s->output = optarg; break;
		case 'f': s->force = true; break;
		case OPT_SORT: rc = parse_sort(s, optarg); break;
		case OPT_LIBS: s->libs = true; break;
		case OPT_BY: rc = parse_by(s, optarg); break;
		case OPT_TOP: rc = parse_top(s, optarg); break;
		case OPT_FORMAT: rc = parse_format(s, optarg); break;
		case OPT_ROLLUP: s->rollup = true; break;
		default: return EXIT_ERROR;
		}
	}
	if (rc != EXIT_OK)
		return rc;
	if (s->libs && s->by != FMT_RANK_BY_PROCESS)
		return cli_error("rank: --libs and --by do not go together");
	if (s->libs && s->rollup)
		return cli_error("rank: --libs reads smaps; it does not go with --rollup");
	if (s->libs)
		s->by = FMT_RANK_BY_LIBRARY;
	if (!s->has_top && s->prometheus)
		s->top = 20;
	return EXIT_OK;
}

/* ---- live processes ---- */

static void read_boot_id(char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* A process without an mm (a kernel thread, a zombie) prints no VmSize. */
static bool has_memory(const snap_snapshot *snap)
{
	for (size_t i = 0; i < snap->process.nstatus; i++)
		if (strcmp(snap->process.status[i].key, "VmSize") == 0)
			return true;
	return false;
}

/* Where live processes go: one per reading thread. */
struct live_sink {
	rank_entries *entries;
	bool regions;
	size_t vanished, denied;
};

/* Reads one live process into the sink. Returns 0, or the SNAP_E* code
 * of why it could not be read (err says it). */
static int read_live(struct live_sink *run, pid_t pid, snap_error *err)
{
	snap_snapshot *snap;
	snap_capture_opts opts = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true };
	int rc = snap_snapshot_new(&snap, err);
	if (rc < 0)
		return rc;
	if ((rc = snap_capture_meta(snap, pid, &opts, err)) == 0 && has_memory(snap))
		rc = run->regions ? snap_capture_smaps(snap, pid, &opts, NULL, NULL, err)
				  : snap_capture_rollup(snap, pid, NULL, err);
	if (rc == 0 && has_memory(snap) &&
	    rank_entries_add(run->entries, snap, true) < 0)
		rc = snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory");
	snap_snapshot_free(snap);
	if (rc == SNAP_EPERM)
		run->denied++;
	else if (rc < 0 && rc != SNAP_ENOMEM)
		run->vanished++;
	return rc;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static int list_pids(pid_t **out, size_t *count)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return cli_error("rank: cannot list /proc: %s", strerror(errno));
	pid_t *pids = NULL, self = getpid();
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		long pid;
		if (!cli_is_pid(de->d_name, &pid) || pid == self)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			pid_t *grown = realloc(pids, cap * sizeof(*pids));
			if (!grown) {
				free(pids);
				closedir(dir);
				return cli_error("rank: out of memory");
			}
			pids = grown;
		}
		pids[n++] = (pid_t)pid;
	}
	closedir(dir);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	*out = pids;
	*count = n;
	return EXIT_OK;
}

/* The kernel formats smaps on the reading thread (the larger part of a
 * capture) while the parser waits: two captures at a time keep more
 * cores busy. Each reader fills its own entries, merged at the end. */
#define MAX_READERS 4

struct reader {
	pthread_t thread;
	struct live_sink sink;
	const pid_t *pids;
	size_t npids;
	size_t *next;
	pthread_mutex_t *mu;
	int rc;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	for (;;) {
		pthread_mutex_lock(r->mu);
		size_t i = (*r->next)++;
		pthread_mutex_unlock(r->mu);
		if (i >= r->npids)
			return NULL;
		snap_error err = { 0 };
		if (read_live(&r->sink, r->pids[i], &err) == SNAP_ENOMEM) {
			r->rc = SNAP_ENOMEM;
			return NULL;
		}
	}
}

static size_t reader_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 2 ? 1 : cpus > MAX_READERS ? MAX_READERS : (size_t)cpus;
}

static int read_all_live(struct rank_run *run)
{
	pid_t *pids = NULL;
	size_t n = 0, next = 0, started = 0;
	if (list_pids(&pids, &n) != EXIT_OK)
		return EXIT_ERROR;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct reader readers[MAX_READERS] = { 0 };
	int rc = SNAP_OK;
	for (size_t k = 0; k < reader_count() && rc == SNAP_OK; k++) {
		struct reader *r = &readers[k];
		r->sink.regions = run->regions;
		r->pids = pids;
		r->npids = n;
		r->next = &next;
		r->mu = &mu;
		if ((rc = rank_entries_new(&r->sink.entries, run->s->libs)) == SNAP_OK &&
		    pthread_create(&r->thread, NULL, reader_main, r) == 0)
			started++;
		else
			rc = SNAP_ENOMEM;
	}
	for (size_t k = 0; k < started; k++) {
		pthread_join(readers[k].thread, NULL);
		if (readers[k].rc < 0 ||
		    rank_entries_merge(run->entries, readers[k].sink.entries) < 0)
			rc = SNAP_ENOMEM;
		run->vanished += readers[k].sink.vanished;
		run->denied += readers[k].sink.denied;
	}
	for (size_t k = 0; k < MAX_READERS; k++)
		rank_entries_free(readers[k].sink.entries);
	free(pids);
	run->live += n;
	return rc < 0 ? cli_error("rank: out of memory") : EXIT_OK;
}

/* ---- snapshot files ---- */

static bool same_boot(const struct rank_run *run, const snap_snapshot *snap)
{
	return snap->host.boot_id && run->host_boot_id[0] &&
	       strcmp(snap->host.boot_id, run->host_boot_id) == 0;
}

static int add_snapshot(struct rank_run *run, snap_snapshot *snap, const char *source)
{
	int rc = rank_entries_add(run->entries, snap, same_boot(run, snap));
	snap_snapshot_free(snap);
	if (rc < 0)
		return cli_error("rank: %s: out of memory", source);
	return EXIT_OK;
}

/* Snapshot documents one after another, each ranked and freed before
 * the next is read: a host's stream need not fit in memory at once. */
static int read_stream(struct rank_run *run, FILE *f, const char *source)
{
	size_t count = 0;
	for (;;) {
		snap_snapshot *snap;
		snap_error err = { 0 };
		int rc = fmt_json_load(&snap, f, source, &err);
		if (rc == 1)
			break;
		if (rc == SNAP_ETRUNC && count) {
			cli_warn("rank: %s: the last snapshot is cut off (its writer was "
				 "stopped mid-write); ranking the %zu complete ones", source,
				 count);
			break;
		}
		if (rc < 0)
			return cli_report(&err);
		if (add_snapshot(run, snap, source) != EXIT_OK)
			return EXIT_ERROR;
		count++;
	}
	if (!count)
		return cli_error("%s: no snapshot in it", source);
	return EXIT_OK;
}

static int read_file(struct rank_run *run, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	const char *source = f == stdin ? "<stdin>" : path;
	if (!f)
		return cli_error("%s: %s", path, strerror(errno));
	int c = cli_peek_content(f), status;
	run->files++;
	if (c == '{') {
		status = read_stream(run, f, source);
	} else {
		/* smaps text (or garbage, which cli_load_arg names). */
		cli_snapshots list = { 0 };
		snap_error err = { 0 };
		if (f != stdin)
			fclose(f);
		f = NULL;
		status = cli_load_arg(&list, path, NULL, &err) == 0 ? EXIT_OK
								    : cli_report(&err);
		for (size_t i = 0; i < list.count && status == EXIT_OK; i++) {
			status = add_snapshot(run, list.items[i], source);
			list.items[i] = NULL;
		}
		cli_snapshots_free(&list);
	}
	if (f && f != stdin)
		fclose(f);
	return status;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir (not the hidden ones), in name order. */
static int read_dir(struct rank_run *run, const char *dirpath)
{
	DIR *dir = opendir(dirpath);
	if (!dir)
		return cli_error("%s: %s", dirpath, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int status = EXIT_OK;
	while (status == EXIT_OK && (de = readdir(dir))) {
		struct stat st;
		char *path;
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dirpath, de->d_name) < 0) {
			status = cli_error("rank: out of memory");
			break;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				free(path);
				status = cli_error("rank: out of memory");
				break;
			}
			names = grown;
		}
		names[n++] = path;
	}
	closedir(dir);
	if (status == EXIT_OK && n)
		qsort(names, n, sizeof(*names), cmp_name);
	if (status == EXIT_OK && !n)
		status = cli_error("%s: no snapshot file in it", dirpath);
	for (size_t i = 0; i < n; i++) {
		if (status == EXIT_OK)
			status = read_file(run, names[i]);
		free(names[i]);
	}
	free(names);
	return status;
}

static int read_arg(struct rank_run *run, const char *arg)
{
	long pid;
	struct stat st;
	if (cli_is_live_pid(arg, &pid)) {
		snap_error err = { 0 };
		struct live_sink sink = { run->entries, run->regions, 0, 0 };
		run->live++;
		int rc = read_live(&sink, (pid_t)pid, &err);
		run->vanished += sink.vanished;
		run->denied += sink.denied;
		if (rc == SNAP_ENOMEM)
			return cli_error("rank: out of memory");
		if (rc < 0)
			cli_report(&err);
		return EXIT_OK;
	}
	if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return read_dir(run, arg);
	if (strcmp(arg, "-") != 0 && access(arg, F_OK) != 0)
		return cli_error("%s: no such file, and not a process id", arg);
	return read_file(run, arg);
}

/* ---- output ---- */

static void describe_source(char *buf, size_t size, const struct rank_run *run,
			    bool no_args)
{
	if (no_args)
		snprintf(buf, size, "live: every readable process, %s",
			 run->regions ? "smaps" : "smaps_rollup");
	else if (!run->files)
		snprintf(buf, size, "live: %zu pid%s, %s", run->live, run->live == 1 ? "" : "s",
			 run->regions ? "smaps" : "smaps_rollup");
	else if (!run->live)
		snprintf(buf, size, "%zu file%s", run->files, run->files == 1 ? "" : "s");
	else
		snprintf(buf, size, "%zu pid%s and %zu file%s", run->live,
			 run->live == 1 ? "" : "s", run->files, run->files == 1 ? "" : "s");
}

static int write_rank(const struct rank_settings *s, const fmt_rank *rank)
{
	if (s->prometheus)
		return fmt_rank_prometheus(stdout, rank);
	switch (s->format) {
	case CLI_FORMAT_JSON: return fmt_rank_json(stdout, rank);
	case CLI_FORMAT_MARKDOWN: return fmt_rank_markdown(stdout, rank);
	default: return fmt_rank_text(stdout, rank);
	}
}

static int finish(struct rank_run *run, bool no_args)
{
	const struct rank_settings *s = run->s;
	char source[128];
	if (!rank_entries_count(run->entries))
		return cli_error("rank: no process to rank (%zu vanished, %zu denied)",
				 run->vanished, run->denied);
	describe_source(source, sizeof(source), run, no_args);
	fmt_rank rank = { .by = s->by, .sort = s->sort, .source = source,
			  .vanished = run->vanished, .denied = run->denied, .top = s->top };
	if (rank_entries_table(run->entries, &rank) < 0)
		return cli_error("rank: out of memory");
	if (run->vanished || run->denied)
		cli_warn("rank: %zu process%s vanished and %zu denied access while reading "
			 "(not ranked)", run->vanished, run->vanished == 1 ? "" : "es",
			 run->denied);
	if (write_rank(s, &rank) < 0 || fflush(stdout) != 0 || ferror(stdout))
		return cli_error("rank: writing the output failed");
	return EXIT_OK;
}

int cmd_rank(int argc, char **argv)
{
	struct rank_settings s = { .sort = FMT_RANK_PSS };
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_stdout_to("rank", s.output, s.force) != EXIT_OK)
		return EXIT_ERROR;
	struct rank_run run = { .s = &s };
	run.regions = s.libs || (!s.rollup && !s.prometheus);
	read_boot_id(run.host_boot_id, sizeof(run.host_boot_id));
	if (rank_entries_new(&run.entries, s.libs) < 0)
		return cli_error("rank: out of memory");
	int status = EXIT_OK;
	if (optind == argc)
		status = read_all_live(&run);
	for (int i = optind; i < argc && status == EXIT_OK; i++)
		status = read_arg(&run, argv[i]);
	if (status == EXIT_OK)
		status = finish(&run, optind == argc);
	rank_entries_free(run.entries);
	return status;
}
