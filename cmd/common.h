/* Shared by the subcommands: error printing, loading inputs (snapshot
 * files, raw smaps text, live pids), and safe output files. */
#ifndef MAPSNAP_CMD_COMMON_H
#define MAPSNAP_CMD_COMMON_H

#include <stdbool.h>
#include <stdio.h>

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
int cli_load_arg(cli_snapshots *list, const char *arg,
		 const snap_capture_opts *capture, snap_error *err);
int cli_snapshots_push(cli_snapshots *list, snap_snapshot *snap);
void cli_snapshots_free(cli_snapshots *list);

/* True when arg is all digits (and not an existing file). */
bool cli_is_pid(const char *arg, long *pid);
/* True when arg names a live process, not a file (no such path, and a
 * process id); *pid gets it. pid may be NULL. */
bool cli_is_live_pid(const char *arg, long *pid);
/* How a header names an input: "pid 1234" for a live process (then it
 * returns true), else arg itself. */
bool cli_input_label(char *buf, size_t size, const char *arg);

/* Output that never leaves a half-written file: a temporary file in the
 * target directory, renamed over the target only on commit. "-" writes to
 * stdout. An existing target is refused unless force. */
typedef struct cli_output {
	FILE *f;
	char *path;
	char *tmp;
	char *buffer; /* stdio's buffer: large, so a snapshot is few writes */
	bool to_stdout;
} cli_output;

int cli_output_open(cli_output *out, const char *path, bool force,
		    snap_error *err);
int cli_output_commit(cli_output *out, snap_error *err);
void cli_output_discard(cli_output *out);

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
