/* mapsnap around PID -- COMMAND: capture PID, run COMMAND, capture again,
 * and report what the operation did to PID's memory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

struct around_settings {
	report_settings report;
	const char *dir;
	bool force;
	long pid;
	char **command;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap around PID [options] -- COMMAND [ARGS...]\n"
	      "\n"
	      "Captures PID, runs COMMAND (with MAPSNAP_PID set to PID), captures\n"
	      "PID again and prints the diff. With -o, also writes before.json,\n"
	      "after.json and diff.json (the JSON report) into DIR.\n"
	      "\n", f);
	cli_print_options(f, CLI_AROUND, 0);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap around 1234 -- curl -s localhost:8080/load\n"
	      "  mapsnap around 1234 -o run1 --fail-if 'rss>+8M' -- ./replay.sh\n"
	      "\n"
	      "Exit status: 0 the gate passed (or none), 1 the gate failed, 2 an\n"
	      "error; when COMMAND fails, its own status (128+N when signal N killed\n"
	      "it), and 127 or 126 when it could not be started (then nothing is\n"
	      "captured after it). With -o, before.json is written before COMMAND\n"
	      "runs and kept if the capture after it fails. SIGINT, SIGTERM or\n"
	      "SIGHUP reach COMMAND, and remove what around created.\n", f);
}

static int split_command(struct around_settings *s, int *argc, char **argv)
{
	for (int i = 1; i < *argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			s->command = argv + i + 1;
			*argc = i;
			return s->command[0] ? EXIT_OK
					     : cli_error("around: no COMMAND after '--'");
		}
	return cli_error("around: needs '-- COMMAND' (see 'mapsnap around --help')");
}

static int parse_args(struct around_settings *s, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return -1;
		}
	if (split_command(s, &argc, argv) != EXIT_OK)
		return EXIT_ERROR;
	int c;
	while ((c = cli_getopt(CLI_AROUND, "around", argc, argv)) != -1) {
		if (c == 'o')
			s->dir = optarg;
		else if (c == 'f')
			s->force = true;
		else if (c == '?' || report_option(&s->report, c, optarg) != 0)
			return EXIT_ERROR;
	}
	if (argc - optind != 1 || !cli_is_pid(argv[optind], &s->pid))
		return cli_error("around: needs one PID before '--' (see 'mapsnap around "
				 "--help')");
	s->pid = cli_tgid(s->pid); /* a thread id: its process */
	return EXIT_OK;
}

/* ---- the output directory ---- */

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Creates DIR (removed again on a stop signal, or when COMMAND cannot
 * start) and refuses to start when it already holds results. */
static int prepare_dir(const struct around_settings *s, bool *created)
{
	static const char *const names[] = { "before.json", "after.json", "diff.json" };
	struct stat st;
	*created = stat(s->dir, &st) != 0 && errno == ENOENT;
	if (cli_make_dirs(s->dir) != 0)
		return cli_error("%s: cannot create: %s", s->dir, strerror(errno));
	if (*created)
		cli_cleanup_dir(s->dir);
	if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_error("%s: not a directory", s->dir);
	for (size_t k = 0; k < 3 && !s->force; k++) {
		char path[4200];
		path_in(path, sizeof(path), s->dir, names[k]);
		if (access(path, F_OK) == 0)
			return cli_error("%s: already exists (use --force to overwrite)", path);
	}
	return EXIT_OK;
}

/* What around wrote, removed on a stop signal or when COMMAND cannot
 * start; *slot is its entry on the signal cleanup list. */
struct written {
	char path[4200];
	int slot;
};

static int save(const struct around_settings *s, const char *name,
		const snap_snapshot *snap, struct written *w)
{
	cli_output out;
	snap_error err;
	path_in(w->path, sizeof(w->path), s->dir, name);
	if (cli_output_open(&out, w->path, s->force, &err) < 0)
		return cli_report(&err);
	if (fmt_json_write(out.f, snap) < 0) {
		cli_output_discard(&out);
		return cli_error("%s: write failed", w->path);
	}
	w->slot = cli_cleanup_file(w->path);
	if (cli_output_commit(&out, &err) < 0) {
		cli_cleanup_forget(w->slot);
		w->slot = -1;
		return cli_report(&err);
	}
	return EXIT_OK;
}

/* ---- the operation ---- */

/* How COMMAND ended: its wait status, or the errno of a failed start. */
struct outcome {
	bool started;
	int status;
	int start_errno;
};

/* In the child: the stop signals back to what they were before mapsnap
 * (default, or ignored), then exec; a failed exec sends its errno back on
 * the close-on-exec pipe. */
