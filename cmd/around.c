/* mapsnap around PID -- COMMAND: capture PID, run COMMAND, capture again,
 * and report what the operation did to PID's memory. */
#include <errno.h>
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
	      "\n"
	      "  -o, --output DIR          write the snapshots and diff.json into DIR\n"
	      "                            (created when missing)\n"
	      "      --force               overwrite files already in DIR\n", f);
	fputs(report_usage, f);
	fputs("  -h, --help                this help\n"
	      "\n"
	      "Exit status: 0 the gate passed (or none), 1 the gate failed,\n"
	      "2 an error, or COMMAND failed (exited non-zero or was killed).\n", f);
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
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		REPORT_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return -1;
		}
	if (split_command(s, &argc, argv) != EXIT_OK)
		return EXIT_ERROR;
	int c;
	while ((c = getopt_long(argc, argv, "o:fh", options, NULL)) != -1) {
		if (c == 'o')
			s->dir = optarg;
		else if (c == 'f')
			s->force = true;
		else {
			int rc = c == '?' ? 1 : report_option(&s->report, c, optarg);
			if (rc == 1)
				return cli_error("around: see 'mapsnap around --help'");
			if (rc)
				return EXIT_ERROR;
		}
	}
	if (argc - optind != 1 || !cli_is_pid(argv[optind], &s->pid))
		return cli_error("around: needs one PID before '--' (see 'mapsnap around "
				 "--help')");
	return EXIT_OK;
}

/* ---- the output directory ---- */

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Creates DIR and refuses to start when it already holds results. */
static int prepare_dir(const struct around_settings *s)
{
	static const char *const names[] = { "before.json", "after.json", "diff.json" };
	struct stat st;
	if (mkdir(s->dir, 0777) != 0 && errno != EEXIST)
		return cli_error("%s: cannot create: %s", s->dir, strerror(errno));
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

static int save(const struct around_settings *s, const char *name,
		const snap_snapshot *snap)
{
	char path[4200];
	cli_output out;
	snap_error err;
	path_in(path, sizeof(path), s->dir, name);
	if (cli_output_open(&out, path, s->force, &err) < 0)
		return cli_report(&err);
	if (fmt_json_write(out.f, snap) < 0) {
		cli_output_discard(&out);
		return cli_error("%s: write failed", path);
	}
	if (cli_output_commit(&out, &err) < 0)
		return cli_report(&err);
	return EXIT_OK;
}

/* ---- the operation ---- */

/* Runs the command; returns its wait status, or -1 when it could not
 * be started. */
static int run_command(const struct around_settings *s)
{
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		char pid[24];
		snprintf(pid, sizeof(pid), "%ld", s->pid);
		setenv("MAPSNAP_PID", pid, 1);
		execvp(s->command[0], s->command);
		fprintf(stderr, "mapsnap: around: cannot run '%s': %s\n", s->command[0],
			strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static int command_failure(const struct around_settings *s, int status)
{
	if (status < 0)
		return cli_error("around: cannot run '%s'", s->command[0]);
	if (WIFSIGNALED(status))
		return cli_error("around: command '%s' was killed by signal %d",
				 s->command[0], WTERMSIG(status));
	return cli_error("around: command '%s' failed (exit status %d)",
			 s->command[0], WEXITSTATUS(status));
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

static int around(const struct around_settings *s)
{
	snap_snapshot *before = NULL, *after = NULL;
	int rc = s->dir ? prepare_dir(s) : EXIT_OK;
	if (rc == EXIT_OK)
		rc = capture(&before, s, "before");
	if (rc != EXIT_OK)
		return rc;
	int status = run_command(s);
	rc = capture(&after, s, "after");
	if (rc == EXIT_OK && s->dir &&
	    (rc = save(s, "before.json", before)) == EXIT_OK)
		rc = save(s, "after.json", after);
	char json[4200];
	if (s->dir)
		path_in(json, sizeof(json), s->dir, "diff.json");
	if (rc == EXIT_OK)
		rc = report_run(&s->report, before, after, "before", "after", "-",
				s->force, s->dir ? json : NULL);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = command_failure(s, status);
	snap_snapshot_free(before);
	snap_snapshot_free(after);
	return rc;
}

int cmd_around(int argc, char **argv)
{
	struct around_settings s = { 0 };
	if (report_init(&s.report) < 0)
		return cli_error("out of memory");
	int rc = parse_args(&s, argc, argv);
	if (rc == EXIT_OK)
		rc = around(&s);
	report_free(&s.report);
	return rc < 0 ? EXIT_OK : rc;
}
