/* Helpers shared by the text, markdown and JSON renderers (render.c).
 * Private to formats/: the renderers include it next to formats.h. */
#ifndef MAPSNAP_RENDER_H
#define MAPSNAP_RENDER_H

#include <stdio.h>

#include "formats.h"

/* A report's body: writes what (with opts, never NULL) to f, the
 * terminal-safe filter of safe (colours go through fmt_paint). */
typedef void fmt_report_body(FILE *f, fmt_safe_out *safe, const void *what,
			     const void *opts);
/* Runs body through the terminal-safe filter into out: every text and
 * markdown report's entry point. Returns 0, SNAP_ENOMEM, or SNAP_EIO. */
int fmt_safe_report(FILE *out, fmt_report_body *body, const void *what,
		    const void *opts);

/* ---- numbers ---- */

/* kB as "512K", "12.3M", "1.50G"; with sign, "+512K" / "-1.0M" / "0K":
 * snap_format_kb, the one kB formatter (pmap.c keeps procps-ng's own). */
const char *fmt_kb(char *buf, size_t size, int64_t kb, bool sign);
/* The most cells a sparkline draws (up to 4 bytes each in UTF-8). */
#define FMT_SPARK_CELLS_MAX 256
/* values[n] (kB; below 0: absent, a space) as a line of at most width
 * cells from lowest to highest value: "▁▂▄█" (UTF-8), or " .:-=+*#"
 * characters when ascii. Longer series are averaged into width cells.
 * Writes a NUL-terminated string into buf; returns buf. */
const char *fmt_sparkline(char *buf, size_t size, const int64_t *values,
			  size_t n, size_t width, bool ascii);
/* A slope as "+4.7M/min" (sizes, kB per minute) or "+2.5/min" (counts). */
const char *fmt_rate(char *buf, size_t size, double per_min, bool sizes);

/* ---- what a line is about ---- */

/* Where a change is: "[heap] 55d1ca504000-55d1cb125000 (was ...-55d1ca525000)",
 * a path with its segment count, or an address range for anonymous memory. */
const char *fmt_change_where(char *buf, size_t size, const snap_change *c);
/* A build-id as hex, or "unknown" when NULL or empty. */
const char *fmt_build_hex(char *buf, size_t size, const snap_build_id *id);
/* How a duplicate is one: "two builds of one library", ... */
const char *fmt_dup_phrase(enum snap_dup_kind kind);

/* When neither shown measure of c moved: the counters that did
 * ("Private_Dirty +8K, Anonymous +8K", or "regions +1"); else "". */
const char *fmt_change_moved(char *buf, size_t size, const snap_change *c,
			     enum snap_measure shown1, enum snap_measure shown2);

/* Where a trend region is: "[heap] 55d1ca504000-55d1cb125000", a path
 * with its range, an address range for anonymous memory, or "4 anon
 * regions born during the series" for a group of born regions. */
const char *fmt_trend_where(char *buf, size_t size, const snap_trend_region *r);

/* The process line, "sleep (pid 42) /usr/bin/sleep,
 * captured 2026-...Z on kernel 6.1.0", or what is known. */
const char *fmt_process_line(char *buf, size_t size, const snap_snapshot *snap);
/* "7f12a000-7f12b000 rw-p" and the path, for one region. */
const char *fmt_region_line(char *buf, size_t size, const snap_region *r);
/* The process and capture facts as JSON members (no braces):
 * "process":{...}|null,"captured_at":...,"kernel":...,"source":... */
void fmt_process_json(FILE *f, const snap_snapshot *snap);

/* A finding's members up to its regions, the object left open:
 * {"rule":...,"severity":...,"message":...,"advice":...,"size_kb":N */
void fmt_json_finding_head(FILE *f, const snap_finding *x);
/* {"info":N,"warning":N,"error":N}: a check's findings by severity. */
void fmt_json_severity_counts(FILE *f, const snap_check *c);
/* ["...",...]: n C strings (NULL as null). */
void fmt_json_put_cstrs(FILE *f, const char *const *s, size_t n);

/* ---- markdown ---- */

/* Text inside a markdown table cell or list item: \ ` * _ [ ] < > | # ~
 * backslash-escaped, newline and TAB written as a space (the one rule of
 * every markdown report; formats/README.md). */
void fmt_markdown_text(FILE *f, const char *s, size_t len);
/* The same for a C string; NULL as "?". */
void fmt_markdown_cstr(FILE *f, const char *s);
/* "### mapsnap COMMAND", the process line, and "Input: LABEL" unless
 * label is NULL: the head of the summary and check reports. */
void fmt_markdown_heading(FILE *f, const char *command, const snap_snapshot *snap,
			  const char *label);
/* A gate's verdict: "**Gate passed** (N checks)." or "**Gate FAILED**: F
 * of N checks." and one item per violation. Nothing when checks is 0. */
void fmt_markdown_verdict(FILE *f, size_t checks, const snap_violation *v,
			  size_t failed);

/* ---- text ---- */

#define FMT_RESET "\033[0m"
#define FMT_BOLD "\033[1m"
#define FMT_RED "\033[31m"
#define FMT_GREEN "\033[32m"
#define FMT_YELLOW "\033[33m"
#define FMT_MAGENTA "\033[35m"
#define FMT_CYAN "\033[36m"
#define FMT_DIM "\033[2m"

/* An SGR sequence through safe's filter, when color is on. */
void fmt_paint(fmt_safe_out *safe, bool color, const char *sgr);
/* A gate's verdict: "GATE passed (0 of N checks failed)" or FAILED, and
 * one indented line per violation. Nothing when checks is 0. */
void fmt_text_verdict(FILE *f, fmt_safe_out *safe, bool color, size_t checks,
		      const snap_violation *v, size_t failed);

#endif
