/* mapsnap capture PID --every DURATION [--count N | --for DURATION] -o FILE:
 * appends one snapshot document per interval to FILE, the series that
 * `mapsnap trend` reads.
 *
 * Safety of the file: each snapshot is built in memory and appended with
 * one write(2) to an O_APPEND descriptor, then synced, so a stop at any
 * moment leaves every completed snapshot intact; only a kill in the
 * middle of that write can leave a cut-off last document, which every
 * reader drops with a warning (and the next capture --every into the same
 * file trims first). SIGINT, SIGTERM and SIGHUP are blocked except while
 * waiting for the next tick, so they stop the series between snapshots.
 * Ticks are start + k * interval on the monotonic clock: no drift. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "common.h"
#include "series_capture.h"

struct series_settings {
	const char *output;
	const char *name; /* --name COMM */
	int64_t every_ms, for_ms;
	size_t count;     /* 0: until stopped */
	bool has_for, force;
	snap_capture_opts opts;
	cli_redaction redaction;
};

enum stop_reason { STOP_DONE, STOP_SIGNAL, STOP_EXITED, STOP_ERROR };

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fputs("usage: mapsnap capture PID --every DURATION [--count N | --for DURATION]\n"
	      "                       -o FILE [options]\n"
	      "\n"
	      "Appends one snapshot of PID to FILE every DURATION, for `mapsnap trend`.\n"
	      "Stops after --count snapshots, after --for DURATION (a snapshot is\n"
	      "taken at each tick within it, the first at once), on Ctrl-C, SIGTERM\n"
	      "or SIGHUP, or when the process exits; every completed snapshot stays\n"
	      "intact. Durations: 500ms, 2s, 1.5m, 1h. Ticks follow the monotonic\n"
	      "clock and do not drift; a capture longer than the interval skips\n"
	      "ticks. On a terminal, a progress line shows the count, elapsed time\n"
	      "and Rss. An existing FILE is appended to (a cut-off snapshot at its\n"
	      "end is trimmed first) unless --force starts it afresh.\n"
	      "\n"
	      "  -o, --output FILE|-       the series file, or - for stdout\n"
	      "      --every DURATION      the interval\n"
	      "      --count N             stop after N snapshots\n"
	      "      --for DURATION        stop after DURATION\n"
	      "  -n, --name COMM           the one process whose comm is COMM\n"
	      "      --redact              as for a single capture, one key for\n"
	      "                            the whole series\n"
	      "      --redact-key FILE     as for a single capture\n"
	      "      --redact-keep DIR     as for a single capture\n"
	      "  -f, --force               truncate FILE instead of appending\n"
	      "  -h, --help                this help\n", f);
}

bool series_capture_wanted(int argc, char **argv)
{
	static const char *const words[] = { "--every", "--count", "--for" };
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		for (size_t k = 0; k < sizeof(words) / sizeof(*words); k++) {
			size_t n = strlen(words[k]);
			if (strncmp(argv[i], words[k], n) == 0 &&
			    (argv[i][n] == '\0' || argv[i][n] == '='))
				return true;
		}
	return false;
}

/* ---- arguments ---- */

static int parse_duration_arg(int64_t *ms, const char *arg, const char *opt)
{
	if (snap_parse_duration(arg, ms) < 0)
		return cli_error("capture: %s wants a duration such as 500ms, 2s, 1m "
				 "or 1h, not '%s'", opt, arg);
	return EXIT_OK;
}

static int parse_option(struct series_settings *s, int c, const char *arg)
{
	char *end;
	long n;
	switch (c) {
	case 'o': s->output = arg; return EXIT_OK;
	case 'n': s->name = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case 'r': s->opts.redact = true; return EXIT_OK;
	case 'k': s->redaction.key_file = arg; return EXIT_OK;
	case 'K': return cli_redaction_keep(&s->redaction, arg);
	case 'e': return parse_duration_arg(&s->every_ms, arg, "--every");
	case 't':
		s->has_for = true;
		return parse_duration_arg(&s->for_ms, arg, "--for");
	case 'c':
		n = strtol(arg, &end, 10);
		if (!*arg || *end || n < 1)
			return cli_error("capture: --count wants a number >= 1, not '%s'", arg);
		s->count = (size_t)n;
		return EXIT_OK;
	}
	return EXIT_ERROR;
}

