/* Shared by the subcommands: error printing, loading inputs (snapshot
 * files, raw smaps text, live pids), and safe output files. */
#ifndef MAPSNAP_CMD_COMMON_H
#define MAPSNAP_CMD_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "formats.h"
#include "snap.h"

enum { EXIT_OK = 0, EXIT_GATE = 1, EXIT_ERROR = 2 };

/* --format of the reporting commands. */
enum cli_format { CLI_FORMAT_TEXT, CLI_FORMAT_JSON, CLI_FORMAT_MARKDOWN };
/* "text", "json", "markdown" (or "md"); an error line names the command. */
int cli_parse_format(const char *command, const char *arg, enum cli_format *out);
/* --match of diff, trend and report: "auto", "address", "identity". */
int cli_parse_match(const char *command, const char *arg, enum snap_match_mode *out);
/* vm.max_map_count of this host (for a process captured now); 0 unknown. */
long cli_host_max_map_count(void);

/* Colours on fd: a terminal, or CLICOLOR_FORCE set (not "0"); never with
 * NO_COLOR set. */
bool cli_color_wanted(int fd);

/* "mapsnap: <message>" on stderr. cli_error returns EXIT_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err as one line; returns EXIT_ERROR. */
int cli_report(const snap_error *err);
/* For getopt's '?': names the option that was not understood (main()
 * turns getopt's own messages off). Returns EXIT_ERROR. */
int cli_bad_option(const char *command, char **argv);

/* --no-checksum, taken by every command that reads snapshot files: a file
 * without a checksum then loads without the warning. */
#define CLI_OPT_NO_CHECKSUM 0x4e43
#define CLI_NO_CHECKSUM_OPTION { "no-checksum", no_argument, NULL, CLI_OPT_NO_CHECKSUM }
#define CLI_NO_CHECKSUM_USAGE \
	"      --no-checksum     load files without a checksum without a warning\n"
extern bool cli_no_checksum;

/* --redact, --redact-key FILE and --redact-keep DIR of capture (single and
 * series): one key for the whole run (so its snapshots match), from FILE
 * when given (created there when missing), else random and kept nowhere. */
#define CLI_REDACT_KEEP_MAX 16
typedef struct cli_redaction {
	snap_redact r;
	const char *key_file;
	const char *keep[CLI_REDACT_KEEP_MAX];
	size_t nkeep;
} cli_redaction;

/* Adds a --redact-keep directory (absolute). EXIT_OK or EXIT_ERROR. */
int cli_redaction_keep(cli_redaction *c, const char *dir);
/* When opts->redact: makes the key and points opts->redaction at it. */
int cli_redaction_ready(cli_redaction *c, snap_capture_opts *opts);

/* Snapshots loaded from the command line, in argument order. */
typedef struct cli_snapshots {
	snap_snapshot **items;
	size_t count, cap;
} cli_snapshots;

/* Loads what arg names and appends it to list:
 *   "-"            snapshot JSON (one or more documents) or smaps text on stdin
 *   an existing file  the same, from the file
 *   a number       a live pid, captured now in memory (nothing written)
 * A file's checksum mismatch is warned about on stderr, and so is a file
 * without a checksum (once per file) unless cli_no_checksum. */
/* Capture options the environment sets: MAPSNAP_NO_PROCMAP_QUERY=1 reads
 * build-ids from the ELF notes even where PROCMAP_QUERY works (to compare
 * the two ways). */
void cli_capture_env(snap_capture_opts *opts);
int cli_load_arg(cli_snapshots *list, const char *arg,
		 const snap_capture_opts *capture, snap_error *err);
int cli_snapshots_push(cli_snapshots *list, snap_snapshot *snap);

/* Streams what arg names, one snapshot at a time (memory flat however
 * many documents): as cli_load_arg, and a directory gives each of its
 * *.json files in name order (dot files, temporary outputs, skipped).
 * fn gets each snapshot, still owned by the caller (freed after fn);
 * a non-zero return stops and is returned. A cut-off last document is
 * warned about and skipped. */
