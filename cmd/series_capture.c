/* mapsnap capture PID --every DURATION [--count N | --for DURATION] -o FILE:
 * appends one snapshot document per interval to FILE, the series that
 * `mapsnap trend` reads.
 *
 * Safety of the file: each snapshot is built in memory and appended with
 * one write(2) to an O_APPEND descriptor, then synced; a write that fails
 * (a full disk) is cut back off, so the file always ends with a whole
 * document. Only a kill in the middle of that write can leave a cut-off
 * last document, which every reader drops with a warning (and the next
 * capture --every into the same file trims first). SIGINT, SIGTERM and
 * SIGHUP only set a flag, read between regions, before each write and
 * while waiting for the next tick: a capture in progress is dropped and
 * the series ends after its last whole snapshot. A capture that the
 * process tore by running another program is skipped with a warning.
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
	cli_schedule sched;
	int64_t on_change_kb; /* > 0: a full snapshot only when Rss, Pss or Swap moved this much */
	bool force;
	snap_capture_opts opts;
	cli_redaction redaction;
};

enum stop_reason { STOP_DONE, STOP_SIGNAL, STOP_EXITED, STOP_ERROR };

/* What a region callback returns to stop a capture for a stop signal. */
#define CAPTURE_STOPPED 1

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
	      "end is trimmed first) when it holds snapshots of this same process;\n"
	      "--force starts it afresh. A capture torn by the process running\n"
	      "another program is skipped with a warning. Exit status: 0 when at\n"
	      "least one snapshot was written, 2 on an error (a failed write is cut\n"
	      "back off the file: it ends with its last whole snapshot).\n"
	      "\n"
	      "With --on-change SIZE each tick reads only smaps_rollup, and a full\n"
	      "snapshot is taken when Rss, Pss or Swap moved by SIZE or more since\n"
	      "the last full one, and always at the first and the last tick (when\n"
	      "--count, --for or a signal ends the series): a long series of a\n"
	      "quiet process costs little. --count then counts ticks.\n"
	      "\n"
	      "\n", f);
	cli_print_options(f, CLI_SERIES, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap capture 1234 --every 10s --for 1h -o series.json\n"
	      "  mapsnap capture --name nginx --every 1m --on-change 4M -o nginx.json\n"
	      "  mapsnap trend series.json            which regions keep growing\n", f);
}

bool series_capture_wanted(int argc, char **argv)
{
	static const char *const words[] = { "--every", "--count", "--for", "--on-change" };
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

static int parse_option(struct series_settings *s, int c, const char *arg)
{
	int rc = cli_capture_option(&s->opts, &s->redaction, c, arg);
	if (rc == 1)
		rc = cli_schedule_option(&s->sched, c, arg);
	if (rc != 1)
		return rc;
	switch (c) {
	case 'o': s->output = arg; return EXIT_OK;
	case 'n': s->name = arg; return EXIT_OK;
	case 'f': s->force = true; return EXIT_OK;
	case OPT_ON_CHANGE: {
		int64_t bytes;
		snap_error err;
		if (snap_parse_size(arg, false, &bytes, &err) < 0)
			return cli_error("capture: --on-change: %s", err.message);
		if (bytes < 1024)
			return cli_error("capture: --on-change wants a size of 1K or more "
					 "(512K, 4M), not '%s'", arg);
		s->on_change_kb = bytes / 1024;
		return EXIT_OK;
	}
	}
	return EXIT_ERROR;
}

static int parse_args(struct series_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_SERIES, "capture", argc, argv)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || parse_option(s, c, optarg) != EXIT_OK)
			return EXIT_ERROR;
	}
	if (!s->sched.every_ms)
		return cli_error("capture: --count, --for and --on-change go with --every "
				 "DURATION");
	if (cli_schedule_check(&s->sched) != EXIT_OK)
		return EXIT_ERROR;
	if (!s->output)
		return cli_error("capture: --every needs -o FILE (the series file)");
	return cli_redaction_ready(&s->redaction, &s->opts);
}

