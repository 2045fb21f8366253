/* mapsnap capture: /proc/PID/smaps (plus process and host facts) to a
 * snapshot JSON file, streamed region by region. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "common.h"
#include "capture_all.h"
#include "series_capture.h"

struct capture_settings {
	const char *output; /* NULL: default names in the current directory */
	const char *name;   /* --name COMM */
	const char *from_smaps;
	bool proc_files;
	bool build_ids; /* --from-smaps: read the files named on this host */
	bool force;
	snap_capture_opts opts;
	cli_redaction redaction;
};

static void usage(FILE *f)
{
	fputs("usage: mapsnap capture [options] PID...\n"
	      "       mapsnap capture --name NAME [options]\n"
	      "       mapsnap capture --from-smaps FILE|- [--proc-files] [options]\n"
	      "       mapsnap capture --all -o DIR/|FILE|- [--every DURATION]\n"
	      "                       (every process: see 'capture --all --help')\n"
	      "       mapsnap capture PID --every DURATION [--count N | --for DURATION]\n"
	      "                       -o FILE   (a series: see 'capture --every 1s --help')\n"
	      "\n"
	      "Captures /proc/PID/smaps with the process and host facts into a\n"
	      "snapshot JSON file, by default mapsnap-<comm>-<pid>-<UTC time>.json\n"
	      "in the current directory. Prints the name of each file written.\n"
	      "A snapshot is consistent or not written: a process that exits while\n"
	      "it is read gives exit status 2 and no file (one that runs another\n"
	      "program is read again, up to 3 times). A file is never half-written,\n"
	      "nor put over one that appeared meanwhile (without --force).\n"
	      "\n", f);
	cli_print_options(f, CLI_CAPTURE, 0);
	fputs("\na series (capture PID --every DURATION -o FILE; more in\n"
	      "'mapsnap capture --every 1s --help'):\n", f);
	cli_print_options(f, CLI_SERIES, CLI_CAPTURE);
	fputs("\nevery process (capture --all -o DIR/; more in\n"
	      "'mapsnap capture --all --help'):\n", f);
	cli_print_options(f, CLI_ALL, CLI_CAPTURE | CLI_SERIES);
	fputs("\n"
	      "Examples:\n"
	      "  mapsnap capture 1234                 mapsnap-<comm>-1234-<time>.json here\n"
	      "  mapsnap capture --name nginx -o snaps/today/\n"
	      "  mapsnap capture 1234 --every 10s --for 1h -o series.json\n"
	      "  ssh host cat /proc/1234/smaps | mapsnap capture --from-smaps - -o -\n"
	      "\n"
	      "Exit status: 0 every snapshot was written, 2 a usage error or a\n"
	      "process that could not be captured (its file is not written).\n", f);
}

static int parse_args(struct capture_settings *s, int argc, char **argv)
{
	int c;
	while ((c = cli_getopt(CLI_CAPTURE, "capture", argc, argv)) != -1) {
		int rc = cli_capture_option(&s->opts, &s->redaction, c, optarg);
		if (rc == EXIT_ERROR)
			return EXIT_ERROR;
		if (rc == EXIT_OK)
			continue;
		switch (c) {
		case 'o': s->output = optarg; break;
		case 'n': s->name = optarg; break;
		case 'f': s->force = true; break;
		case OPT_FROM_SMAPS: s->from_smaps = optarg; break;
		case OPT_PROC_FILES: s->proc_files = true; break;
		case OPT_BUILD_IDS: s->build_ids = true; break;
		case 'h': usage(stdout); return -1;
		default: return EXIT_ERROR;
		}
	}
	if (s->build_ids && !s->from_smaps)
		return cli_error("capture: --build-ids goes with --from-smaps (a live capture "
				 "reads them anyway)");
	cli_capture_env(&s->opts);
	return cli_redaction_ready(&s->redaction, &s->opts);
}