typedef int (*cli_snapshot_fn)(void *ctx, const snap_snapshot *snap,
			       const char *source);
int cli_each_snapshot(const char *arg, const snap_capture_opts *capture,
		      cli_snapshot_fn fn, void *ctx, snap_error *err);
void cli_snapshots_free(cli_snapshots *list);

/* True when arg is all digits (and not an existing file). */
bool cli_is_pid(const char *arg, long *pid);
/* True when arg names a live process, not a file (no such path, and a
 * process id); *pid gets it. pid may be NULL. */
bool cli_is_live_pid(const char *arg, long *pid);
/* How a header names an input: "pid 1234" for a live process (then it
 * returns true), else arg itself. */
/* The first byte that is not white space, left unread; EOF when none. */
int cli_peek_content(FILE *f);
bool cli_input_label(char *buf, size_t size, const char *arg);

/* Output that never leaves a half-written file: written to an unnamed
 * file (O_TMPFILE) in the target directory, or where the file system has
 * none to a hidden temporary file there, then synced and linked into
 * place on commit, and the directory synced. "-" writes to stdout.
 * Without force an existing target is refused, also one that appears
 * while the output is written (the link never replaces a file); with
 * force it is replaced in one rename. Nothing is left behind by an error,
 * by SIGINT, SIGTERM or SIGHUP, nor (for the unnamed file) by SIGKILL. */
typedef struct cli_output {
	FILE *f;
	char *path;
	char *tmp;    /* the temporary file's name; NULL when unnamed */
	char *buffer; /* stdio's buffer: large, so a snapshot is few writes */
	bool to_stdout;
	bool force;
	int cleanup_slot; /* its entry in the signal cleanup list, or -1 */
} cli_output;

int cli_output_open(cli_output *out, const char *path, bool force,
		    snap_error *err);
int cli_output_commit(cli_output *out, snap_error *err);
void cli_output_discard(cli_output *out);
/* Syncs the directory holding path, so that a file just created or
 * renamed there survives a crash; 0, or -1 with errno. */
int cli_sync_dir_of(const char *path);

/* ---- SIGINT, SIGTERM, SIGHUP ---- */

/* How a stop signal ends the command. A signal that was ignored when
 * mapsnap started (nohup, a background job) stays ignored.
 *   CLI_STOP_CLEANUP  remove what cli_cleanup_* registered, forward the
 *                     signal to the registered child (unless the terminal
 *                     sent it to the whole process group) and wait for
 *                     it, then die by the signal as if not caught;
 *   CLI_STOP_FLAG     only note the signal: the command polls
 *                     cli_stop_signal() and ends where it is safe to. */
enum cli_stop_mode { CLI_STOP_CLEANUP, CLI_STOP_FLAG };
void cli_signals_init(enum cli_stop_mode mode);
/* The stop signal that arrived (CLI_STOP_FLAG), or 0. */
int cli_stop_signal(void);
/* "SIGINT", "SIGTERM", "SIGHUP". */
const char *cli_signal_name(int sig);
/* SIGINT, SIGTERM and SIGHUP as a set. */
void cli_stop_signals(sigset_t *set);

/* The cleanup list of CLI_STOP_CLEANUP. Change it only while mapsnap runs
 * one thread (its capture threads are gone once a capture returns): the
 * handler may run on any thread. A file path returns its slot (-1 when
 * the list is full) for cli_cleanup_forget. */
int cli_cleanup_file(const char *path);
void cli_cleanup_forget(int slot);
void cli_cleanup_dir(const char *path); /* NULL forgets it */
void cli_cleanup_child(pid_t pid);      /* 0 forgets it */

/* The subcommands; each parses its own argv (argv[0] is the subcommand). */
int cmd_capture(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_around(int argc, char **argv);
int cmd_trend(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_rank(int argc, char **argv);

#endif