static int parse_args(struct series_settings *s, int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "redact", no_argument, NULL, 'r' },
		{ "redact-key", required_argument, NULL, 'k' },
		{ "redact-keep", required_argument, NULL, 'K' },
		{ "every", required_argument, NULL, 'e' },
		{ "for", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "o:n:fh", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?')
			return cli_bad_option("capture", argv);
		if (parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (!s->every_ms)
		return cli_error("capture: --count and --for go with --every DURATION");
	if (s->count && s->has_for)
		return cli_error("capture: give --count or --for, not both");
	if (!s->output)
		return cli_error("capture: --every needs -o FILE (the series file)");
	if ((s->redaction.key_file || s->redaction.nkeep) && !s->opts.redact)
		return cli_error("capture: --redact-key and --redact-keep go with --redact");
	return cli_redaction_ready(&s->redaction, &s->opts);
}

static int find_pid(const struct series_settings *s, int argc, char **argv,
		    pid_t *pid)
{
	snap_error err = { 0 };
	long p;
	if (s->name && argc)
		return cli_error("capture: give a pid or --name, not both");
	if (!s->name) {
		if (argc != 1)
			return cli_error("capture: --every follows one process: give one PID");
		if (!cli_is_pid(argv[0], &p))
			return cli_error("capture: '%s' is not a process id", argv[0]);
		*pid = (pid_t)p;
		return EXIT_OK;
	}
	pid_t *pids;
	size_t n;
	if (snap_find_pids_by_comm(&pids, &n, s->name, NULL, &err) < 0)
		return cli_report(&err);
	*pid = n ? pids[0] : 0;
	free(pids);
	if (n == 0)
		return cli_error("capture: no process named '%s'", s->name);
	if (n > 1)
		return cli_error("capture: %zu processes are named '%s'; --every follows "
				 "one (give its PID)", n, s->name);
	return EXIT_OK;
}

/* ---- the series file ---- */

/* Where the complete documents of an existing series end; a cut-off one
 * after them is trimmed, anything that is not a series is refused. */
static int check_existing(int fd, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cli_error("%s: %s", path, strerror(errno));
	snap_error err = { 0 };
	long good_end = 0;
	int rc;
	for (;;) {
		snap_snapshot *snap;
		if ((rc = fmt_json_load(&snap, f, path, &err)) != 0)
			break;
		snap_snapshot_free(snap);
		good_end = ftell(f);
	}
	fclose(f);
	if (rc == 1)
		return EXIT_OK;
	if (rc != SNAP_ETRUNC) {
		char buf[1100];
		return cli_error("%s: not a snapshot series (%s); not appending to it "
				 "(--force starts it afresh)", path,
				 snap_error_format(&err, buf, sizeof(buf)));
	}
	if (ftruncate(fd, good_end) != 0 || (good_end && write(fd, "\n", 1) != 1))
		return cli_error("%s: cannot trim its cut-off last snapshot: %s", path,
				 strerror(errno));
	cli_warn("%s: trimmed a cut-off snapshot at its end (a capture was killed "
		 "mid-write)", path);
	return EXIT_OK;
}

/* *created: the file is new (removed again if no snapshot reaches it). */
static int open_series(const struct series_settings *s, int *fd, bool *created)
{
	const char *path = s->output;
	struct stat st;
	if (strcmp(path, "-") == 0) {
		*fd = STDOUT_FILENO;
		return EXIT_OK;
	}
	*created = stat(path, &st) != 0 && errno == ENOENT;
	if (!*created && S_ISDIR(st.st_mode))
		return cli_error("%s: is a directory; --every writes one series file", path);
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (s->force ? O_TRUNC : 0);
	if ((*fd = open(path, flags, 0666)) < 0)
		return cli_error("%s: cannot open: %s", path, strerror(errno));
	if (!s->force && fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    check_existing(*fd, path) != EXIT_OK) {
		close(*fd);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	/* Pipes and terminals cannot sync; that is not a failure. */
	if (fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

/* ---- one snapshot into memory ---- */

struct tick {
	char *doc; /* the whole document */
	size_t len;
	size_t nregions;
	int64_t rss_kb;
	long long start_time;
};

struct stream {
	fmt_json_writer *writer;
	struct tick *tick;
	int rss_field;
};

static int stream_region(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct stream *st = ctx;
	if (st->rss_field < 0)
		st->rss_field = snap_field_find(snap, "Rss");
	st->tick->rss_kb += (int64_t)snap_region_value(r, st->rss_field);
	st->tick->nregions++;
	return fmt_json_region(st->writer, snap, r);
}

static int capture_tick(const struct series_settings *s, pid_t pid,
			struct tick *tk, snap_error *err)
{
	memset(tk, 0, sizeof(*tk));
	snap_snapshot *snap = NULL;
	struct stream st = { NULL, tk, -1 };
	FILE *mem = open_memstream(&tk->doc, &tk->len);
	int rc = mem ? snap_snapshot_new(&snap) : SNAP_ENOMEM;
	if (rc == SNAP_OK && (rc = snap_capture_meta(snap, pid, &s->opts, err)) == SNAP_OK &&
	    (rc = fmt_json_begin(&st.writer, mem, snap)) == SNAP_OK) {
		rc = snap_capture_smaps(snap, pid, &s->opts, stream_region, &st, err);
		if (rc == SNAP_OK)
			rc = fmt_json_end(st.writer, snap); /* frees the writer */
		else
			fmt_json_abort(st.writer);
	}
	tk->start_time = snap ? snap->process.start_time : -1;
	snap_snapshot_free(snap);
	if (mem && fclose(mem) != 0 && rc == SNAP_OK)
		rc = SNAP_ENOMEM;
	if (rc != SNAP_OK) {
		free(tk->doc);
		tk->doc = NULL;
		if (!err->message[0])
			snap_error_set(err, rc, "capture", 0, "%s", snap_strerror(rc));
	}
	return rc;
}

/* ---- the schedule ---- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static bool has_exited(int pidfd)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	return pidfd >= 0 && poll(&p, 1, 0) > 0;
}

/* Sleeps until the monotonic deadline with the stop signals unblocked,
 * waking early when one arrives or the process exits. */
static enum stop_reason wait_until(int64_t deadline, int pidfd,
				   const sigset_t *unblocked)
{
	for (;;) {
		if (stop_signal)
			return STOP_SIGNAL;
		int64_t left = deadline - now_ns();
		if (left <= 0)
			return STOP_DONE;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		struct pollfd p = { pidfd, POLLIN, 0 };
		int n = ppoll(pidfd >= 0 ? &p : NULL, pidfd >= 0 ? 1 : 0, &ts, unblocked);
		if (n > 0)
			return STOP_EXITED;
		if (n < 0 && errno != EINTR)
			return STOP_ERROR;
	}
}

struct run {
	const struct series_settings *s;
	pid_t pid;
	int fd, pidfd;
	const sigset_t *unblocked;
	bool created;
	size_t done, skipped;
	int64_t start;
	long long start_time;
	bool progress;
};

static void show_progress(const struct run *r, const struct tick *tk)
{
	char rss[32];
	double elapsed = (double)(now_ns() - r->start) / 1e9;
	fprintf(stderr, "\r\033[Kmapsnap: %zu snapshot%s of pid %ld, %.1fs, Rss %s",
		r->done, r->done == 1 ? "" : "s", (long)r->pid, elapsed,
		fmt_kb(rss, sizeof(rss), tk->rss_kb, false));
	fflush(stderr);
}

/* Takes and appends one snapshot; STOP_DONE to go on. */
static enum stop_reason one_snapshot(struct run *r)
{
	snap_error err = { 0 };
	struct tick tk = { 0 };
	int rc = has_exited(r->pidfd) ? SNAP_ENOPROC
				      : capture_tick(r->s, r->pid, &tk, &err);
	/* An exiting process reads as empty, a reused pid as another start. */
	bool gone = rc == SNAP_ENOPROC ||
		    (rc == SNAP_OK && (tk.nregions == 0 || (r->start_time >= 0 &&
							    tk.start_time != r->start_time)));
	if (gone || rc != SNAP_OK) {
		free(tk.doc);
		if (gone && r->done)
			return STOP_EXITED;
		if (gone && !err.message[0])
			snap_error_set(&err, SNAP_ENOPROC, "capture", 0,
				       "pid %ld has exited", (long)r->pid);
		cli_report(&err);
		return STOP_ERROR;
	}
	r->start_time = tk.start_time;
	if (write_all(r->fd, tk.doc, tk.len) < 0) {
		cli_error("%s: write failed: %s", r->s->output, strerror(errno));
		free(tk.doc);
		return STOP_ERROR;
	}
	r->done++;
	if (r->progress)
		show_progress(r, &tk);
	free(tk.doc);
	return STOP_DONE;
}

static enum stop_reason run_series(struct run *r)
{
	const struct series_settings *s = r->s;
	int64_t interval = s->every_ms * 1000000, tick = 0;
	r->start = now_ns();
	for (;;) {
		enum stop_reason why = stop_signal ? STOP_SIGNAL : one_snapshot(r);
		if (why != STOP_DONE || (s->count && r->done >= s->count))
			return why;
		/* A late tick is taken at once; ticks missed entirely are
		 * skipped, so the series stays on its grid. */
		tick++;
		int64_t behind = (now_ns() - (r->start + tick * interval)) / interval;
		if (behind > 0) {
			r->skipped += (size_t)behind;
			tick += behind;
		}
		if (s->has_for && tick * interval > s->for_ms * 1000000)
			return STOP_DONE;
		if ((why = wait_until(r->start + tick * interval, r->pidfd, r->unblocked)) !=
		    STOP_DONE)
			return why;
	}
}

/* ---- the command ---- */

static void block_stop_signals(sigset_t *old)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t set;
	sigemptyset(&set);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		sigaddset(&set, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, said once */
	sigprocmask(SIG_BLOCK, &set, old);
}

static int finish(const struct run *r, enum stop_reason why)
{
	const char *path = strcmp(r->s->output, "-") == 0 ? "stdout" : r->s->output;
	if (r->progress && r->done)
		fputc('\n', stderr);
	if (r->skipped)
		cli_warn("capture: %zu tick%s skipped: a capture took longer than the "
			 "interval", r->skipped, r->skipped == 1 ? "" : "s");
	if (why == STOP_SIGNAL)
		cli_warn("capture: stopped by %s; %zu snapshot%s in %s",
			 stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM
			 ? "SIGTERM" : "SIGHUP", r->done, r->done == 1 ? "" : "s", path);
	else if (why == STOP_EXITED)
		cli_warn("capture: pid %ld exited; %zu snapshot%s in %s", (long)r->pid,
			 r->done, r->done == 1 ? "" : "s", path);
	if (r->done && r->fd != STDOUT_FILENO)
		printf("%s\n", r->s->output);
	return why == STOP_ERROR || !r->done ? EXIT_ERROR : EXIT_OK;
}

int cmd_capture_series(int argc, char **argv)
{
	struct series_settings s = { 0 };
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	struct run r = { .s = &s, .fd = -1, .pidfd = -1, .start_time = -1 };
	if (find_pid(&s, argc - optind, argv + optind, &r.pid) != EXIT_OK ||
	    open_series(&s, &r.fd, &r.created) != EXIT_OK)
		return EXIT_ERROR;
	sigset_t unblocked;
	block_stop_signals(&unblocked);
	r.unblocked = &unblocked;
	r.pidfd = open_pidfd(r.pid);
	r.progress = isatty(STDERR_FILENO);
	rc = finish(&r, run_series(&r));
	if (r.pidfd >= 0)
		close(r.pidfd);
	if (r.fd != STDOUT_FILENO)
		close(r.fd);
	if (r.created && !r.done)
		unlink(s.output);
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
	return rc;
}
