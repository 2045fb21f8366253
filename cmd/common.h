/* Shared by the subcommands: error printing, loading inputs (snapshot
 * files, raw smaps text, live pids), and safe output files. */
#ifndef MAPSNAP_CMD_COMMON_H
#define MAPSNAP_CMD_COMMON_H

#include <getopt.h>
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

/* Colours on fd under --color (cli_color_mode). */
bool cli_color_wanted(int fd);

/* "mapsnap: <message>" on stderr. cli_error returns EXIT_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err as one line; returns EXIT_ERROR. */
int cli_report(const snap_error *err);

/* ---- the option vocabulary ----
 *
 * Every option of every command is one row of cli_options (common.c):
 * its long name, whether it takes a value, its short letter, the words
 * it accepts, its help line, and the commands that take it. Commands
 * build their getopt tables and the option part of their --help from
 * it, so one name means one thing everywhere. An old spelling is a row
 * with alias_of set: accepted, and named in the help of its new one. */
enum cli_command {
	CLI_CAPTURE = 1u << 0, /* capture PID, --name, --from-smaps */
	CLI_SERIES = 1u << 1,  /* capture --every */
	CLI_ALL = 1u << 2,     /* capture --all */
	CLI_CONVERT = 1u << 3,
	CLI_SHOW = 1u << 4,
	CLI_DIFF = 1u << 5,
	CLI_AROUND = 1u << 6,
	CLI_TREND = 1u << 7,
	CLI_SUMMARY = 1u << 8,
	CLI_CHECK = 1u << 9,
	CLI_REPORT = 1u << 10,
	CLI_WATCH = 1u << 11,
	CLI_RANK = 1u << 12,
};

/* What getopt returns for an option without a short letter. */
enum cli_option_id {
	OPT_FORMAT = 256, OPT_TOP, OPT_SORT, OPT_COLOR, OPT_NO_CHECKSUM,
	OPT_KIND, OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_PATH,
	OPT_MATCH, OPT_MIN_CHANGE, OPT_FAIL_IF, OPT_MAP_PATH, OPT_MIN_SLOPE,
	OPT_MIN_POINTS, OPT_ASCII, OPT_TIMING,
	OPT_HUMAN, OPT_EXPLAIN, OPT_LIBS,
	OPT_STRICT, OPT_ONLY, OPT_SKIP, OPT_HEAP_MIN, OPT_HEAP_RATIO,
	OPT_SMALL_MAPS, OPT_SMALL_SIZE, OPT_DIRTY_RATIO, OPT_DIRTY_MIN,
	OPT_SWAP_RATIO, OPT_SWAP_MIN, OPT_LARGE_ANON, OPT_THREAD_STACKS,
	OPT_MAP_RATIO, OPT_MAX_MAP,
	OPT_INTERVAL, OPT_BATCH, OPT_COUNT, OPT_SAVE_DIR, OPT_BY, OPT_ROLLUP,
	OPT_REDACT, OPT_REDACT_KEY, OPT_REDACT_KEEP, OPT_FROM_SMAPS,
	OPT_PROC_FILES, OPT_BUILD_IDS, OPT_NO_BUILD_IDS, OPT_EVERY, OPT_FOR,
	OPT_ON_CHANGE, OPT_ALL,
};

typedef struct cli_option {
	const char *name;     /* long name; NULL for a letter alone (show -X) */
	int has_arg;          /* no_argument, required_argument */
	int letter;           /* short option, 0 for none */
	int id;               /* what getopt returns: letter, else an OPT_* */
	unsigned commands;    /* CLI_* of the commands that take it */
	const char *arg;      /* the value's name in --help ("N", "FILE") */
	const char *values;   /* the words it takes, '|'-separated, or NULL */
	const char *help;     /* may span lines ('\n') */
	const char *alias_of; /* an old spelling of this long option */
} cli_option;

extern const cli_option cli_options[];

/* getopt_long over the rows of command (optstring and long options built
 * from the table). Returns getopt_long's value; on an unknown option or
 * a missing value it prints "mapsnap NAME: unknown option '--x'" (or
 * "option '--x' needs a value") and returns '?'. name is the command as
 * the user typed it. */
