/* mapsnap watch: one process's memory map, live. Each refresh is one
 * capture, matched against the last one as `diff` matches (so an object
 * keeps its identity while it grows, splits or moves), drawn full screen
 * with ncurses or, when not on a terminal (or --batch), printed as one
 * plain table per refresh for logs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "watch.h"

#define MIN_INTERVAL_MS 50
#define BATCH_TOP 10

struct watch_settings {
	long pid;
	int64_t interval_ms;
	const char *interval;
	enum watch_sort sort;
	cli_filter filter;
	char filters[512];
	bool batch, ascii;
	unsigned long count; /* stop after this many refreshes (0: never) */
	size_t top;
	const char *save_dir;
};

/* Why the watch ended. */
enum watch_end { END_QUIT, END_COUNT, END_SIGNAL, END_EXITED, END_ERROR };

struct watch_run {
	struct watch_settings *s;
	watch_model *model;
	watch_capturer *capturer;
	bool screen, paused;
	long long start_time;     /* the process watched: pid reuse ends the watch */
	struct timespec base_time;
	char status[8400];        /* the last key's result */
	snap_error err;
	int signal;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap watch PID [options]\n"
	      "\n"
	      "One process's memory map, refreshed: totals now and their change\n"
	      "since the start (the baseline) and since the last refresh, a table by\n"
	      "kind, and the largest memory objects with their growth and a\n"
	      "sparkline of the last refreshes; objects new since the baseline are\n"
	      "marked '+', vanished ones are listed for a few refreshes. Regions are\n"
	      "matched from refresh to refresh as `mapsnap diff` matches them. Each\n"
	      "refresh is one capture. On a terminal the view is full screen; else\n"
	      "(or with --batch) one plain-text table per refresh, for logs.\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_WATCH, 0);
	fputs("\n"
	      "Keys: q quit, s next sort, p pause/resume, r reset the baseline to now,\n"
	      "w write the baseline and the latest capture as snapshot files\n"
	      "(watch-PID-N-start.json and watch-PID-N-now.json, never replacing a\n"
	      "file) for `mapsnap diff`.\n"
	      "\n"
	      "Examples:\n"
	      "  mapsnap watch 1234                         what grows, live\n"
	      "  mapsnap watch 1234 --kind heap,anon --sort growth\n"
	      "  mapsnap watch 1234 --batch --interval 10s >> mem.log\n"
	      "\n"
	      "The watch ends on q, Ctrl-C, SIGTERM or SIGHUP, and when the process\n"
	      "exits (with a message); the terminal is restored in every case.\n"
	      "Exit status: 0, or 2 on a usage error, when the process cannot be\n"
	      "read at the start, or when a capture fails for another reason.\n", f);
}

static int parse_count(unsigned long *out, const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-')
		return cli_error("watch: %s takes a number, not '%s'", opt, arg);
	*out = (unsigned long)n;
	return EXIT_OK;
}

static int region_filter(struct watch_settings *s, const char *opt, const char *arg)
{
	size_t n = strlen(s->filters);
	snprintf(s->filters + n, sizeof(s->filters) - n, "%s%s %s", n ? " " : "", opt, arg);
	return filter_option(&s->filter, "watch", opt, arg);
}

