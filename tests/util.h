/* Test utilities: run the real mapsnap binary, start helper workloads,
 * read files. Shared by the test_*.c binaries. */
#ifndef MAPSNAP_TEST_UTIL_H
#define MAPSNAP_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What a command printed and how it ended. */
typedef struct cmd_result {
	char *out;  /* stdout, NUL-terminated */
	size_t out_len;
	char *err;  /* stderr */
	int status; /* exit status, or 128 + signal */
} cmd_result;

/* Runs argv (argv[0] searched in PATH) with stdin_text (NULL: /dev/null). */
int run_cmd(cmd_result *res, char *const argv[], const char *stdin_text);
void cmd_result_free(cmd_result *res);
/* Runs the mapsnap binary ($MAPSNAP or ./mapsnap) with args, NULL-ended. */
int run_mapsnap(cmd_result *res, const char *stdin_text, ...);
/* The same without stdin, failing the test unless it exits `want`. */
cmd_result run_mapsnap_ok(int want, ...);

const char *mapsnap_bin(void);
/* $MAPSNAP_HELPERS/name or build/helpers/name, in a static buffer. */
const char *helper_path(const char *name);

/* A helper workload that prints "ready ..." then waits for stdin to
 * close. */
typedef struct helper_proc {
	pid_t pid;
	int to_child; /* its stdin */
	int from_child;
} helper_proc;

/* Starts argv[0] (a helper path) and waits for its "ready" line. */
int helper_start(helper_proc *h, char *const argv[]);
/* Sends a line and waits for the next line of output into reply. */
int helper_command(helper_proc *h, const char *line, char *reply, size_t size);
/* Closes its stdin and reaps it. */
void helper_stop(helper_proc *h);

/* Live comparisons of two readers read one frozen input. private_mounts
 * moves this test (and what it starts) into a mount namespace of its own
 * (needs root); there freeze_proc saves /proc/PID/NAME for each name into
 * dir and bind-mounts the copy over it, so that every reader, mapsnap or
 * pmap, reads those same bytes; thaw_proc undoes it. 0 or -1. */
int private_mounts(void);
int freeze_proc(pid_t pid, const char *dir, const char *const *names);
void thaw_proc(pid_t pid, const char *const *names);
/* SIGSTOP to a child, and returns once waitpid says it stopped. */
int stop_and_wait(pid_t pid);

/* Whole snapshot documents in a series file; *cut when it ends inside
 * one (its writer was stopped mid-write, or is writing it now). */
size_t series_count(const char *path, bool *cut);
/* Waits until the series at path holds n whole snapshots, woken by each
 * change in its directory (inotify): no polling, no delay. False when
 * the writer (any pid) ended first without getting there. */
bool series_wait(const char *path, size_t n, pid_t writer);

/* `mapsnap capture PID --every EVERY --count COUNT -o path` of the helper
 * h (tests/helpers/leaker --step), sending it "tick TICKS" after each
 * snapshot is written: what the series shows depends on those events,
 * not on how busy the machine is. res gets mapsnap's output and status;
 * -1 when the series could not be driven to its end. */
int capture_in_lockstep(cmd_result *res, helper_proc *h, const char *path,
			const char *every, size_t count, const char *ticks);

char *read_file(const char *path, size_t *len);
int write_file(const char *path, const char *data, size_t len);
/* A fresh directory under $TMPDIR; the path is malloc'd. */
char *make_tmpdir(void);
void remove_tree(const char *path);
bool file_exists(const char *path);

/* Compiles C code (written to out + ".c") into the shared library out
 * with cc -shared -fPIC and flags (space-separated, may be ""), then
 * fsyncs it, so its pages come from the disk; 0, or -1 with cc's error
 * printed. */
int build_shared_library(const char *code, const char *out, const char *flags);

/* Runs fn(ctx) in a child process in which every allocation fails (its
 * address space is limited to what it maps, and what malloc still held
 * is taken first), and returns what fn returned (0..255), or -1 when
 * the child did not exit. ASan's allocator reserves its memory up front
 * and cannot be made to fail so (it grows past the limit, then aborts):
 * in the sanitizer build fn does not run and 0 is returned, so these
 * tests check something in make check-unit only. */
int run_out_of_memory(int (*fn)(void *ctx), void *ctx);

/* 0 when a call returned want and its error's message holds text; else
 * prints what it got (for a child process, which cannot assert) and 1. */
struct snap_error;
int error_says(int rc, int want, const struct snap_error *err, const char *text);

#endif
