/*
 * formats.h: serialisations and views of libsnap objects.
 *
 * Snapshot JSON (json_snapshot.c), smaps text (smaps_text.c), pmap views,
 * diff reports. Everything here uses only libsnap's public API. Functions
 * return 0 or a negative SNAP_E* code and fill an optional snap_error.
 */
#ifndef MAPSNAP_FORMATS_H
#define MAPSNAP_FORMATS_H

#include <stdio.h>

#include "checked.h"
#include "snap.h"

/* ---- snapshot JSON (schema in formats/README.md) ----------------------- */

/* Streams one snapshot document: begin writes everything known before
 * the regions, region appends one region line, end writes the trailer
 * (fields, rollup, capture timing, checksum) and frees w. Output is
 * checked with ferror() at the end. */
typedef struct fmt_json_writer fmt_json_writer;
int fmt_json_begin(fmt_json_writer **out, FILE *f, const snap_snapshot *snap);
int fmt_json_region(fmt_json_writer *w, const snap_snapshot *snap,
		    const snap_region *r);
int fmt_json_end(fmt_json_writer *w, const snap_snapshot *snap);
/* Aborts a stream without writing the trailer. */
void fmt_json_abort(fmt_json_writer *w);
/* A whole in-memory snapshot as one document. */
int fmt_json_write(FILE *f, const snap_snapshot *snap);

/* Renames the temporary file tmp to path, never over an existing file
 * (link() where the file system has no RENAME_NOREPLACE); -1 and errno
 * (EEXIST when path exists) on failure. */
int fmt_rename_noreplace(const char *tmp, const char *path);

/* Limits of a snapshot document (formats/README.md, "Limits"): the writer
 * never writes more, and the loader refuses more as soon as it has read
 * it. A region object is bounded by what a mapping can print (a path of
 * SNAP_PATH_MAX bytes, 65,535 lines of at most 1 MiB of smaps text in
 * all, escaped); everything else (header and trailer) by FMT_JSON_REST_MAX. */
#define FMT_JSON_REGION_MAX ((size_t)16 << 20)
#define FMT_JSON_REST_MAX ((size_t)32 << 20)
/* The checksum tags: "xxh3-64-doc:" covers the whole document (what this
 * writer writes); "xxh3-64:" (files written before) only its regions. */
#define FMT_CHECKSUM_DOC "xxh3-64-doc:"
#define FMT_CHECKSUM_REGIONS "xxh3-64:"

/* Reads the next snapshot document from f (a file may hold several, one
 * after another). Returns 0 with *out set, 1 at a clean end of input, or
 * a negative code with err naming `source`: SNAP_ETRUNC when the input
 * ends inside the document (a series cut off mid-append). */
int fmt_json_load(snap_snapshot **out, FILE *f, const char *source,
		  snap_error *err);
/* True when the snapshot carried a checksum that its regions do not
 * match (the file was edited or corrupted). */
bool fmt_checksum_mismatch(const snap_snapshot *snap);

/* JSON string escaping (valid UTF-8 out, whatever bytes come in). */
void fmt_json_put_string(FILE *f, const char *s, size_t len);
/* A C string, or null for NULL. */
void fmt_json_put_cstr(FILE *f, const char *s);
/* "regions":N,"Size":kB,... for every measure: members of an object the
 * caller opened (put_counters), or the object itself (put_sums). */
void fmt_json_put_counters(FILE *f, const snap_sums *s);
void fmt_json_put_sums(FILE *f, const snap_sums *s);
/* [kB,...] with a negative value (absent) as null. */
void fmt_json_put_kb_values(FILE *f, const int64_t *v, size_t n);
/* A number with 6 significant digits; infinities as +-1e308, NaN as null. */
void fmt_json_put_number(FILE *f, double v);
/* A gate's violations: [{"expr","actual","limit","message"},...]. */
void fmt_json_put_violations(FILE *f, const snap_violation *v, size_t n);

/* ---- region rows for column stores (ndjson.c; schema in formats/README.md) -- */

#define FMT_NDJSON_SCHEMA "mapsnap.row/1"

/* One flat JSON object per region of id's snapshot, one per line, every
 * line with the same members in the same order: process and host facts,
 * kind, evidence and identity key from id, the mapping, every counter of
 * fmt_ndjson_counters() (0 when not printed), VmFlags as an array, other
 * counters in extra_names/extra_values. Returns 0, SNAP_ENOMEM or SNAP_EIO. */