static int parse_option(struct watch_settings *s, int c, const char *arg)
{
	size_t n;
	int sort;
	snap_error err;
	switch (c) {
	case OPT_INTERVAL:
		if (snap_parse_duration(arg, &s->interval_ms, &err) < 0)
			return cli_error("watch: --interval: %s", err.message);
		if (s->interval_ms < MIN_INTERVAL_MS)
			return cli_error("watch: --interval takes a duration of %dms or more "
					 "(500ms, 2s), not '%s'", MIN_INTERVAL_MS, arg);
		s->interval = arg;
		return EXIT_OK;
	case OPT_SORT:
		if (cli_pick(CLI_WATCH, "watch", OPT_SORT, arg) < 0 ||
		    (sort = watch_sort_parse(arg)) < 0)
			return EXIT_ERROR;
		s->sort = (enum watch_sort)sort;
		return EXIT_OK;
	case OPT_TOP:
		if (cli_parse_top("watch", "--top", arg, &n) != EXIT_OK)
			return EXIT_ERROR;
		s->top = n ? n : SIZE_MAX; /* 0: every object */
		return EXIT_OK;
	case OPT_COUNT: return parse_count(&s->count, "--count", arg);
	case OPT_BATCH: s->batch = true; return EXIT_OK;
	case OPT_ASCII: s->ascii = true; return EXIT_OK;
	case OPT_SAVE_DIR: s->save_dir = arg; return EXIT_OK;
	case OPT_KIND: return region_filter(s, "--kind", arg);
	case OPT_MIN_SIZE: return region_filter(s, "--min-size", arg);
	case OPT_MAX_SIZE: return region_filter(s, "--max-size", arg);
	case OPT_PATH: return region_filter(s, "--path", arg);
	default: return cli_error("watch: see 'mapsnap watch --help'");
	}
}

/* Returns EXIT_OK, EXIT_ERROR, or -1 after --help. */
static int parse_args(struct watch_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_WATCH, "watch", argc, argv)) != -1) {
		if (c == '?')
			return EXIT_ERROR;
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (optind >= argc)
		return cli_error("watch: which process? give a PID");
	if (optind + 1 < argc)
		return cli_error("watch: one PID at a time ('%s' is one too many)",
				 argv[optind + 1]);
	if (!cli_is_pid(argv[optind], &s->pid))
		return cli_error("watch: '%s' is not a process id", argv[optind]);
	s->pid = cli_tgid(s->pid); /* a thread id: its process */
	return EXIT_OK;
}

/* ---- signals: a byte on a pipe, so the wait for keys and the next
 * refresh sees them without a race ---- */

static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (write(signal_pipe[1], &b, 1) < 0) {
		/* the pipe is full: a signal is already waiting */
	}
	errno = saved;
}

static int catch_signals(void)
{
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	return 0;
}

static int pending_signal(void)
{
	unsigned char b;
	return read(signal_pipe[0], &b, 1) == 1 ? b : 0;
}

/* ---- time ---- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0->tv_sec) + (double)(ts.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- writing the pair of snapshots ---- */

/* A whole snapshot into path, never replacing a file: a temporary file
 * beside it, renamed into place only when no file has that name. */
static int write_new_file(const char *path, const snap_snapshot *snap, snap_error *err)
{
	char tmp[4200];
	const char *slash = strrchr(path, '/');
	snprintf(tmp, sizeof(tmp), "%.*s.watch.XXXXXX",
		 slash ? (int)(slash - path + 1) : 0, path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot create: %s",
				      strerror(errno));
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	FILE *f = fdopen(fd, "w");
	int rc = f && fmt_json_write(f, snap) == 0 && fflush(f) == 0 && !ferror(f) &&
		 fsync(fd) == 0 ? 0 : -1;
	int e = errno;
	if (f ? fclose(f) != 0 : close(fd) != 0)
		rc = -1;
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		e = errno;
		/* Filesystems without RENAME_NOREPLACE: link() never replaces. */
		if ((e == EINVAL || e == ENOSYS) && link(tmp, path) == 0)
			e = 0;
		rc = e ? -1 : 0;
	}
	unlink(tmp);
	if (rc == 0)
		return SNAP_OK;
	return snap_error_set(err, e == EEXIST ? SNAP_EEXIST : SNAP_EIO, path, 0, "%s",
			      e == EEXIST ? "already exists" : strerror(e ? e : EIO));
}

/* watch-PID-N-start.json and watch-PID-N-now.json for the first N for
 * which neither exists. */
