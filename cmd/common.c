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

int cli_bad_option(const char *command, char **argv)
{
	extern int optind, optopt;
	const char *arg = argv[optind - 1];
	if (optopt && arg[0] == '-' && arg[1] != '-')
		return cli_error("%s: unknown option '-%c' or it needs a value (see "
				 "'mapsnap %s --help')", command, optopt, command);
	return cli_error("%s: unknown option '%s' or it needs a value (see "
			 "'mapsnap %s --help')", command, arg, command);
}

bool cli_color_wanted(int fd)
{
	const char *no = getenv("NO_COLOR"), *force = getenv("CLICOLOR_FORCE");
	if (no && *no)
		return false;
	return isatty(fd) || (force && *force && strcmp(force, "0") != 0);
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
	if (!opts->redact)
		return EXIT_OK;
	int rc = c->key_file ? snap_redact_key_file(&c->r, c->key_file, &created, &err)
			     : snap_redact_random(&c->r);
	if (rc < 0)
		return c->key_file ? cli_report(&err)
				   : cli_error("capture: no random numbers for a redaction key");
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

bool cli_is_pid(const char *arg, long *pid)
{
	if (!*arg || strlen(arg) > 10)
		return false;
	for (const char *s = arg; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	long v = strtol(arg, NULL, 10);
	if (v <= 0 || v > 0x7fffffff)
		return false;
	*pid = v;
	return true;
}

bool cli_is_live_pid(const char *arg, long *pid)
{
	long ignored;
	return access(arg, F_OK) != 0 && cli_is_pid(arg, pid ? pid : &ignored);
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
	int rc = snap_snapshot_new(&snap);
	if (rc < 0)
		return snap_error_set(err, rc, source, 0, "out of memory");
	snap_parser *p = NULL;
	char *buf = malloc(1 << 16);
	if (!buf || (rc = snap_parser_new(&p, snap, source, NULL, NULL)) < 0) {
		rc = snap_error_set(err, SNAP_ENOMEM, source, 0, "out of memory");
		goto out;
	}
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
	if (stat(arg, &st) == 0) {
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
	int rc = snap_capture(&snap, (pid_t)pid, &opts, err);
	if (rc < 0)
		return rc;
	if (cli_snapshots_push(list, snap) < 0) {
		snap_snapshot_free(snap);
		return snap_error_set(err, SNAP_ENOMEM, arg, 0, "out of memory");
	}
	return 0;
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

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
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

/* The named temporary file to path, never over an existing file. */
static int rename_noreplace(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: link() never replaces. */
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

static int put_in_place(cli_output *out, bool force)
{
	int fd = fileno(out->f);
	if (out->tmp)
		return force ? rename(out->tmp, out->path)
			     : rename_noreplace(out->tmp, out->path);
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
	if (stat(arg, &st) == 0)
		return S_ISDIR(st.st_mode) ? each_in_directory(arg, fn, ctx, err)
					   : each_in_file(arg, fn, ctx, err);
	cli_snapshots one = { 0 };
	int rc = cli_load_arg(&one, arg, capture, err);
	if (rc == 0 && one.count)
		rc = fn(ctx, one.items[0], arg);
	cli_snapshots_free(&one);
	return rc;
}