int fmt_ndjson_write(FILE *f, const snap_identity *id);
/* The counter columns of a row, in order ("Size", ..., "ProtectionKey"). */
const char *const *fmt_ndjson_counters(size_t *count);

/* ---- Prometheus text exposition (prometheus.c) --------------------------- */

/* What the metrics of one process say, kept after its snapshot is freed. */
typedef struct fmt_prom_process {
	char *comm;            /* owned; "" when unknown */
	long pid;              /* 0 when unknown */
	double captured_at;    /* seconds since the epoch; < 0 unknown */
	snap_sums by_kind[SNAP_KIND_COUNT];
	size_t regions, duplicated_libraries, deleted_mappings, thread_stacks;
	long max_map_count;    /* <= 0 unknown: no map-count ratio */
} fmt_prom_process;

/* Fills p from a check of its snapshot (the check's identity gives the
 * kinds; the deleted-mapping rule is run here). max_map_count <= 0 takes
 * the snapshot's own record. Returns 0 or SNAP_ENOMEM. */
int fmt_prom_process_init(fmt_prom_process *p, snap_check *c, long max_map_count);
void fmt_prom_process_clear(fmt_prom_process *p);
/* The text exposition format (0.0.4) of the processes, each metric
 * family once with HELP and TYPE, samples in the given order; labels
 * comm, pid and (for the per-kind families) kind. Returns 0 or SNAP_EIO. */
int fmt_prometheus_write(FILE *f, const fmt_prom_process *procs, size_t n);

/* ---- terminal-safe text (safe_text.c) -------------------------------------- */

/* The one output filter of every text and markdown writer. fmt_safe_text
 * rewrites s[0..len) in place: each byte a terminal could act on becomes
 * '?' (C0 controls, but tab and newline where keep allows them; DEL; C1
 * controls, raw or as UTF-8; bytes that are not valid UTF-8). The length
 * does not change; valid printable UTF-8 stays as it is. */
enum { FMT_SAFE_TAB = 1, FMT_SAFE_NEWLINE = 2 };
void fmt_safe_text(char *s, size_t len, unsigned keep);
/* True when fmt_safe_text would change nothing. */
bool fmt_safe_text_clean(const char *s, size_t len, unsigned keep);

/* A report written through the filter: write to f (fmt_safe_open's
 * result), ask for colours with fmt_safe_color (the only escape sequences
 * that pass), then fmt_safe_close writes the safe text to out. */
typedef struct fmt_safe_out {
	FILE *out; /* the real destination */
	FILE *f;   /* what the writer writes to */
	char *buf;
	size_t len, done;
} fmt_safe_out;

/* NULL when out of memory. */
FILE *fmt_safe_open(fmt_safe_out *s, FILE *out);
/* An SGR sequence such as "\033[1m"; NULL or "" writes nothing. */
void fmt_safe_color(fmt_safe_out *s, const char *sgr);
/* Returns 0, SNAP_ENOMEM, or SNAP_EIO when writing to out failed. */
int fmt_safe_close(fmt_safe_out *s);

/* ---- smaps text ---------------------------------------------------------- */

/* Writes regions in the kernel's /proc/PID/smaps layout (64-bit). */
int fmt_smaps_write_region(FILE *f, const snap_snapshot *snap,
			   const snap_region *r);
int fmt_smaps_write(FILE *f, const snap_snapshot *snap);

/* ---- pmap views (pmap.c) -------------------------------------------------- */

/* The tables of procps-ng pmap 4.0.2. */
enum fmt_pmap_mode {
	FMT_PMAP_DEFAULT,  /* pmap: Address Kbytes Mode Mapping, " total" */
	FMT_PMAP_EXTENDED, /* pmap -x: adds RSS and Dirty */
	FMT_PMAP_DEVICE,   /* pmap -d: Offset and Device, "mapped:" footer */
	FMT_PMAP_X,        /* pmap -X: the smaps fields pmap deems important */
	FMT_PMAP_XX,       /* pmap -XX: every smaps field and VmFlags */
};

typedef struct fmt_pmap_opts {
	enum fmt_pmap_mode mode;
	bool quiet;     /* -q: no column header, no footer */
	bool show_path; /* -p: full paths instead of file names */
	bool human;     /* sizes as 512K/1.3M/20G where pmap prints kB */
	bool has_range; /* -A: only mappings overlapping [low, high] */
	uint64_t low, high;
	/* Rows chosen by the caller (indexes into snap->regions, in print
	 * order) replace pmap's own selection and -A; every total then covers
	 * exactly these rows. NULL: the rows pmap prints. */
	const size_t *rows;
	size_t nrows;
	/* A line printed after the footer (unless quiet), e.g. what a filter
	 * left out. NULL for none. */
	const char *note;
} fmt_pmap_opts;