static void save_pair(struct watch_run *run)
{
	const char *dir = run->s->save_dir ? run->s->save_dir : ".";
	char start[4096], now[4096];
	snap_error err = { 0 };
	for (unsigned n = 1; n < 10000; n++) {
		snprintf(start, sizeof(start), "%s/watch-%ld-%u-start.json", dir, run->s->pid, n);
		snprintf(now, sizeof(now), "%s/watch-%ld-%u-now.json", dir, run->s->pid, n);
		if (access(start, F_OK) == 0 || access(now, F_OK) == 0)
			continue;
		int rc = write_new_file(start, watch_model_base(run->model), &err);
		if (rc == 0 && (rc = write_new_file(now, watch_model_latest(run->model),
						    &err)) < 0)
			unlink(start);
		if (rc == SNAP_EEXIST)
			continue;
		if (rc < 0) {
			char buf[1100];
			snprintf(run->status, sizeof(run->status), "w failed: %s",
				 snap_error_format(&err, buf, sizeof(buf)));
			return;
		}
		snprintf(run->status, sizeof(run->status), "wrote %s and %s", start, now);
		return;
	}
	snprintf(run->status, sizeof(run->status), "w: no free file name in %s", dir);
}

/* ---- refreshing and drawing ---- */

/* A capture (or why there is none) into the model. END_EXITED when the
 * process is gone (or its pid now names another process). */
static int take(struct watch_run *run, int rc, snap_snapshot *snap)
{
	if (rc == SNAP_ENOPROC)
		return END_EXITED;
	if (rc < 0)
		return END_ERROR;
	if (run->start_time < 0)
		run->start_time = snap->process.start_time;
	if (snap->process.start_time != run->start_time) {
		snap_snapshot_free(snap);
		return END_EXITED;
	}
	if (watch_model_update(run->model, snap, &run->err) < 0)
		return END_ERROR;
	return -1;
}

static int first_capture(struct watch_run *run)
{
	snap_snapshot *snap = NULL;
	snap_capture_opts opts = { .version = SNAP_CAPTURE_OPTS_VERSION, .no_rollup = true };
	int rc = snap_capture(&snap, (pid_t)run->s->pid, &opts, &run->err);
	return take(run, rc, snap);
}

static size_t rows_to_show(const struct watch_run *run)
{
	if (run->s->top)
		return run->s->top;
	if (!run->screen)
		return BATCH_TOP;
	int lines = watch_screen_lines() - 24;
	return lines > 3 ? (size_t)lines : 3;
}

