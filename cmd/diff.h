/* What `mapsnap diff` and `mapsnap around` share: the report options
 * (format, noise control, matching, the gate) and producing the report. */
#ifndef MAPSNAP_CMD_DIFF_H
#define MAPSNAP_CMD_DIFF_H

#include "common.h"

typedef struct report_settings {
	enum cli_format format;
	snap_diff_opts diff;
	snap_gate *gate; /* --fail-if expressions (owned) */
	size_t limit;
	snap_path_map *maps; /* --map-path (owned, with their strings) */
	size_t nmaps;
	const char *name;  /* "diff" or "around", for error lines */
	unsigned command;  /* CLI_DIFF or CLI_AROUND */
} report_settings;

int report_init(report_settings *s, const char *name, unsigned command,
		snap_error *err);
void report_free(report_settings *s);
/* Handles one shared option: 0 done, 1 not a report option, 2 bad value
 * (already said on stderr). */
int report_option(report_settings *s, int opt, const char *arg);

/* Diffs old and new, checks the gate, writes the report to `out` (a
 * path or "-"), and with json_path also the JSON report there. Returns
 * the exit status: 0, 1 (the gate failed, violations said on stderr when
 * the report is not on the terminal), or 2. */
int report_run(const report_settings *s, const snap_snapshot *old,
	       const snap_snapshot *new, const char *old_label,
	       const char *new_label, const char *out, bool force,
	       const char *json_path);

#endif