static int find_pid(const struct series_settings *s, int argc, char **argv,
		    pid_t *pid)
{
	long p;
	if (s->name && argc)
		return cli_error("capture: give a pid or --name, not both");
	if (!s->name) {
		if (argc != 1)
			return cli_error("capture: --every follows one process: give one PID");
		if (!cli_is_pid(argv[0], &p))
			return cli_error("capture: '%s' is not a process id", argv[0]);
		*pid = (pid_t)cli_tgid(p); /* a thread id: its process */
		return EXIT_OK;
	}
	pid_t *pids;
	size_t n;
	if (cli_find_pids_by_name(s->name, &pids, &n) != EXIT_OK)
		return EXIT_ERROR;
	*pid = n ? pids[0] : 0;
	free(pids);
	if (n == 0)
		return cli_no_such_name("capture", s->name);
	if (n > 1)
		return cli_error("capture: %zu processes are named '%s'; --every follows "
				 "one (give its PID)", n, s->name);
	return EXIT_OK;
}

/* ---- the series file ---- */

/* The process a series follows: pid, start time and boot. */
struct owner {
	bool known;
	long pid;
	long long start_time;
	char boot_id[64];
};

static void owner_of(struct owner *o, const snap_snapshot *snap)
{
	memset(o, 0, sizeof(*o));
	o->known = snap->process.known;
	o->pid = snap->process.pid;
	o->start_time = snap->process.start_time;
	snprintf(o->boot_id, sizeof(o->boot_id), "%s",
		 snap->host.boot_id ? snap->host.boot_id : "");
}

static bool same_owner(const struct owner *a, const struct owner *b)
{
	return a->known && b->known && a->pid == b->pid &&
	       a->start_time == b->start_time &&
	       (!a->boot_id[0] || !b->boot_id[0] || strcmp(a->boot_id, b->boot_id) == 0);
}

/* Who the process is now, before anything is written. */
static int read_owner(struct owner *o, pid_t pid, const snap_capture_opts *opts)
{
	snap_snapshot *snap;
	snap_error err = { 0 };
	if (snap_snapshot_new(&snap, &err) < 0)
		return cli_report(&err);
	int rc = snap_capture_meta(snap, pid, opts, &err);
	if (rc == 0)
		owner_of(o, snap);
	snap_snapshot_free(snap);
	return rc == 0 ? EXIT_OK : cli_report(&err);
}

static int refuse_other(const char *path, const struct owner *last, long pid)
{
	if (!last->known)
		return cli_error("%s: holds snapshots of no known process, not of pid %ld; "
				 "not appending to it (--force starts it afresh)", path, pid);
	if (last->pid != pid)
		return cli_error("%s: holds snapshots of pid %ld, not of pid %ld; not "
				 "appending to it (--force starts it afresh)", path,
				 last->pid, pid);
	return cli_error("%s: holds snapshots of an earlier process %ld (another start "
			 "time or boot); not appending to it (--force starts it afresh)",
			 path, pid);
}

/* Where the complete documents of an existing series end; a cut-off one
 * after them is trimmed, anything that is not a series of this same
 * process is refused. */
static int check_existing(int fd, const char *path, const struct owner *target)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cli_error("%s: %s", path, strerror(errno));
	snap_error err = { 0 };
	struct owner last = { 0 };
	long good_end = 0;
	int rc;
	while (!cli_stop_signal()) {
		snap_snapshot *snap;
		if ((rc = fmt_json_load(&snap, f, path, &err)) != 0)
			break;
		owner_of(&last, snap);
		snap_snapshot_free(snap);
		good_end = ftell(f);
	}
	fclose(f);
	if (cli_stop_signal())
		return cli_error("capture: stopped by %s before the first snapshot",
				 cli_signal_name(cli_stop_signal()));
	if (rc != 1 && rc != SNAP_ETRUNC) {
		char buf[1100];
		return cli_error("%s: not a snapshot series (%s); not appending to it "
				 "(--force starts it afresh)", path,
				 snap_error_format(&err, buf, sizeof(buf)));
	}
	if (good_end && !same_owner(&last, target))
		return refuse_other(path, &last, target->pid);
	if (rc == 1)
		return EXIT_OK;
	if (ftruncate(fd, good_end) != 0 || (good_end && write(fd, "\n", 1) != 1))
		return cli_error("%s: cannot trim its cut-off last snapshot: %s", path,
				 strerror(errno));
	cli_warn("%s: trimmed a cut-off snapshot at its end (its writer was stopped "
		 "mid-write)", path);
	return EXIT_OK;
}