/* Writes pmap's view of snap: the "PID:   command" line, then the table.
 * With rows NULL the output is byte-identical to pmap 4.0.2 on the same
 * smaps text, except where 4.0.2 is broken (formats/pmap.c says which).
 * Returns 0, SNAP_ENOMEM, or SNAP_EIO when writing failed. */
int fmt_pmap_write(FILE *f, const snap_snapshot *snap, const fmt_pmap_opts *opts);

/* ---- the evidence behind each kind (explain_text.c) ------------------------ */

typedef struct fmt_explain_opts {
	/* Rows chosen by the caller (indexes into the snapshot's regions, in
	 * print order); NULL: every region in address order. The total
	 * covers exactly these rows. */
	const size_t *rows;
	size_t nrows;
	bool quiet;       /* no column header and no footer */
	const char *note; /* a line after the footer (unless quiet), or NULL */
} fmt_explain_opts;

/* `show --explain`: the process line, then one row per region (address
 * range, perms, Size, Rss, kind, and what it is part of and why: "libc.so.6,
 * load 1 of 1: a file named like a shared object, mapped private"), the
 * total of the rows and how the thread stacks were found (id->stacks).
 * opts may be NULL. Returns 0, SNAP_ENOMEM, or SNAP_EIO when writing failed. */
int fmt_explain_text(FILE *f, const snap_identity *id, const fmt_explain_opts *opts);

/* ---- diff reports (diff_text.c, diff_json.c, diff_markdown.c) -------------- */

typedef struct fmt_diff_opts {
	/* How the inputs were named on the command line ("before.json",
	 * "pid 1234"); NULL prints nothing. */
	const char *old_label, *new_label;
	/* A gate already checked against the diff, or NULL. */
	const snap_gate *gate;
	bool color;   /* text only: ANSI colours (the caller decides: a TTY, no NO_COLOR) */
	size_t limit; /* text and markdown: list at most this many changes; 0: all */
} fmt_diff_opts;

/* A readable report: header, changes with their details, duplicated
 * libraries, thread stacks, totals by kind, the gate's verdict. */
int fmt_diff_text(FILE *f, const snap_diff *diff, const fmt_diff_opts *opts);
/* The "mapsnap.diff/1" document (schema in formats/README.md). */
int fmt_diff_json(FILE *f, const snap_diff *diff, const fmt_diff_opts *opts);
/* GitHub-flavoured markdown for PR comments and CI job summaries. */
int fmt_diff_markdown(FILE *f, const snap_diff *diff, const fmt_diff_opts *opts);

/* The programs the two sides of a diff ran: their exe paths when both
 * snapshots recorded one, else their comms. 1 when they differ (*old and
 * *new name them), 0 when they are the same, -1 when a side does not
 * say. */
int fmt_diff_executables(const snap_diff *d, const char **old, const char **new);
/* ---- summary and check reports (summary_*.c, check_*.c) ------------------ */

typedef struct fmt_summary_opts {
	/* How the input was named on the command line ("pid 1234",
	 * "before.json"); NULL prints nothing. */
	const char *label;
	/* The filter options as given ("--kind heap"), NULL when none. */
	const char *filter;
	/* text and markdown: list at most this many libraries; 0: all. */
	size_t libs;
} fmt_summary_opts;

/* The summary for a terminal: process line, totals with the rollup
 * cross-check, kinds, top regions, libraries, thread stacks, arenas. */
int fmt_summary_text(FILE *f, const snap_summary *sum, const fmt_summary_opts *opts);
/* The "mapsnap.summary/1" document (schema in formats/README.md). */
int fmt_summary_json(FILE *f, const snap_summary *sum, const fmt_summary_opts *opts);
/* GitHub-flavoured markdown tables of the same. */
int fmt_summary_markdown(FILE *f, const snap_summary *sum,
			 const fmt_summary_opts *opts);

typedef struct fmt_check_opts {
	const char *label;  /* as in fmt_summary_opts */
	/* text and markdown: regions listed per finding; 0: all. */
	size_t regions;
} fmt_check_opts;

