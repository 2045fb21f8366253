#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The first byte that is not white space, left unread; EOF when none. */
static int peek_content(FILE *f)
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
	int c = peek_content(f);
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
	snap_snapshot *snap;
	int rc = snap_capture(&snap, (pid_t)pid, capture, err);
	if (rc < 0)
		return rc;
	if (cli_snapshots_push(list, snap) < 0) {
		snap_snapshot_free(snap);
		return snap_error_set(err, SNAP_ENOMEM, arg, 0, "out of memory");
	}
	return 0;
}

/* ---- outputs ---- */

int cli_output_open(cli_output *out, const char *path, bool force,
		    snap_error *err)
{
	memset(out, 0, sizeof(*out));
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
	char *copy = strdup(path);
	out->path = strdup(path);
	if (!copy || !out->path ||
	    asprintf(&out->tmp, "%s/.%s.XXXXXX", dirname(copy),
		     strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		free(copy);
		free(out->path);
		out->path = NULL;
		out->tmp = NULL;
		return snap_error_set(err, SNAP_ENOMEM, path, 0, "out of memory");
	}
	free(copy);
	int fd = mkstemp(out->tmp);
	if (fd < 0) {
		int e = errno;
		cli_output_discard(out);
		return snap_error_set(err, SNAP_EIO, path, 0, "cannot create: %s",
				      strerror(e));
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
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
	int e = errno;
	if (fclose(out->f) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	out->f = NULL;
	errno = e;
	return rc;
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
	if (rename(out->tmp, out->path) != 0) {
		int e = errno;
		snap_error_set(err, SNAP_EIO, out->path, 0, "cannot rename into place: %s",
			       strerror(e));
		cli_output_discard(out);
		return SNAP_EIO;
	}
	free(out->tmp);
	free(out->path);
	free(out->buffer);
	memset(out, 0, sizeof(*out));
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
		fclose(out->f);
	if (out->tmp)
		unlink(out->tmp);
	free(out->tmp);
	free(out->path);
	free(out->buffer);
	memset(out, 0, sizeof(*out));
}