/* *created: the file is new (removed again if no snapshot reaches it). A
 * new file is created exclusively: one that appears meanwhile is treated
 * as an existing series, never truncated. */
static int open_series(const struct series_settings *s, const struct owner *target,
		       int *fd, bool *created)
{
	const char *path = s->output;
	struct stat st;
	if (strcmp(path, "-") == 0) {
		*fd = STDOUT_FILENO;
		return EXIT_OK;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return cli_error("%s: is a directory; --every writes one series file", path);
	int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
	*created = true;
	if ((*fd = open(path, flags | O_CREAT | O_EXCL, 0666)) < 0 && errno == EEXIST) {
		*created = false;
		*fd = open(path, flags | (s->force ? O_TRUNC : 0));
	}
	if (*fd < 0)
		return cli_error("%s: cannot open: %s", path, strerror(errno));
	if (!*created && !s->force && fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && check_existing(*fd, path, target) != EXIT_OK) {
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
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
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
	if (cli_stop_signal())
		return CAPTURE_STOPPED;
	if (st->rss_field < 0)
		st->rss_field = snap_field_find(snap, "Rss");
	st->tick->rss_kb += (int64_t)snap_region_value(r, st->rss_field);
	st->tick->nregions++;
	return fmt_json_region(st->writer, snap, r);
}

/* SNAP_OK with tk->doc, CAPTURE_STOPPED, or an error in err. */
static int capture_tick(const struct series_settings *s, pid_t pid,
			struct tick *tk, snap_error *err)
{
	memset(tk, 0, sizeof(*tk));
	snap_snapshot *snap = NULL;
	struct stream st = { NULL, tk, -1 };
	FILE *mem = open_memstream(&tk->doc, &tk->len);
	int rc = mem ? snap_snapshot_new(&snap, err) : SNAP_ENOMEM;
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
		if (rc < 0 && !err->message[0])
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

/* Sleeps until the monotonic deadline, waking early when a stop signal
 * arrives or the process exits. The signals are blocked from the check
 * of the flag until ppoll unblocks them, so none slips in between. */
static enum stop_reason wait_until(int64_t deadline, int pidfd)
{
	sigset_t stops, unblocked;
	cli_stop_signals(&stops);
	sigprocmask(SIG_BLOCK, &stops, &unblocked);
	enum stop_reason why = STOP_DONE;
	for (;;) {
		if (cli_stop_signal()) {
			why = STOP_SIGNAL;
			break;
		}
		int64_t left = deadline - now_ns();
		if (left <= 0)
			break;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		struct pollfd p = { pidfd, POLLIN, 0 };
		int n = ppoll(pidfd >= 0 ? &p : NULL, pidfd >= 0 ? 1 : 0, &ts, &unblocked);
		if (n > 0) {
			why = STOP_EXITED;
			break;
		}
		if (n < 0 && errno != EINTR) {
			why = STOP_ERROR;
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
	return why;
}

struct run {
	const struct series_settings *s;
	pid_t pid;
	int fd, pidfd;
	bool created;
	size_t done, skipped, torn;
	int64_t start;
	long long start_time;
	bool progress;
	/* --on-change: ticks taken, those that only read smaps_rollup, the
	 * rollup at the last full snapshot, and whether the last tick was one
	 * that only read it */
	size_t ticks, quiet;
	int64_t base[3];
	bool last_quiet;
};

static void show_progress(const struct run *r, const struct tick *tk)
{
	char rss[32];
	double elapsed = (double)(now_ns() - r->start) / 1e9;
	snap_format_kb(rss, sizeof(rss), (double)tk->rss_kb, false);
	fprintf(stderr, "\r\033[Kmapsnap: %zu snapshot%s of pid %ld, %.1fs, Rss %s",
		r->done, r->done == 1 ? "" : "s", (long)r->pid, elapsed, rss);
	fflush(stderr);
}

/* Appends one document, or leaves the file as it was: a write that
 * fails half-way (a full disk) is cut back off. */
static int append(const struct run *r, const struct tick *tk)
{
	off_t end = r->fd == STDOUT_FILENO ? -1 : lseek(r->fd, 0, SEEK_END);
	if (write_all(r->fd, tk->doc, tk->len) == 0)
		return 0;
	int e = errno;
	const char *path = r->fd == STDOUT_FILENO ? "stdout" : r->s->output;
	if (end >= 0 && ftruncate(r->fd, end) == 0)
		cli_error("%s: write failed: %s; the file keeps its %zu whole snapshot%s "
			  "(the cut-off one was removed)", path, strerror(e), r->done,
			  r->done == 1 ? "" : "s");
	else
		cli_error("%s: write failed: %s", path, strerror(e));
	return -1;
}

/* Takes and appends one snapshot; STOP_DONE to go on. */
static enum stop_reason one_snapshot(struct run *r)
{
	snap_error err = { 0 };
	struct tick tk = { 0 };
	int rc = has_exited(r->pidfd) ? SNAP_ENOPROC
				      : capture_tick(r->s, r->pid, &tk, &err);
	if (rc == CAPTURE_STOPPED)
		return STOP_SIGNAL; /* the capture in progress is dropped */
	if (rc == SNAP_ECHANGED) {
		/* The regions may be another program's than the header's, or
		 * cut short: not a snapshot to keep. */
		char buf[1100];
		r->torn++;
		cli_warn("capture: skipped snapshot %zu: %s", r->done + r->torn,
			 snap_error_format(&err, buf, sizeof(buf)));
		return STOP_DONE;
	}
	/* A reused pid is another process: this one has exited. */
	bool gone = rc == SNAP_ENOPROC ||
		    (rc == SNAP_OK && r->start_time >= 0 && tk.start_time != r->start_time);
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
	if (append(r, &tk) < 0) {
		free(tk.doc);
		return STOP_ERROR;
	}
	if (r->done++ == 0 && r->created)
		cli_sync_dir_of(r->s->output); /* the new file's name, durable */
	if (r->progress)
		show_progress(r, &tk);
	free(tk.doc);
	return STOP_DONE;
}

/* ---- --on-change: smaps_rollup alone on a quiet tick ---- */

static const char *const watched[3] = { "Rss", "Pss", "Swap" };

/* Rss, Pss and Swap (kB) of smaps_rollup: a walk of the page tables, but
 * no per-region text to format, parse or write. */
static int read_rollup(pid_t pid, int64_t kb[3], snap_error *err)
{
	snap_snapshot *tmp;
	int rc = snap_snapshot_new(&tmp, err);
	if (rc == 0 && (rc = snap_capture_rollup(tmp, pid, NULL, err)) == 0)
		for (int k = 0; k < 3; k++) {
			kb[k] = 0;
			for (size_t i = 0; i < tmp->nrollup; i++)
				if (strcmp(tmp->rollup[i].name, watched[k]) == 0)
					kb[k] = (int64_t)tmp->rollup[i].value;
		}
	snap_snapshot_free(tmp);
	return rc;
}

static bool moved_enough(const struct run *r, const int64_t kb[3])
{
	for (int k = 0; k < 3; k++) {
		int64_t d = kb[k] - r->base[k];
		if (d >= r->s->on_change_kb || -d >= r->s->on_change_kb)
			return true;
	}
	return false;
}

/* One tick: with --on-change, the rollup first, and a full snapshot only
 * when it moved (or on the first and the last tick). */
static enum stop_reason one_tick(struct run *r, bool last)
{
	r->ticks++;
	if (!r->s->on_change_kb)
		return one_snapshot(r);
	snap_error err = { 0 };
	int64_t kb[3];
	int rc = has_exited(r->pidfd) ? SNAP_ENOPROC : read_rollup(r->pid, kb, &err);
	if (rc == SNAP_ENOPROC && r->done)
		return STOP_EXITED;
	if (rc < 0) {
		if (!err.message[0])
			snap_error_set(&err, rc, "capture", 0, "pid %ld has exited", (long)r->pid);
		cli_report(&err);
		return STOP_ERROR;
	}
	if (r->done && !last && !moved_enough(r, kb)) {
		r->quiet++;
		r->last_quiet = true;
		return STOP_DONE;
	}
	size_t before = r->done;
	enum stop_reason why = one_snapshot(r);
	if (why == STOP_DONE && r->done > before) { /* not a torn one, skipped */
		memcpy(r->base, kb, sizeof(r->base));
		r->last_quiet = false;
	}
	return why;
}

/* --count counts snapshots written (a torn one is not one), or with
 * --on-change the ticks, since a quiet tick writes nothing. */
static size_t counted(const struct run *r)
{
	return r->s->on_change_kb ? r->ticks : r->done;
}

static enum stop_reason run_series(struct run *r)
{
	const struct series_settings *s = r->s;
	int64_t interval = s->sched.every_ms * 1000000, tick = 0;
	r->start = now_ns();
	for (;;) {
		bool last = s->sched.count && counted(r) + 1 >= s->sched.count;
		enum stop_reason why = cli_stop_signal() ? STOP_SIGNAL : one_tick(r, last);
		if (why != STOP_DONE || (s->sched.count && counted(r) >= s->sched.count))
			return why;
		/* A late tick is taken at once; ticks missed entirely are
		 * skipped, so the series stays on its grid. */
		tick++;
		int64_t behind = (now_ns() - (r->start + tick * interval)) / interval;
		if (behind > 0) {
			r->skipped += (size_t)behind;
			tick += behind;
		}
		if (cli_schedule_over(&s->sched, tick))
			return STOP_DONE;
		if ((why = wait_until(r->start + tick * interval, r->pidfd)) != STOP_DONE)
			return why;
	}
}

/* ---- the command ---- */

static int finish(const struct run *r, enum stop_reason why)
{
	const char *path = strcmp(r->s->output, "-") == 0 ? "stdout" : r->s->output;
	if (r->progress && r->done)
		fputc('\n', stderr);
	if (r->skipped)
		cli_warn("capture: %zu tick%s skipped: a capture took longer than the "
			 "interval", r->skipped, r->skipped == 1 ? "" : "s");
	if (r->s->on_change_kb)
		cli_warn("capture: %zu tick%s, %zu full snapshot%s, %zu read only "
			 "smaps_rollup (--on-change)", r->ticks, r->ticks == 1 ? "" : "s",
			 r->done, r->done == 1 ? "" : "s", r->quiet);
	if (why == STOP_SIGNAL)
		cli_warn("capture: stopped by %s; %zu snapshot%s in %s",
			 cli_signal_name(cli_stop_signal()), r->done,
			 r->done == 1 ? "" : "s", path);
	else if (why == STOP_EXITED)
		cli_warn("capture: pid %ld exited; %zu snapshot%s in %s", (long)r->pid,
			 r->done, r->done == 1 ? "" : "s", path);
	bool ok = why != STOP_ERROR && r->done;
	/* The name means "this file holds your series": only on success. */
	if (ok && r->fd != STDOUT_FILENO)
		printf("%s\n", r->s->output);
	return ok ? EXIT_OK : EXIT_ERROR;
}

int cmd_capture_series(int argc, char **argv)
{
	struct series_settings s = { 0 };
	snap_capture_opts_init(&s.opts, SNAP_CAPTURE_OPTS_VERSION);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	struct run r = { .s = &s, .fd = -1, .pidfd = -1, .start_time = -1 };
	struct owner target;
	/* From here a stop signal ends the series at a snapshot boundary. */
	cli_signals_init(CLI_STOP_FLAG);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, said once */
	if (find_pid(&s, argc - optind, argv + optind, &r.pid) != EXIT_OK ||
	    read_owner(&target, r.pid, &s.opts) != EXIT_OK ||
	    open_series(&s, &target, &r.fd, &r.created) != EXIT_OK)
		return EXIT_ERROR;
	r.pidfd = open_pidfd(r.pid);
	r.progress = isatty(STDERR_FILENO);
	enum stop_reason why = run_series(&r);
	/* --on-change: the series ends with a full snapshot, whatever ended it
	 * while the process lives (a quiet last tick is taken in full now). */
	if (s.on_change_kb && r.last_quiet && (why == STOP_DONE || why == STOP_SIGNAL)) {
		r.quiet--; /* that tick is taken in full after all */
		if (one_snapshot(&r) == STOP_ERROR)
			why = STOP_ERROR;
	}
	rc = finish(&r, why);
	if (r.pidfd >= 0)
		close(r.pidfd);
	if (r.fd != STDOUT_FILENO)
		close(r.fd);
	if (r.created && !r.done)
		unlink(s.output);
	return rc;
}