int cli_getopt(unsigned command, const char *name, int argc, char **argv);
/* The option lines of a --help: the rows of command that are not rows
 * of except, their values and their aliases. */
void cli_print_options(FILE *f, unsigned command, unsigned except);
/* One line of a --help: left, then help wrapped in the help column. */
void cli_print_row(FILE *f, const char *left, const char *help);
/* The index of arg among the values of the row (command, id); an error
 * line naming the accepted words, and -1, when it is none of them. */
int cli_pick(unsigned command, const char *name, int id, const char *arg);
/* The whole table, one row per (command, option) as tab-separated
 * fields, for completion scripts and tests (mapsnap --list-options). */
void cli_list_options(FILE *f);

/* --fail-if EXPR with both sides of its comparison: an error line
 * naming the missing side ("rss>": the limit) and EXIT_ERROR, else
 * EXIT_OK (the gate parser then checks the words). */
int cli_gate_complete(const char *name, const char *expr);

/* --top N: a number, 0 meaning all. EXIT_OK or EXIT_ERROR (said). */
int cli_parse_top(const char *name, const char *opt, const char *arg, size_t *out);

/* --color WHEN, for the commands that colour: "auto" (the default:
 * stdout a terminal, TERM not "dumb", NO_COLOR unset or empty; or
 * CLICOLOR_FORCE set to anything but "0"), "always", "never". */
enum cli_color { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };
extern enum cli_color cli_color_mode;

/* Output of the commands that print to stdout: with -o FILE, stdout
 * itself goes to a temporary file beside FILE, put in place by
 * cli_stdout_finish when the command succeeded. cli_stdout_finish
 * checks that everything reached stdout (a full disk, /dev/full) and
 * turns a failed write into an error line and EXIT_ERROR. */
int cli_stdout_to(const char *name, const char *path, bool force);
int cli_stdout_finish(const char *name, int status);

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
/* After the options: --redact-key and --redact-keep need --redact; with
 * it, makes the key and points opts->redaction at it. */
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

/* True when arg is a process id as pmap reads one: "/proc/PID" or PID,
 * parsed as strtoul(s, 0) does (0x1a2b, 013435 octal), in 1..2^31-1. */
bool cli_is_pid(const char *arg, long *pid);
/* The process (thread group) of a thread id; pid itself when it is one,
 * or when /proc does not say. */
long cli_tgid(long pid);
/* True when arg names a live process, not a file (no such path, and a
 * process id); *pid gets it. pid may be NULL. */
bool cli_is_live_pid(const char *arg, long *pid);
/* Pids of the processes called name: their comm (the kernel keeps 15
 * bytes of it) or argv[0]'s base name equals it; ascending, malloc'd.
 * EXIT_OK, or EXIT_ERROR (said). */
int cli_find_pids_by_name(const char *name, pid_t **out, size_t *count);
/* "no process named NAME", saying why a long name may find nothing.
 * Returns EXIT_ERROR. */
int cli_no_such_name(const char *command, const char *name);
/* How a header names an input: "pid 1234" for a live process (then it
 * returns true), else arg itself. */
/* The options every form of capture takes: --redact, --redact-key,
 * --redact-keep, --no-build-ids. EXIT_OK, EXIT_ERROR (said), or 1 when
 * c is none of them. */
int cli_capture_option(snap_capture_opts *opts, cli_redaction *redaction, int c,
		       const char *arg);
/* capture's schedule, as capture PID --every and capture --all --every
 * read it: --every/--for DURATION, --count N (>= 1). */
typedef struct cli_schedule {
	int64_t every_ms, for_ms;
	size_t count; /* 0: until stopped */
	bool has_for;
} cli_schedule;

/* 1 when c is not a schedule option; else EXIT_OK or EXIT_ERROR (said,
 * with capture's messages). */
int cli_schedule_option(cli_schedule *s, int c, const char *arg);
/* After the options: --count and --for exclude each other. */
int cli_schedule_check(const cli_schedule *s);
/* True when tick intervals from the start pass the --for duration. */
bool cli_schedule_over(const cli_schedule *s, int64_t tick);
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
/* mkdir -p: creates every missing level of path (mode 0777 less the
 * umask); 0, or -1 with errno. */
int cli_make_dirs(const char *path);
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