static void exec_command(const struct around_settings *s, int report_fd,
			 const sigset_t *mask)
{
	sigset_t stops;
	cli_stop_signals(&stops);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sigismember(&stops, sig) == 1 && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			signal(sig, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", s->pid);
	setenv("MAPSNAP_PID", pid, 1);
	execvp(s->command[0], s->command);
	int e = errno;
	if (write(report_fd, &e, sizeof(e)) != sizeof(e))
		_exit(127);
	_exit(127);
}

static void run_command(const struct around_settings *s, struct outcome *o)
{
	int pipefd[2];
	sigset_t stops, old;
	memset(o, 0, sizeof(*o));
	fflush(NULL);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		o->start_errno = errno;
		return;
	}
	/* No stop signal between fork and the child's pid on the cleanup
	 * list, nor in the child before its handlers are reset. */
	cli_stop_signals(&stops);
	sigprocmask(SIG_BLOCK, &stops, &old);
	pid_t child = fork();
	if (child == 0)
		exec_command(s, pipefd[1], &old);
	o->start_errno = child < 0 ? errno : 0;
	if (child > 0)
		cli_cleanup_child(child);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (child > 0) {
		int e;
		ssize_t n;
		while ((n = read(pipefd[0], &e, sizeof(e))) < 0 && errno == EINTR)
			;
		if (n == sizeof(e))
			o->start_errno = e;
		while (waitpid(child, &o->status, 0) < 0 && errno == EINTR)
			;
		cli_cleanup_child(0);
		o->started = o->start_errno == 0;
	}
	close(pipefd[0]);
}

static bool command_failed(const struct outcome *o)
{
	return !o->started || !WIFEXITED(o->status) || WEXITSTATUS(o->status) != 0;
}

/* Says how COMMAND failed; returns the exit status around passes on. */
static int command_failure(const struct around_settings *s, const struct outcome *o)
{
	if (!o->started) {
		cli_error("around: cannot run '%s': %s; nothing captured after it",
			  s->command[0], strerror(o->start_errno));
		return o->start_errno == ENOENT ? 127 : 126;
	}
	if (WIFSIGNALED(o->status)) {
		cli_error("around: command '%s' was killed by signal %d; exit status %d",
			  s->command[0], WTERMSIG(o->status), 128 + WTERMSIG(o->status));
		return 128 + WTERMSIG(o->status);
	}
	cli_error("around: command '%s' failed with exit status %d; mapsnap exits "
		  "with it", s->command[0], WEXITSTATUS(o->status));
	return WEXITSTATUS(o->status);
}

static int capture(snap_snapshot **out, const struct around_settings *s,
		   const char *when)
{
	snap_error err;
	if (snap_capture(out, (pid_t)s->pid, NULL, &err) < 0) {
		char buf[1100];
		return cli_error("around: capture %s COMMAND: %s", when,
				 snap_error_format(&err, buf, sizeof(buf)));
	}
	return EXIT_OK;
}

/* COMMAND could not start: no operation happened, so no results. */
static void remove_created(const struct written *w, size_t n, bool dir_created,
			   const char *dir)
{
	for (size_t k = 0; k < n; k++)
		if (w[k].slot >= 0) {
			unlink(w[k].path);
			cli_cleanup_forget(w[k].slot);
		}
	if (dir_created)
		rmdir(dir);
	cli_cleanup_dir(NULL);
}

static int after_command(const struct around_settings *s, const snap_snapshot *before,
			 struct written *w)
{
	snap_snapshot *after = NULL;
	int rc = capture(&after, s, "after");
	if (rc != EXIT_OK) {
		if (s->dir)
			cli_warn("around: %s kept", w[0].path);
		return rc;
	}
	if (s->dir)
		rc = save(s, "after.json", after, &w[1]);
	char json[4200];
	if (s->dir)
		path_in(json, sizeof(json), s->dir, "diff.json");
	if (rc == EXIT_OK && s->dir)
		w[2].slot = cli_cleanup_file(json);
	if (rc == EXIT_OK)
		rc = report_run(&s->report, before, after, "before", "after", "-",
				s->force, s->dir ? json : NULL);
	snap_snapshot_free(after);
	return rc;
}

static int around(const struct around_settings *s)
{
	snap_snapshot *before = NULL;
	struct written w[3] = { { "", -1 }, { "", -1 }, { "", -1 } };
	bool dir_created = false;
	struct outcome o;
	cli_signals_init(CLI_STOP_CLEANUP);
	int rc = s->dir ? prepare_dir(s, &dir_created) : EXIT_OK;
	if (rc == EXIT_OK)
		rc = capture(&before, s, "before");
	/* Written now: kept when the capture after COMMAND fails. */
	if (rc == EXIT_OK && s->dir)
		rc = save(s, "before.json", before, &w[0]);
	if (rc != EXIT_OK) {
		remove_created(w, 3, dir_created, s->dir);
		snap_snapshot_free(before);
		return rc;
	}
	run_command(s, &o);
	if (!o.started) {
		remove_created(w, 3, dir_created, s->dir);
		snap_snapshot_free(before);
		return command_failure(s, &o);
	}
	rc = after_command(s, before, w);
	if (command_failed(&o))
		rc = command_failure(s, &o);
	snap_snapshot_free(before);
	return rc;
}

int cmd_around(int argc, char **argv)
{
	struct around_settings s = { 0 };
	snap_error err;
	if (report_init(&s.report, "around", CLI_AROUND, &err) < 0)
		return cli_report(&err);
	int rc = parse_args(&s, argc, argv);
	if (rc == EXIT_OK)
		rc = around(&s);
	report_free(&s.report);
	return rc < 0 ? EXIT_OK : rc;
}