/* Findings, most severe first, each with its regions and advice. */
int fmt_check_text(FILE *f, const snap_check *c, const fmt_check_opts *opts);
/* The "mapsnap.check/1" document (schema in formats/README.md). */
int fmt_check_json(FILE *f, const snap_check *c, const fmt_check_opts *opts);
int fmt_check_markdown(FILE *f, const snap_check *c, const fmt_check_opts *opts);

/* ---- trend reports (trend_text.c, trend_json.c, trend_markdown.c) --------- */

typedef struct fmt_trend_opts {
	/* How the inputs were named ("leak.json", "3 files"); NULL: nothing. */
	const char *label;
	/* A gate already checked against the trend, or NULL. */
	const snap_trend_gate *gate;
	bool color;   /* text only: ANSI colours (the caller decides) */
	bool ascii;   /* text: sparklines in ASCII instead of Unicode blocks */
	/* text and markdown: list at most this many regions besides the
	 * suspects; 0: all that changed. */
	size_t limit;
} fmt_trend_opts;

/* A readable report: the series, leak suspects with sparklines, other
 * regions that changed, the process and per-kind trends, the gate. */
int fmt_trend_text(FILE *f, const snap_trend *trend, const fmt_trend_opts *opts);
/* The "mapsnap.trend/1" document (schema in formats/README.md). */
int fmt_trend_json(FILE *f, const snap_trend *trend, const fmt_trend_opts *opts);
/* GitHub-flavoured markdown for PR comments and CI job summaries. */
int fmt_trend_markdown(FILE *f, const snap_trend *trend,
		       const fmt_trend_opts *opts);

/* ---- rank: every process of a host, or its users, commands, libraries -------- */

/* The values a rank row adds up, in kB. USS is Private_Clean +
 * Private_Dirty (for a library row: its private memory). */
enum fmt_rank_value {
	FMT_RANK_RSS,
	FMT_RANK_PSS,
	FMT_RANK_USS,
	FMT_RANK_SWAP,
	FMT_RANK_SWAP_PSS,
	FMT_RANK_VALUES
};

/* "Rss", "Pss", "USS", "Swap", "SwapPss" (libraries: "Private" for USS). */
const char *fmt_rank_value_name(enum fmt_rank_value v, bool libraries);

/* What one row stands for. */
enum fmt_rank_by {
	FMT_RANK_BY_PROCESS,
	FMT_RANK_BY_USER,
	FMT_RANK_BY_COMM,
	FMT_RANK_BY_LIBRARY,
};

typedef struct fmt_rank_row {
	long pid;            /* a process row's pid; -1 for the other rows */
	/* comm, user name, or the library's path (raw bytes; of one process
	 * when the rows of one build-id hold several paths) */
	const char *name;
	const char *user;    /* a process row's user name (or uid), else NULL */
	const char *build_id; /* a library's build-id in hex, NULL when unknown */
	size_t processes;    /* how many processes the row adds up (1 for a process) */
	size_t twice;        /* libraries: processes that load it more than once */
	int64_t kb[FMT_RANK_VALUES];
	/* By kind (when the regions were read): kb of each value. */
	int64_t kind_kb[SNAP_KIND_COUNT][FMT_RANK_VALUES];
} fmt_rank_row;

typedef struct fmt_rank {
	enum fmt_rank_by by;
	enum fmt_rank_value sort; /* rows are sorted by it, largest first */
	const fmt_rank_row *rows;
	size_t nrows;
	fmt_rank_row total;       /* processes: every process counted */
	bool kinds;               /* rows carry kind_kb (the regions were read) */
	const char *source;       /* "live processes", "3 files", ... */
	size_t vanished, denied;  /* live processes that could not be read */
	/* Rows listed: the first top (0: all); text and markdown say how
	 * many more, prometheus adds the rest up into one "other" series so
	 * that every metric still sums to the total. */
	size_t top;
} fmt_rank;

/* A table: one line per row, the top kinds of each, and the totals. */
int fmt_rank_text(FILE *f, const fmt_rank *rank);
/* The "mapsnap.rank/1" document (schema in formats/README.md). */
int fmt_rank_json(FILE *f, const fmt_rank *rank);
/* A GitHub-flavoured markdown table of the same. */
int fmt_rank_markdown(FILE *f, const fmt_rank *rank);
/* Prometheus text exposition: mapsnap_rank_*_bytes with labels pid and
 * comm (user, comm or library for the groupings), at most top + 1
 * series per metric. */
int fmt_rank_prometheus(FILE *f, const fmt_rank *rank);

/* ---- watch: one process, refreshed (watch_text.c) ---------------------------- */