static int draw(struct watch_run *run)
{
	fmt_watch_frame fr = { 0 };
	if (watch_model_frame(run->model, &fr, run->s->sort, rows_to_show(run)) < 0)
		return snap_error_set(&run->err, SNAP_ENOMEM, NULL, 0, "out of memory");
	fr.interval = run->s->interval;
	fr.since_start_s = seconds_since(&run->base_time);
	fr.filter = run->s->filters[0] ? run->s->filters : NULL;
	fr.paused = run->paused;
	fr.ascii = run->s->ascii;
	if (!run->screen) {
		int rc = fmt_watch_text(stdout, &fr);
		if (rc < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
			return snap_error_set(&run->err, SNAP_EIO, "<stdout>", 0,
					      "writing the output failed");
		return SNAP_OK;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return snap_error_set(&run->err, SNAP_ENOMEM, NULL, 0, "out of memory");
	fmt_watch_text(mem, &fr);
	fclose(mem);
	char status[8600];
	snprintf(status, sizeof(status), " q quit  s sort: %s  p %s  r reset baseline  "
		 "w write snapshots   %s", watch_sort_name(run->s->sort),
		 run->paused ? "resume" : "pause", run->status);
	watch_screen_draw(text, len, status);
	free(text);
	return SNAP_OK;
}

/* A key's effect; END_QUIT for q, else -1. */
static int on_key(struct watch_run *run, int key)
{
	switch (key) {
	case 'q':
	case 'Q':
		return END_QUIT;
	case 's':
		run->s->sort = (enum watch_sort)((run->s->sort + 1) % WATCH_SORTS);
		break;
	case 'p':
		run->paused = !run->paused;
		watch_capturer_pause(run->capturer, run->paused);
		break;
	case 'r':
		watch_model_reset(run->model);
		clock_gettime(CLOCK_MONOTONIC, &run->base_time);
		snprintf(run->status, sizeof(run->status), "baseline reset at refresh %lu",
			 watch_model_refreshes(run->model));
		break;
	case 'w':
		save_pair(run);
		break;
	case 'R':
		break;
	default:
		return -1;
	}
	draw(run);
	return -1;
}

/* Waits for a key, a signal or the next capture. Returns an END_* code,
 * or -1 when a capture was taken into the model. */
static int wait_next(struct watch_run *run)
{
	for (;;) {
		struct pollfd fds[3] = { { signal_pipe[0], POLLIN, 0 },
					 { watch_capturer_fd(run->capturer), POLLIN, 0 },
					 { STDIN_FILENO, POLLIN, 0 } };
		/* Paused, a capture that was under way waits until the resume. */
		if (run->paused)
			fds[1].fd = -1;
		int n = poll(fds, run->screen ? 3 : 2, -1);
		if (n < 0 && errno != EINTR) {
			snap_error_set(&run->err, SNAP_EIO, NULL, 0, "poll: %s", strerror(errno));
			return END_ERROR;
		}
		if ((run->signal = pending_signal()))
			return END_SIGNAL;
		snap_snapshot *snap = NULL;
		int rc = run->paused ? 1 : watch_capturer_take(run->capturer, &snap, &run->err);
		if (rc != 1)
			return take(run, rc, snap);
		int key;
		while (run->screen && (key = watch_screen_key()) >= 0)
			if (on_key(run, key) == END_QUIT)
				return END_QUIT;
	}
}

static int watch_loop(struct watch_run *run)
{
	int end;
	for (;;) {
		if (draw(run) < 0)
			return END_ERROR;
		if (run->s->count && watch_model_refreshes(run->model) >= run->s->count)
			return END_COUNT;
		if ((end = wait_next(run)) >= 0)
			return end;
	}
}

static int finish(struct watch_run *run, int end)
{
	char buf[1100];
	watch_screen_end();
	switch (end) {
	case END_EXITED:
		cli_warn("watch: pid %ld exited; watched %lu refresh%s", run->s->pid,
			 watch_model_refreshes(run->model),
			 watch_model_refreshes(run->model) == 1 ? "" : "es");
		return EXIT_OK;
	case END_ERROR:
		return cli_error("watch: %s", snap_error_format(&run->err, buf, sizeof(buf)));
	default:
		return EXIT_OK;
	}
}

static bool utf8_locale(void)
{
	const char *codeset = nl_langinfo(CODESET);
	return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

int cmd_watch(int argc, char **argv)
{
	struct watch_settings s = { .interval_ms = 1000, .interval = "1s" };
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	setlocale(LC_CTYPE, "");
	s.ascii |= !utf8_locale();
	struct watch_run run = { .s = &s, .start_time = -1 };
	if (watch_model_new(&run.model, &s.filter) < 0)
		return cli_error("watch: out of memory");
	clock_gettime(CLOCK_MONOTONIC, &run.base_time);
	int end = first_capture(&run);
	if (end == END_EXITED || end == END_ERROR) {
		watch_model_free(run.model);
		return cli_report(&run.err);
	}
	if (catch_signals() != 0) {
		watch_model_free(run.model);
		return cli_error("watch: cannot catch signals: %s", strerror(errno));
	}
	run.screen = !s.batch && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (run.screen && watch_screen_start() != 0) {
		watch_model_free(run.model);
		return cli_error("watch: cannot start the terminal screen (TERM=%s)",
				 getenv("TERM") ? getenv("TERM") : "");
	}
	/* The first capture is taken; --count N wants N - 1 more. */
	if (s.count != 1 && watch_capturer_start(&run.capturer, s.pid, s.interval_ms,
						 s.count ? s.count - 1 : 0) < 0) {
		watch_screen_end();
		watch_model_free(run.model);
		return cli_error("watch: cannot start capturing: out of memory");
	}
	end = watch_loop(&run);
	watch_capturer_stop(run.capturer);
	rc = finish(&run, end);
	watch_model_free(run.model);
	return rc;
}
