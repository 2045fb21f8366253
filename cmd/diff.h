/* What `mapsnap diff` and `mapsnap around` share: the report options
 * (format, noise control, matching, the gate) and producing the report. */
#ifndef MAPSNAP_CMD_DIFF_H
#define MAPSNAP_CMD_DIFF_H

#include <getopt.h>

#include "common.h"

typedef struct report_settings {
	enum cli_format format;
	snap_diff_opts diff;
	snap_gate *gate; /* --fail-if expressions (owned) */
	size_t limit;
	snap_path_map *maps; /* --map-path (owned, with their strings) */
	size_t nmaps;
} report_settings;

/* getopt_long codes of the shared options, and their table entries
 * (to be copied into each command's table). */
enum {
	OPT_FORMAT = 512,
	OPT_MIN_CHANGE,
	OPT_METRIC,
	OPT_MATCH,
	OPT_FAIL_IF,
	OPT_LIMIT,
	OPT_MAP_PATH,
};
#define REPORT_OPTIONS                                                     \
	{ "format", required_argument, NULL, OPT_FORMAT },                 \
	{ "min-change", required_argument, NULL, OPT_MIN_CHANGE },         \
	{ "metric", required_argument, NULL, OPT_METRIC },                 \
	{ "match", required_argument, NULL, OPT_MATCH },                   \
	{ "fail-if", required_argument, NULL, OPT_FAIL_IF },               \
	{ "limit", required_argument, NULL, OPT_LIMIT },                   \
	{ "map-path", required_argument, NULL, OPT_MAP_PATH }

/* The usage lines of the shared options. */
extern const char report_usage[];

int report_init(report_settings *s);
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