/* comm may hold '/', spaces and more: keep a file-name-safe form. */
static void safe_name(char *out, size_t size, const char *comm)
{
	size_t n = 0;
	for (const char *s = comm; *s && n + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
		out[n++] = ok ? (char)c : '_';
	}
	out[n] = '\0';
}

static bool names_directory(const char *output)
{
	struct stat st;
	size_t n = strlen(output);
	return (n && output[n - 1] == '/') ||
	       (stat(output, &st) == 0 && S_ISDIR(st.st_mode));
}

static void default_path(char *out, size_t size, const char *dir,
			 const snap_snapshot *snap)
{
	char comm[64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	const char *sep = dir && dir[strlen(dir) - 1] != '/' ? "/" : "";
	if (snap->process.known && snap->process.comm && snap->process.pid > 0) {
		safe_name(comm, sizeof(comm), snap->process.comm);
		snprintf(out, size, "%s%smapsnap-%s-%ld-%s.json", dir ? dir : "", sep,
			 comm, snap->process.pid, stamp);
	} else {
		snprintf(out, size, "%s%smapsnap-smaps-%s.json", dir ? dir : "", sep,
			 stamp);
	}
}

/* A default name never collides: two captures in one second get "-2". */
static void unique_default(char *out, size_t size, const char *dir,
			   const snap_snapshot *snap)
{
	default_path(out, size, dir, snap);
	size_t n = strlen(out) - strlen(".json");
	for (int i = 2; access(out, F_OK) == 0 && i < 1000; i++)
		snprintf(out + n, size - n, "-%d.json", i);
}

static int output_path(char *out, size_t size, const struct capture_settings *s,
		       const snap_snapshot *snap, snap_error *err)
{
	if (s->output && !names_directory(s->output)) {
		snprintf(out, size, "%s", s->output);
		return 0;
	}
	if (s->output && cli_make_dirs(s->output) != 0)
		return snap_error_set(err, SNAP_EIO, s->output, 0,
				      "cannot create directory: %s", strerror(errno));
	unique_default(out, size, s->output, snap);
	return 0;
}

struct stream_ctx {
	fmt_json_writer *writer;
	int write_errno;
};

static int write_region(void *ctx, snap_snapshot *snap, const snap_region *r)
{
	struct stream_ctx *sc = ctx;
	int rc = fmt_json_region(sc->writer, snap, r);
	if (rc < 0)
		sc->write_errno = errno;
	return rc;
}

/* Stdout gets the document from a buffer in memory: a capture that has
 * to start again cannot take back what went out on a pipe. */
static int flush_buffer(FILE *mem, char *const *buf, const size_t *len, FILE *to)
{
	/* fclose sets *buf and *len last (it may move the buffer). */
	if (fclose(mem) != 0)
		return SNAP_ENOMEM;
	return fwrite(*buf, 1, *len, to) == *len ? 0 : SNAP_EIO;
}

/* One try: metadata, then the regions streamed into the output as they
 * parse. Fills path with the file written. */
static int try_capture(const struct capture_settings *s, pid_t pid, char *path,
		       size_t size, snap_error *err)
{
	snap_snapshot *snap;
	cli_output out;
	struct stream_ctx sc = { NULL, 0 };
	FILE *mem = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc = snap_snapshot_new(&snap, err);
	if (rc < 0)
		return rc;
	if ((rc = snap_capture_meta(snap, pid, &s->opts, err)) < 0 ||
	    (rc = output_path(path, size, s, snap, err)) < 0 ||
	    (rc = cli_output_open(&out, path, s->force, err)) < 0)
		goto out;
	if (out.to_stdout && !(mem = open_memstream(&buf, &len))) {
		rc = snap_error_set(err, SNAP_ENOMEM, path, 0, "out of memory");
		goto discard;
	}
	if ((rc = fmt_json_begin(&sc.writer, mem ? mem : out.f, snap)) < 0) {
		sc.write_errno = errno;
		goto discard;
	}
	if ((rc = snap_capture_smaps(snap, pid, &s->opts, write_region, &sc, err)) != 0) {
		fmt_json_abort(sc.writer);
		goto discard;
	}
	if ((rc = fmt_json_end(sc.writer, snap)) < 0) { /* frees the writer */
		sc.write_errno = errno;
		goto discard;
	}
	if (mem) {
		rc = flush_buffer(mem, &buf, &len, out.f);
		mem = NULL;
		if (rc < 0) {
			sc.write_errno = errno;
			goto discard;
		}
	}
	rc = cli_output_commit(&out, err);
	goto out;
discard:
	if (!err->message[0] && rc == SNAP_ENOMEM)
		snap_error_set(err, rc, path, 0, "out of memory");
	else if (!err->message[0])
		snap_error_set(err, rc < 0 ? rc : SNAP_EIO, path, 0, "write failed: %s",
			       strerror(sc.write_errno ? sc.write_errno : EIO));
	cli_output_discard(&out);
out:
	if (mem)
		fclose(mem);
	free(buf);
	snap_snapshot_free(snap);
	return rc;
}

/* A process that runs another program while it is read is tried again,
 * as snap_capture() does; an exit ends it. No file either way. */
static int capture_one(const struct capture_settings *s, pid_t pid)
{
	snap_error err;
	char path[4096];
	int rc = SNAP_ECHANGED;
	for (int attempt = 1; rc == SNAP_ECHANGED && attempt <= SNAP_CAPTURE_ATTEMPTS;
	     attempt++) {
		memset(&err, 0, sizeof(err));
		rc = try_capture(s, pid, path, sizeof(path), &err);
	}
	if (rc == SNAP_ECHANGED) {
		snap_error last = err;
		snap_error_set(&err, rc, last.source, 0, "%.400s, %d times in a row",
			       last.message, SNAP_CAPTURE_ATTEMPTS);
	}
	if (rc != 0)
		return cli_report(&err);
	if (strcmp(path, "-") != 0)
		printf("%s\n", path);
	return EXIT_OK;
}

/* A saved smaps names files: their build-ids as they are here, when
 * they are (the same machine, or one with the same builds). */
static int files_on_this_host(snap_snapshot *snap, snap_error *err)
{
	snap_file_scan *scan = NULL;
	int rc = snap_file_scan_new(&scan, err);
	for (size_t i = 0; rc == SNAP_OK && i < snap->nregions; i++)
		rc = snap_file_scan_add(scan, &snap->regions[i], err);
	snap_file_scan_opts local = { .version = SNAP_FILE_SCAN_OPTS_VERSION };
	if (rc == SNAP_OK)
		rc = snap_file_scan_read(scan, snap, &local, err);
	snap_file_scan_free(scan);
	return rc;
}

/* --from-smaps FILE, or - for stdin (smaps text piped from elsewhere). */
static int read_saved_smaps(snap_snapshot *snap, const struct capture_settings *s,
			    snap_error *err)
{
	if (strcmp(s->from_smaps, "-") != 0)
		return snap_capture_files(snap, s->from_smaps, s->proc_files, err);
	int rc = snap_parse_smaps_fd(snap, STDIN_FILENO, "<stdin>", NULL, NULL, err);
	if (rc < 0)
		return rc;
	snap->tool = "mapsnap " SNAP_VERSION_STRING;
	snap->source = "smaps-file";
	return SNAP_OK;
}

static int capture_from_smaps(const struct capture_settings *s)
{
	snap_error err = { 0 }, why;
	snap_snapshot *snap;
	cli_output out;
	char path[4096];
	int rc = snap_snapshot_new(&snap, &err);
	if (rc < 0)
		return cli_report(&err);
	if ((rc = read_saved_smaps(snap, s, &err)) < 0)
		goto fail;
	if (snap->nregions == 0) {
		snap_error_set(&err, SNAP_EFORMAT, s->from_smaps, 0, "no mappings in it");
		goto fail;
	}
	if (s->build_ids && (rc = files_on_this_host(snap, &why)) < 0) {
		snap_error_set(&err, rc, s->from_smaps, 0, "%s", why.message);
		goto fail;
	}
	if (s->opts.redact && (rc = snap_redact_snapshot(snap, s->opts.redaction, &why)) < 0) {
		snap_error_set(&err, rc, s->from_smaps, 0, "%s", why.message);
		goto fail;
	}
	if ((rc = output_path(path, sizeof(path), s, snap, &err)) < 0 ||
	    (rc = cli_output_open(&out, path, s->force, &err)) < 0)
		goto fail;
	if ((rc = fmt_json_write(out.f, snap)) < 0) {
		snap_error_set(&err, rc, path, 0, "write failed: %s", strerror(errno));
		cli_output_discard(&out);
		goto fail;
	}
	if ((rc = cli_output_commit(&out, &err)) < 0)
		goto fail;
	if (strcmp(path, "-") != 0)
		printf("%s\n", path);
	snap_snapshot_free(snap);
	return EXIT_OK;
fail:
	snap_snapshot_free(snap);
	return cli_report(&err);
}

static int collect_pids(const struct capture_settings *s, int argc, char **argv,
			pid_t **pids, size_t *count)
{
	if (s->name) {
		if (cli_find_pids_by_name(s->name, pids, count) != EXIT_OK)
			return EXIT_ERROR;
		if (*count == 0) {
			free(*pids);
			return cli_no_such_name("capture", s->name);
		}
	} else {
		*pids = calloc((size_t)argc + 1, sizeof(**pids));
		*count = 0;
		if (!*pids)
			return cli_error("capture: out of memory");
	}
	for (int i = 0; i < argc; i++) {
		long pid;
		if (!cli_is_pid(argv[i], &pid)) {
			free(*pids);
			return cli_error("capture: '%s' is not a process id", argv[i]);
		}
		if (!s->name)
			(*pids)[(*count)++] = (pid_t)cli_tgid(pid);
	}
	return EXIT_OK;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_settings s = { 0 };
	snap_capture_opts_init(&s.opts, SNAP_CAPTURE_OPTS_VERSION);
	if (capture_all_wanted(argc, argv))
		return cmd_capture_all(argc, argv);
	if (series_capture_wanted(argc, argv))
		return cmd_capture_series(argc, argv);
	int rc = parse_args(&s, argc, argv);
	if (rc != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	argc -= optind;
	argv += optind;
	if (s.from_smaps) {
		if (argc || s.name)
			return cli_error("capture: --from-smaps takes no pids");
		if (s.proc_files && strcmp(s.from_smaps, "-") == 0)
			return cli_error("capture: --proc-files reads files beside "
					 "--from-smaps FILE; stdin has none");
		return capture_from_smaps(&s);
	}
	if (s.proc_files)
		return cli_error("capture: --proc-files goes with --from-smaps");
	if (!argc && !s.name)
		return cli_error("capture: which process? give a PID or --name COMM");
	if (s.name && argc)
		return cli_error("capture: give pids or --name, not both");
	pid_t *pids = NULL;
	size_t count = 0;
	if (collect_pids(&s, argc, argv, &pids, &count) != EXIT_OK)
		return EXIT_ERROR;
	if (count > 1 && s.output && strcmp(s.output, "-") != 0 &&
	    !names_directory(s.output)) {
		free(pids);
		return cli_error("capture: %zu processes need -o DIR/ (or -o -)", count);
	}
	int status = EXIT_OK;
	for (size_t i = 0; i < count; i++)
		if (capture_one(&s, pids[i]) != EXIT_OK)
			status = EXIT_ERROR;
	free(pids);
	return status;
}