/* One memory object followed from refresh to refresh (regions matched as
 * the diff matches them), or one that vanished. */
typedef struct fmt_watch_row {
	enum snap_kind kind;
	bool born;             /* it appeared after the baseline */
	bool gone;             /* it vanished (values: when last seen) */
	size_t gone_for;       /* refreshes since it vanished */
	snap_sums now;         /* its regions summed */
	int64_t growth_kb;     /* of the sort measure, since the baseline */
	int64_t step_kb;       /* of the sort measure, since the last refresh */
	const int64_t *history; /* the sort measure of the last refreshes, oldest first */
	size_t nhistory;
	uint64_t start, end;   /* span of its regions */
	size_t nregions;
	char perms[5];
	const char *path;      /* raw bytes ("" anonymous) */
	size_t path_len;
} fmt_watch_row;

typedef struct fmt_watch_frame {
	const snap_snapshot *snap; /* the latest capture */
	unsigned long refresh;     /* 1 for the first */
	double since_start_s;      /* seconds since the baseline */
	const char *interval;      /* as given: "1s" */
	const char *sort;          /* "rss", "pss", "dirty", "swap", "growth" */
	const char *filter;        /* the filter options as given, or NULL */
	bool paused;
	bool ascii;                /* sparklines in ASCII */
	snap_sums now, base, prev; /* totals (of the kept regions) */
	snap_sums kind_now[SNAP_KIND_COUNT], kind_base[SNAP_KIND_COUNT];
	snap_sums kind_prev[SNAP_KIND_COUNT];
	const fmt_watch_row *rows; /* the top ones, in sort order */
	size_t nrows, more;        /* more: tracked objects not listed */
	const fmt_watch_row *gone; /* vanished lately, latest first */
	size_t ngone;
} fmt_watch_frame;

/* One refresh as plain text (no escape sequence): the header, totals now
 * and their change since the baseline and the last refresh, the table by
 * kind, the top objects with growth and sparkline, the vanished ones.
 * The screen draws the same lines. */
int fmt_watch_text(FILE *f, const fmt_watch_frame *fr);

/* ---- kinds as the front ends group and draw them (kinds.c) ---------------- */

/* The --kind group of a kind: "heap" (heap), "stack" (stack,
 * thread-stack), "anon" (anon, arena, anon-named, guard, reserved), "lib"
 * (lib, exe), "file", "shmem", "special". The seven groups cover every
 * kind exactly once; show, summary, report and the report's page share
 * them. */
const char *fmt_kind_group(enum snap_kind kind);
/* The report's colour of a kind, "#rrggbb". */
const char *fmt_kind_color(enum snap_kind kind);

/* ---- HTML report (report_html.c; page sources in formats/html/) ---------- */

/* The filters the page opens with (the CLI's --kind, --min-size,
 * --max-size and --path, meaning what they mean there); a #fragment in
 * the page's URL overrides them. */
typedef struct fmt_report_filter {
	bool kinds[SNAP_KIND_COUNT];
	bool has_kinds;
	int64_t min_size, max_size; /* bytes */
	bool has_min, has_max;
	const char *path;           /* a glob as --path takes it, or NULL */
} fmt_report_filter;

typedef struct fmt_report_opts {
	/* How the inputs were named ("pid 1234", "before.json"); NULL: nothing. */
	const char *label;
	/* Findings on the snapshot whose regions the page shows (its rules
	 * already run), or NULL for no findings panel. */
	const snap_check *check;
	const fmt_report_filter *filter; /* NULL: the page opens unfiltered */
} fmt_report_opts;

/* One self-contained HTML page (no network, works from file://): the
 * process, totals and kinds, the findings, a treemap of Rss and a
 * sortable, filterable table of the regions, drawn by inline script from
 * an embedded "mapsnap.report/1" JSON document (formats/README.md). The
 * map view shows id's snapshot; the diff view the new snapshot with its
 * changes; the trend view the series' charts and its last snapshot, whose
 * identity `last` must be (trend->snaps[nsnaps - 1]). opts may be NULL.
 * Returns 0, SNAP_ENOMEM, SNAP_EINVAL when opts->check or last is of
 * another snapshot, or SNAP_EIO when writing failed. */
int fmt_report_map(FILE *f, const snap_identity *id, const fmt_report_opts *opts);
int fmt_report_diff(FILE *f, const snap_diff *diff, const fmt_report_opts *opts);
int fmt_report_trend(FILE *f, const snap_trend *trend, const snap_identity *last,
		     const fmt_report_opts *opts);

#endif
