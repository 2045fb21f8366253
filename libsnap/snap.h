/*
 * snap.h: the public API of libsnap, the core of mapsnap. Installed as
 * <mapsnap/snap.h> with the library libmapsnap, which adds
 * <mapsnap/snapfile.h> to read and write snapshot files (JSON).
 *
 * The sections follow the data:
 *   1. capture         a live process, from procfs (or saved proc files),
 *                      into a snapshot: capture.c, redact.c, buildid.c,
 *                      filescan.c, container.c, parse.c
 *   2. snapshot        the model (regions, fields, process and host facts)
 *                      and its checksum: model.c, hash.c
 *   3. interpretation  what each region is, its load image and the keys
 *                      that find it again in another snapshot:
 *                      classify.c, identity.c
 *   4. comparison      diff and its CI gate, summary, checks, trends:
 *                      diff.c, gate.c, analysis.c, check.c, series.c
 *   5. utilities       number and text helpers the front ends share: util.c
 * It knows nothing of JSON or of output formats: those live in formats/.
 *
 * Conventions:
 * - Every call that can fail takes the caller's snap_error as its last
 *   parameter (NULL when the code alone will do) and returns 0 (or a
 *   count or an index) or a negative SNAP_E* code; on failure it fills
 *   err with what failed: `source` names the file, pid or expression
 *   when the call knows one (else it is empty, for the caller to add),
 *   and the message says why: a value parser quotes the value and says
 *   what it expected, out of memory says what was being built.
 * - A call without a snap_error does not fail: what it returns is an
 *   answer. Lookups and predicates answer "none" with -1, NULL or false
 *   (snap_field_find, snap_kind_parse, snap_measure_parse,
 *   snap_trend_measure_index, snap_check_rule, snap_snapshot_file,
 *   snap_gate_expr, snap_field_name_valid, snap_utf8_valid,
 *   snap_same_process, snap_region_printed, snap_region_has_flag); then
 *   names, formatters, hashes and the _free()s. Two kinds answer with a
 *   code or NULL by design: the snap_X_opts_init() initialisers
 *   (libgit2's), whose SNAP_EINVAL says "a version this library does not
 *   know", and the snapshot's allocators snap_snapshot_strdup, _strndup
 *   and _alloc, whose NULL, as malloc()'s, says "out of memory".
 * - The library never prints and never exits.
 * - What comes back through an out parameter belongs to the caller and is
 *   released with the matching _free(), which accepts NULL. Pointers
 *   returned directly, and every string inside a snapshot, are borrowed
 *   from their parent object.
 * - Options are versioned structs (libgit2's pattern): the first member is
 *   `unsigned int version`. Set one up with snap_X_opts_init(&opts,
 *   SNAP_X_OPTS_VERSION), then change members; a call given options of a
 *   version this library does not know refuses them with SNAP_EINVAL, so
 *   a program built against an older header never has its options
 *   misread. NULL options mean the defaults.
 * - Public structs hold no private members: what the library keeps for
 *   itself is behind each object's opaque `internal` pointer.
 * - Stability: until 1.0, a minor version (0.1 -> 0.2) may change the API
 *   and the ABI; the shared library's soname carries major.minor.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The version of mapsnap and of this library, its one definition: the
 * GNUmakefile reads it from here for mapsnap.pc and the shared library's
 * name, and `mapsnap --version` prints snap_version(). */
#define SNAP_VERSION_STRING "0.1.0"
#define SNAP_SNAPSHOT_SCHEMA "mapsnap.snapshot/1"
/* The longest mapping name accepted: the kernel prints at most PATH_MAX
 * (4096) bytes and " (deleted)"; anything longer is not smaps. */
#define SNAP_PATH_MAX 8192
/* The largest counter a snapshot may hold: 2^52 kB (4 EiB) is beyond any
 * address space a kernel manages, so a larger value can only come from a
 * crafted file, and sums of counters stay far from overflowing. */
#define SNAP_COUNTER_MAX ((uint64_t)1 << 52)

/* The version of the library linked at run time (SNAP_VERSION_STRING is
 * the one a program was compiled against), e.g. "0.1.0". */
const char *snap_version(void);

/* ---- errors (error.c) ---------------------------------------------------- */

enum snap_status {
	SNAP_OK = 0,
	SNAP_ENOMEM = -1,   /* out of memory */
	SNAP_EIO = -2,      /* read or write failed */
	SNAP_EFORMAT = -3,  /* input is not what it claims to be */
	SNAP_ENOPROC = -4,  /* no such process (or it exited mid-capture) */
	SNAP_EPERM = -5,    /* not allowed to read the process */
	SNAP_EINVAL = -6,   /* bad argument or option value */
	SNAP_EEXIST = -7,   /* output exists and overwriting was not asked for */
	SNAP_ETRUNC = -8,   /* input ends inside a document (its writer was killed) */
	SNAP_ECHANGED = -9, /* the process ran another program (exec) mid-capture */
};

/* Where and why something failed. `source` names the file, pid or
 * expression; `line` is 1-based or 0 when it does not apply. */
typedef struct snap_error {
	char source[512];
	long line;
	char message[512];
} snap_error;

/* Fills err (when not NULL); returns code so callers can `return
 * snap_error_set(...)`. */
int snap_error_set(snap_error *err, int code, const char *source, long line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Formats err as "source: message" or "source:line: message" into buf. */
const char *snap_error_format(const snap_error *err, char *buf, size_t size);
/* A short English name of a SNAP_E* code. */
const char *snap_strerror(int code);

/* The objects the sections below pass around, defined in section 2. */
typedef struct snap_snapshot snap_snapshot;
typedef struct snap_region snap_region;
typedef struct snap_redact snap_redact; /* redaction key and policy, 1b */

/* Called once per region as a capture or a parser reads it, as soon as
 * the region is complete. The region (and its strings) is valid only
 * during the call; copy it with snap_snapshot_add_region() to keep it.
 * Return non-zero to stop (that value is returned by the reader). */
typedef int (*snap_region_fn)(void *ctx, snap_snapshot *snap,
			      const snap_region *region);

/* ========================================================================= */
/* 1. capture                                                                */
/* ========================================================================= */

/* ---- 1a. capture from procfs (capture.c) --------------------------------- */

#define SNAP_CAPTURE_OPTS_VERSION 1

typedef struct snap_capture_opts {
	unsigned int version; /* SNAP_CAPTURE_OPTS_VERSION */
	bool redact;        /* apply the redaction policy (redact.c) */
	bool no_rollup;     /* skip smaps_rollup (a view that does not use it) */
	const char *procfs; /* NULL for "/proc"; tests point it elsewhere */
	/* The key and kept directories of redact. NULL: a random key made for
	 * this one snapshot (pass one to make captures comparable). */
	const snap_redact *redaction;
	bool no_build_ids;     /* skip reading the mapped files' build-ids */
	bool no_procmap_query; /* read ELF notes even where PROCMAP_QUERY works */
} snap_capture_opts;

/* Sets opts to the defaults of that version: everything read, nothing
 * redacted, "/proc". SNAP_EINVAL, opts untouched, for a version this
 * library does not know. */
int snap_capture_opts_init(snap_capture_opts *opts, unsigned int version);

/* How many times snap_capture() tries a process that keeps running
 * another program (exec) while it is read; callers that stream regions
 * with the two calls below retry as often. */
#define SNAP_CAPTURE_ATTEMPTS 3

/* Fills snap's host, process and captured_at from procfs for pid. A
 * zombie (exited, not yet reaped) gives SNAP_ENOPROC. */
int snap_capture_meta(snap_snapshot *snap, pid_t pid,
		      const snap_capture_opts *opts, snap_error *err);
/* Reads /proc/PID/smaps, streaming each region to fn (or storing it when
 * fn is NULL), then smaps_rollup; records capture_ms and captured_end.
 * The result is consistent or an error: after the read it checks that
 * the address space it read still lives (the kernel ends the read early,
 * without an error, when it goes away) and that the start time, comm and
 * exe are those snap_capture_meta() saw. A process that exited gives
 * SNAP_ENOPROC ("exited during the capture"); one that ran another
 * program gives SNAP_ECHANGED: the regions may belong to another program
 * than the header, or be cut short; try again from snap_capture_meta()
 * with a fresh snapshot. EACCES gives SNAP_EPERM. A non-zero value
 * returned by fn stops the read and is returned as is. */
int snap_capture_smaps(snap_snapshot *snap, pid_t pid,
		       const snap_capture_opts *opts, snap_region_fn fn,
		       void *ctx, snap_error *err);
/* Both of the above into a new in-memory snapshot, tried up to
 * SNAP_CAPTURE_ATTEMPTS times while the process keeps changing. */
int snap_capture(snap_snapshot **out, pid_t pid, const snap_capture_opts *opts,
		 snap_error *err);
/* Reads /proc/PID/smaps_rollup alone into snap->rollup: the totals, at
 * the cost of one page-table walk and no per-region text. A process
 * that exited (its rollup is empty) gives SNAP_ENOPROC, EACCES gives
 * SNAP_EPERM; SNAP_EINVAL for options of another version. */
int snap_capture_rollup(snap_snapshot *snap, pid_t pid, const snap_capture_opts *opts,
			snap_error *err);

/* Builds a snapshot from a saved smaps text (a user ran `cat
 * /proc/PID/smaps > FILE` elsewhere). With siblings, also reads the other
 * saved proc files beside it when present, named like the smaps file
 * ("smaps" -> "stat", "cmdline", ...; "proc.smaps" -> "proc.stat", ...):
 * stat, cmdline, comm, status, smaps_rollup. What was not saved stays
 * unknown: nothing is invented. */
int snap_capture_files(snap_snapshot *snap, const char *smaps_path,
		       bool siblings, snap_error *err);

/* Pids whose comm equals name, ascending; *out is malloc'd (free()). */
int snap_find_pids_by_comm(pid_t **out, size_t *count, const char *name,
			   const char *procfs, snap_error *err);

/* The current UTC time as "2026-11-22T02:05:53.123Z" into buf (>= 32). */
void snap_utc_now(char *buf, size_t size);

/* ---- 1b. redaction (redact.c) -------------------------------------------- */

/* How a snapshot is redacted; README ("capture --redact") lists what is
 * kept and why. Names become tokens, "h-" and 12 hex digits of
 * SipHash-2-4 under key: one name gives one token under one key (so a
 * series and the diffs between captures redacted with one key still
 * match), and without the key a guessed name cannot be checked against a
 * token. The key is never written into a snapshot. */
struct snap_redact {
	uint8_t key[16];
	/* Directories kept in clear besides the system ones (/usr, /lib*,
	 * /bin, /sbin, /etc), e.g. "/opt/vendor"; absolute paths. */
	const char *const *keep;
	size_t nkeep;
};

/* A fresh random key (getrandom(2)), nothing kept. SNAP_EIO when the
 * kernel gives no random numbers. */
int snap_redact_random(snap_redact *r, snap_error *err);
/* The key in the file at path: 32 hex digits (and a newline). When the
 * file does not exist, a random key is written there (mode 0600; an
 * existing file is never replaced) and *created is set. */
int snap_redact_key_file(snap_redact *r, const char *path, bool *created,
			 snap_error *err);
/* The token of s[0..len): "h-" and 12 hex digits, NUL-terminated. */
void snap_redact_token(const snap_redact *r, const char *s, size_t len, char out[16]);
/* A path or a mapping's name column, redacted; a string owned by snap,
 * or NULL (out of memory, said in err). */
const char *snap_redact_path(snap_snapshot *snap, const snap_redact *r,
			     const char *path, size_t len, snap_error *err);
/* Redacts snap's host and process facts (after they were read). */
int snap_redact_meta(snap_snapshot *snap, const snap_redact *r, snap_error *err);
/* Redacts one region in place (its path and text lines move to snap). */
int snap_redact_region(snap_snapshot *snap, const snap_redact *r, snap_region *region,
		       snap_error *err);
/* The files table's inodes as the regions' (build-ids stay: they name a
 * build, not a person). */
void snap_redact_files(snap_snapshot *snap, const snap_redact *r);
/* All of it, for a whole snapshot in memory. */
int snap_redact_snapshot(snap_snapshot *snap, const snap_redact *r, snap_error *err);

/* ---- 1c. build-ids (buildid.c) ------------------------------------------- */

/* What identifies a mapped file's build. A capture records a file these
 * readers fail on as unknown instead of failing itself; err says why for
 * a caller that wants to know. Their messages name no file (they are
 * given a descriptor): the caller adds the name. */

/* Where a file's identity came from. */
enum snap_build_id_source {
	SNAP_BUILD_ID_NONE,
	SNAP_BUILD_ID_QUERY,    /* PROCMAP_QUERY on /proc/PID/maps (Linux >= 6.11) */
	SNAP_BUILD_ID_NOTE,     /* the ELF note NT_GNU_BUILD_ID of the mapped file */
	SNAP_BUILD_ID_FALLBACK, /* no note: XXH3-128 of the size, first and last 4 KiB */
};

#define SNAP_BUILD_ID_MAX 64 /* bytes; GNU build-ids are 20 (SHA-1) or 16 */

typedef struct snap_build_id {
	uint8_t bytes[SNAP_BUILD_ID_MAX];
	size_t len;            /* 0: none */
	enum snap_build_id_source source;
} snap_build_id;

/* What a file's ELF headers say. */
typedef struct snap_elf_facts {
	bool elf;               /* the file is (native-endian) ELF */
	snap_build_id build_id; /* len 0 when it has no GNU build-id note */
	uint64_t bss_bytes;     /* anonymous .bss a load maps past its file pages */
} snap_elf_facts;

/* Reads the ELF headers of the open file fd. A file that is not ELF gives
 * 0 with out->elf false; SNAP_EFORMAT for a damaged one, SNAP_EIO for
 * one that cannot be read (a directory). */
int snap_elf_read(snap_elf_facts *out, int fd, snap_error *err);
/* The build-id of the file-backed mapping at addr (or the next one) by
 * PROCMAP_QUERY on an open /proc/PID/maps; SNAP_EINVAL when the kernel
 * has no such ioctl (before 6.11) or fd is not a maps file, SNAP_ENOPROC
 * when the process is gone, SNAP_EIO when no file is mapped there. */
int snap_procmap_build_id(int maps_fd, uint64_t addr, snap_build_id *out,
			  snap_error *err);
/* The OpenTelemetry-style identifier of a regular file with no build-id:
 * a hash of its size and its first and last 4 KiB. SNAP_EINVAL for
 * anything but a regular file, SNAP_EIO when it cannot be read. */
int snap_file_fallback_id(snap_build_id *out, int fd, snap_error *err);
/* id as lowercase hex into buf; returns its length. */
size_t snap_build_id_hex(char *buf, size_t size, const snap_build_id *id);
/* "procmap-query", "elf-note", "content-hash", "none". */
const char *snap_build_id_source_name(enum snap_build_id_source s);

/* ---- 1d. the mapped files (filescan.c, container.c) ---------------------- */

/* Collects the file-backed mappings of a capture as they stream past
 * (the first mapping of each dev and inode), then reads each file once
 * into the snapshot's files table (snap_snapshot_add_file). */
typedef struct snap_file_scan snap_file_scan;

#define SNAP_FILE_SCAN_OPTS_VERSION 1

typedef struct snap_file_scan_opts {
	unsigned int version;  /* SNAP_FILE_SCAN_OPTS_VERSION */
	pid_t pid;             /* the process; 0 reads the paths on this host
				* (a saved smaps: --from-smaps --build-ids) */
	const char *procfs;    /* NULL for "/proc" */
	bool no_procmap_query; /* read the ELF notes even where the kernel could
				* tell (MAPSNAP_NO_PROCMAP_QUERY=1) */
} snap_file_scan_opts;

/* Sets opts to the defaults of that version (pid 0, "/proc", queries
 * allowed). SNAP_EINVAL, opts untouched, for a version this library does
 * not know. */
int snap_file_scan_opts_init(snap_file_scan_opts *opts, unsigned int version);

/* An empty scan; freed with snap_file_scan_free, which accepts NULL. */
int snap_file_scan_new(snap_file_scan **out, snap_error *err);
void snap_file_scan_free(snap_file_scan *s);
/* Notes r when it maps a regular file not seen yet. */
int snap_file_scan_add(snap_file_scan *s, const snap_region *r, snap_error *err);
/* How many files it noted. */
size_t snap_file_scan_count(const snap_file_scan *s);
/* Reads every file noted (while the process still runs) into snap. A file
 * that cannot be opened gets what PROCMAP_QUERY told, or nothing: that is
 * no error. SNAP_EINVAL for options of another version, SNAP_ENOMEM. */
int snap_file_scan_read(snap_file_scan *s, snap_snapshot *snap,
			const snap_file_scan_opts *opts, snap_error *err);

/* The container a cgroup path names (docker-ID.scope, /docker/ID,
 * cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope, kubepods
 * .../ID: the 64-hex id; lxc.payload.NAME: the name), or "" (length 0).
 * Same buffer contract as snap_lib_name. */
size_t snap_container_id(char *buf, size_t size, const char *cgroup);

/* ---- 1e. smaps text parsing (parse.c) ------------------------------------ */

typedef struct snap_parser snap_parser;

/* A push parser for smaps text. Fields are interned into snap; regions go
 * to fn, or are appended to snap when fn is NULL. `source` names the
 * input in error messages. */
int snap_parser_new(snap_parser **out, snap_snapshot *snap, const char *source,
		    snap_region_fn fn, void *ctx, snap_error *err);
/* Feeds the next bytes; may be split anywhere. */
int snap_parser_feed(snap_parser *p, const char *data, size_t len,
		     snap_error *err);
/* Ends the input: flushes the last region, rejects truncated text. */
int snap_parser_finish(snap_parser *p, snap_error *err);
/* How many regions it has completed so far. */
size_t snap_parser_region_count(const snap_parser *p);
/* Frees p (not its snapshot); accepts NULL. */
void snap_parser_free(snap_parser *p);

/* Parses a whole smaps text file descriptor into snap (or into fn). */
int snap_parse_smaps_fd(snap_snapshot *snap, int fd, const char *source,
			snap_region_fn fn, void *ctx, snap_error *err);

/* Parses "key: value" smaps_rollup text into snap->rollup. */
int snap_parse_rollup(snap_snapshot *snap, const char *text, size_t len,
		      const char *source, snap_error *err);

/* ========================================================================= */
/* 2. the snapshot                                                           */
/* ========================================================================= */

/* ---- 2a. the model (model.c) --------------------------------------------- */

/* How the kernel printed a per-region line. */
enum snap_unit {
	SNAP_UNIT_KB = 0,   /* "Rss:   12 kB" */
	SNAP_UNIT_NONE = 1, /* "THPeligible:    0" */
	SNAP_UNIT_TEXT = 2, /* any other "Key: text" line, kept verbatim */
};

/* One counter name the kernel printed, with its unit. The set is open:
 * kernels add and remove fields, so nothing assumes a fixed list. */
typedef struct snap_field {
	const char *name;
	enum snap_unit unit;
} snap_field;

/* A stored line of a region: a non-zero counter (value, in kB for
 * SNAP_UNIT_KB) or a text line (is_text; read it with snap_entry_text). */
typedef struct snap_entry {
	uint32_t field; /* index into snap_snapshot.fields */
	uint32_t is_text;
	union {
		uint64_t value;
		const char *text;
	};
} snap_entry;

/* The text of a text line, NULL for a counter. */
const char *snap_entry_text(const snap_entry *e);

/* One VMA, everything the kernel printed for it. */
typedef struct snap_region {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset in bytes */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	/* The name column verbatim as printed ("" when anonymous): "\012" for
	 * a newline stays those four characters, " (deleted)" is kept. */
	const char *path;
	/* VmFlags tokens separated by single spaces, without the kernel's
	 * trailing space; NULL when the kernel printed no VmFlags line. */
	const char *vmflags;
	/* Every line the kernel printed after the header (VmFlags aside), as
	 * field indexes in its order. Regions that printed the same lines
	 * share one array. */
	const uint32_t *layout;
	/* The lines worth storing, in the same order: counters that are not
	 * zero and text lines. A printed counter missing here is 0. */
	const snap_entry *entries;
	uint32_t path_len;
	uint16_t nlayout, nentries;
	char perms[5]; /* "r-xp", NUL-terminated */
} snap_region;

/* A "Key: value" pair from /proc/PID/status, value trimmed. */
typedef struct snap_kv {
	const char *key;
	const char *value;
} snap_kv;

/* A named counter from smaps_rollup, in kB (or unitless). */
typedef struct snap_counter {
	const char *name;
	uint64_t value;
	enum snap_unit unit;
} snap_counter;

/* Host facts. NULL / 0 means unknown (e.g. built from a saved smaps). */
typedef struct snap_host {
	const char *hostname;
	const char *kernel;  /* uname -r */
	const char *machine; /* uname -m */
	long page_size;
	const char *boot_id;
	/* vm.max_map_count when captured (mmap fails past it); 0 unknown. */
	long max_map_count;
} snap_host;

/* Process facts. `known` is false for a snapshot built from saved smaps
 * text alone; then every other member is unset. Numbers that could not
 * be read are -1 (start_stack: 0). */
typedef struct snap_process {
	bool known;
	long pid;
	long long start_time;  /* /proc/PID/stat field 22, clock ticks */
	uint64_t start_stack;  /* stat field 28: pmap names [ stack ] by it */
	const char *comm;
	const char *exe;       /* readlink of /proc/PID/exe, or NULL */
	const char **argv;
	size_t argc;
	long threads;
	const snap_kv *status;
	size_t nstatus;
	/* The stack pointer of every thread but the main one, from
	 * /proc/PID/task/TID/syscall (threads running on a CPU at that moment
	 * have none): the region holding one is a thread stack. */
	const uint64_t *thread_sp;
	size_t nthread_sp;
	/* Where it runs: its mount namespace ("mnt:[4026531841]"), its cgroup
	 * (v2 path) and the container id the cgroup names, or NULL. */
	const char *mnt_ns;
	const char *cgroup;
	const char *container_id;
} snap_process;

/* What a capture learned of one mapped file (one dev and inode). */
typedef struct snap_file {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	snap_build_id build_id; /* of the mapped file; len 0 unknown */
	/* Anonymous .bss a load of it maps past its last file page (from its
	 * ELF program headers); -1 unknown. */
	int64_t bss_bytes;
	/* A deleted mapping: the identity of the file now at its path, if
	 * any (at_path.len 0: no file there, or not a regular one). */
	bool at_path_known;
	snap_build_id at_path;
} snap_file;

typedef struct snap_snapshot {
	const char *tool;        /* "mapsnap 0.1.0" that wrote it */
	const char *captured_at; /* UTC ISO 8601 with ms, start of capture */
	const char *captured_end;
	double capture_ms;       /* smaps read time; < 0 unknown */
	const char *source;      /* "procfs" or "smaps:<file>" */
	bool redacted;
	snap_host host;
	snap_process process;

	snap_field *fields; /* every field name seen, in first-seen order */
	size_t nfields;

	snap_region *regions;
	size_t nregions;

	snap_counter *rollup; /* smaps_rollup, NULL/0 when not captured */
	size_t nrollup;

	snap_file *files;     /* mapped files' build-ids; NULL/0 when not read */
	size_t nfiles;

	/* Checksum recorded in the file this was loaded from (0 if none). */
	uint64_t stored_checksum;
	bool has_stored_checksum;
	/* The stored checksum covers the whole document (files written since
	 * the checksum changed); then document_checksum is what the loaded
	 * bytes hash to. Older files' checksums cover only the regions. */
	bool checksum_covers_document;
	uint64_t document_checksum;

	/* The library's: storage of the strings and arrays above; opaque. */
	struct snap_snapshot_internal *internal;
} snap_snapshot;

/* An empty snapshot (no metadata, no regions). */
int snap_snapshot_new(snap_snapshot **out, snap_error *err);
/* Frees snap and every string and array in it; accepts NULL. */
void snap_snapshot_free(snap_snapshot *snap);

/* Copies a string into the snapshot's storage; returns NULL on ENOMEM.
 * Use it to fill snapshot members (they are freed with the snapshot). */
const char *snap_snapshot_strdup(snap_snapshot *snap, const char *s);
const char *snap_snapshot_strndup(snap_snapshot *snap, const char *s, size_t n);
/* Raw storage owned by the snapshot (zeroed), for arrays of members. */
void *snap_snapshot_alloc(snap_snapshot *snap, size_t size);

/* True for a name the kernel could print as a smaps field: a capital
 * letter, then ASCII letters, digits and "_.()-" (the JSON writer emits
 * names unescaped, beside lowercase members such as "path"). */
bool snap_field_name_valid(const char *name, size_t len);
/* Index of the field called name, or -1. */
int snap_field_find(const snap_snapshot *snap, const char *name);
/* Index of the field, adding it with the given unit when new; or
 * SNAP_ENOMEM, or SNAP_EINVAL past INT32_MAX fields. */
int snap_field_intern(snap_snapshot *snap, const char *name, size_t len,
		      enum snap_unit unit, snap_error *err);

/* Adds (or, for a dev and inode already there, replaces) what is known
 * of one mapped file. 0 or SNAP_ENOMEM. */
int snap_snapshot_add_file(snap_snapshot *snap, const snap_file *file, snap_error *err);
/* The file with that dev and inode, or NULL. Linear in nfiles. */
const snap_file *snap_snapshot_file(const snap_snapshot *snap, uint32_t dev_major,
				    uint32_t dev_minor, uint64_t inode);

/* Deep-copies r (whose field indexes refer to snap's fields) as the last
 * region of snap. r->layout may be NULL: every entry then counts as a
 * printed line (zero values are accepted and not stored). SNAP_ENOMEM,
 * or SNAP_EINVAL for more than 256 entries without a layout. */
int snap_snapshot_add_region(snap_snapshot *snap, const snap_region *r, snap_error *err);

/* The value of field index `field` in r, 0 when r did not print it. */
uint64_t snap_region_value(const snap_region *r, int field);
/* True when the kernel printed field index `field` for r. */
bool snap_region_printed(const snap_region *r, int field);
/* Same, by name; 0 when the field is unknown or absent. */
uint64_t snap_region_get(const snap_snapshot *snap, const snap_region *r,
			 const char *name);
/* True when r's VmFlags contain the two-letter token. */
bool snap_region_has_flag(const snap_region *r, const char *token);
/* What no kernel prints: a counter above SNAP_COUNTER_MAX, or Rss above
 * the region's size (end - start). Returns 0, or SNAP_EFORMAT with the
 * reason in err's message ("Rss 8 kB is more than the region's size,
 * 4 kB"), which names no source: the caller knows the file and line. */
int snap_region_check(const snap_snapshot *snap, const snap_region *r, snap_error *err);

/* ---- 2b. checksum: XXH3-64 over the canonical encoding (hash.c) ---------- */

/* A streaming checksum: add regions (or bytes) in order, then digest.
 * Free accepts NULL. */
typedef struct snap_hasher snap_hasher;
int snap_hasher_new(snap_hasher **out, snap_error *err);
void snap_hasher_free(snap_hasher *h);
/* Adds r in the canonical encoding (formats/README.md, "Checksum"). */
void snap_hasher_add_region(snap_hasher *h, const snap_snapshot *snap,
			    const snap_region *r);
/* Adds raw bytes (the document checksum hashes the JSON text itself). */
void snap_hasher_add(snap_hasher *h, const void *data, size_t len);
/* The checksum of everything added so far (h can take more). */
uint64_t snap_hasher_digest(const snap_hasher *h);
/* Checksum of all regions of snap into *out; SNAP_ENOMEM when the
 * checksum state cannot be made. */
int snap_snapshot_checksum(uint64_t *out, const snap_snapshot *snap, snap_error *err);
/* XXH3-64 of a byte string (used for redaction tokens and hash tables). */
uint64_t snap_hash64(const void *data, size_t len);

/* XXH3-128 of a byte string, big-endian (canonical) into out[16]. */
void snap_hash128(uint8_t out[16], const void *data, size_t len);

/* ========================================================================= */
/* 3. interpretation                                                         */
/* ========================================================================= */

/* ---- 3a. kinds (classify.c) ---------------------------------------------- */

/* What a region is, decided from evidence (classify.c): the kernel's
 * name, the process's thread stack pointers, VmFlags, the file offsets
 * of a library load, neighbours. See snap_evidence for the reasons. */
enum snap_kind {
	SNAP_KIND_EXE,          /* segments of the main executable */
	SNAP_KIND_LIB,          /* shared objects (*.so, *.so.N, ld.so) */
	SNAP_KIND_FILE,         /* other file mappings (data, fonts, shared read-only) */
	SNAP_KIND_HEAP,         /* [heap] (brk) */
	SNAP_KIND_STACK,        /* [stack], the main thread's */
	SNAP_KIND_THREAD_STACK, /* a thread's stack (its guard page is a guard) */
	SNAP_KIND_ARENA,        /* glibc malloc arena, both parts */
	SNAP_KIND_ANON,         /* other unnamed anonymous memory */
	SNAP_KIND_ANON_NAMED,   /* [anon:name] */
	SNAP_KIND_SHMEM,        /* shared memory: /dev/shm, memfd, SysV, shared anon */
	SNAP_KIND_SPECIAL,      /* [vdso] [vvar] [vsyscall] anon_inode:... */
	SNAP_KIND_GUARD,        /* small no-access pages guarding a stack or memory */
	SNAP_KIND_RESERVED,     /* larger no-access ranges: address space kept, nothing committed */
	SNAP_KIND_COUNT
};

/* "exe", "lib", "file", "heap", "stack", "thread-stack", "arena", "anon",
 * "anon-named", "shmem", "special", "guard", "reserved". */
const char *snap_kind_name(enum snap_kind kind);
/* The kind called name, or -1. */
int snap_kind_parse(const char *name);

/* Why a region got its kind, strongest evidence first where several
 * could apply. */
enum snap_evidence {
	SNAP_EV_NAME,          /* the kernel's name: [heap], [stack], [vdso], [anon:...] */
	SNAP_EV_EXE_PATH,      /* the file /proc/PID/exe names */
	SNAP_EV_FIRST_FILE,    /* no exe recorded: the lowest-mapped file, not a library */
	SNAP_EV_SONAME,        /* a file named like a shared object, mapped private */
	SNAP_EV_FILE,          /* any other file */
	SNAP_EV_SHMEM_NAME,    /* /dev/shm, memfd, SysV, /dev/zero (deleted), [anon_shmem:] */
	SNAP_EV_SHARED_WRITABLE, /* a writable shared mapping of a file or device */
	SNAP_EV_STACK_POINTER, /* a thread's stack pointer is inside it */
	SNAP_EV_MAP_STACK,     /* VmFlags nh on it and on the no-access page below (MAP_STACK) */
	SNAP_EV_GUARD_PATTERN, /* rw-p over a small ---p, within the process's thread count */
	SNAP_EV_OVER_THREADS,  /* looks like a thread stack, but the threads are all accounted for */
	SNAP_EV_ARENA,         /* a 64 MiB-aligned rw-p heap (MAP_NORESERVE) of a glibc arena */
	SNAP_EV_ARENA_RESERVE, /* the no-access rest of a glibc arena's 64 MiB */
	SNAP_EV_STACK_GUARD,   /* the no-access page right below a thread stack */
	SNAP_EV_SMALL_GUARD,   /* no access, 64 KiB or less, bordering accessible memory */
	SNAP_EV_RESERVATION,   /* no access and larger (or alone): address space kept */
	SNAP_EV_IMAGE_GAP,     /* unnamed no-access range between two segments of one file */
	SNAP_EV_BSS,           /* anonymous memory right after an image's writable segment */
	SNAP_EV_EXEC_HEAP,     /* named [heap] by the kernel but executable: not the brk heap */
	SNAP_EV_ANONYMOUS,     /* unnamed memory with nothing more to say */
	SNAP_EV_COUNT
};

/* A short token ("stack-pointer") and one sentence on the evidence. */
const char *snap_evidence_name(enum snap_evidence ev);
/* One sentence on it ("a thread's stack pointer is inside it"). */
const char *snap_evidence_about(enum snap_evidence ev);

/* What the snapshot says about its threads' stacks (classify.c). */
typedef struct snap_stack_evidence {
	long threads;          /* Threads: in /proc/PID/status, -1 unknown */
	size_t pointers;       /* stack pointers read (blocked threads) */
	size_t by_pointer;     /* thread stacks holding a stack pointer */
	size_t by_map_stack;   /* ... and further ones by the MAP_STACK mark */
	size_t by_pattern;     /* ... and by the bare guard pattern */
	size_t refused;        /* look-alikes beyond the threads and glibc's cache */
	bool map_stack_marked; /* the kernel marks MAP_STACK (VmFlags nh) here */
} snap_stack_evidence;

/* Classifies every region of snap: kinds[i] and, when not NULL,
 * evidence[i] (enum snap_evidence) for regions[i]; stacks (may be NULL)
 * gets the thread stack evidence. The arrays hold snap->nregions entries.
 * Returns 0 or SNAP_ENOMEM. snap_identity_new() does this and more. */
int snap_classify(const snap_snapshot *snap, enum snap_kind *kinds,
		  uint8_t *evidence, snap_stack_evidence *stacks, snap_error *err);
/* Path without a trailing " (deleted)"; *deleted says whether it had one.
 * Returns the length of the kept part. */
size_t snap_path_undeleted(const snap_region *r, bool *deleted);

/* ---- 3b. library images and identity (identity.c) ------------------------ */

/* One load instance: a mapping of a file at offset 0 and the mappings of
 * the same file that follow it (in any offset order: RELRO maps a lower
 * offset after a higher one), with the unnamed no-access gaps between
 * them. A file mapped from another offset first starts an image too, with
 * no load (has_offset0 false). The anonymous region right after a
 * writable last segment is its .bss: attached, not counted here. */
typedef struct snap_image {
	size_t first, count;   /* regions[first .. first + count) */
	enum snap_kind kind;   /* SNAP_KIND_EXE, SNAP_KIND_LIB or SNAP_KIND_FILE */
	const char *path;      /* borrowed; path_len leaves out " (deleted)" */
	size_t path_len;
	bool deleted;
	bool has_offset0;      /* a load: it maps the file's start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t ordinal;      /* 0 for the lowest image of this path, 1 next... */
	uint32_t name_ordinal; /* the same among images of one library name */
	uint32_t build_ordinal; /* the same among images of one build-id */
	int64_t bss;           /* region index of its .bss, or -1 */
	const snap_file *file; /* what capture read of the file, or NULL */
	uint64_t size_kb, rss_kb;
} snap_image;

/* A library loaded more than once: two loads (offset-0 mappings) of one
 * file (dlmopen into another namespace, a manual mmap), or loads of files
 * whose basenames are equal once version suffixes are stripped (vendored
 * copies, two versions). */
/* Which sort of duplicate: the same file loaded twice, one build
 * (build-id) loaded from two files, two builds of one library (the
 * dangerous one: two copies of global state of different versions), or
 * one name from two files whose builds are unknown. */
enum snap_dup_kind {
	SNAP_DUP_SAME_FILE,
	SNAP_DUP_SAME_BUILD,
	SNAP_DUP_TWO_BUILDS,
	SNAP_DUP_SAME_NAME,
};

/* "same-file", "same-build", "two-builds", "same-name". */
const char *snap_dup_kind_name(enum snap_dup_kind kind);

typedef struct snap_duplicate {
	const char *name;      /* "libz.so" (see snap_lib_name) */
	const size_t *images;  /* indexes into snap_identity.images, ascending */
	size_t nimages;
	bool same_file;        /* some two images share one inode */
	enum snap_dup_kind kind;
} snap_duplicate;

/* How matching across processes pairs a region with its counterpart. */
enum snap_match_class {
	/* file segments, .bss, [heap], [stack], specials: equal keys pair in
	 * address order */
	SNAP_MATCH_EXACT,
	/* everything else: equal keys pair by rank of size (equal sizes in
	 * address order first, then the least size difference) */
	SNAP_MATCH_SIMILAR,
};

/* A path prefix of one host or container and its counterpart on another
 * ("/opt/app" = "/srv/app"): it ends at a '/' or at the end of the path. */
typedef struct snap_path_map {
	const char *from, *to;
} snap_path_map;

/* The interpretation of one snapshot, computed once and read by diff,
 * check, summary, trend and report: what each region is and why, which
 * load instance it belongs to, and the keys that survive ASLR. Keys are
 * XXH3 hashes of: file segments (build-id when the capture read one, else
 * path; offset, perms, image ordinal); .bss (its image's build-id or
 * library name, ordinal, perms); image gaps (their image's key); [heap],
 * [stack], specials (name, perms);
 * named anon (name with thread ids stripped, perms); shmem (path, perms,
 * never the inode); other unnamed memory (kind, perms). No key depends on
 * a neighbour, so a mapping appearing in a hole changes no other match. */
typedef struct snap_identity {
	const snap_snapshot *snap; /* borrowed: must outlive the identity */
	enum snap_kind *kinds;     /* per region */
	uint8_t *evidence;         /* per region, enum snap_evidence */
	uint64_t *keys;            /* per region */
	/* per region: the key by path and name alone (equal to keys[] unless a
	 * build-id made keys[] by build), so snapshots with and without
	 * build-ids still match */
	uint64_t *path_keys;
	uint8_t *classes;          /* per region, enum snap_match_class */
	int32_t *image_of;         /* per region: its image (segments and gaps), or -1 */
	int32_t *attached;         /* per region: the image whose .bss it is, or -1 */
	snap_image *images;
	size_t nimages;
	snap_duplicate *dups;
	size_t ndups;
	size_t thread_stacks;      /* regions of SNAP_KIND_THREAD_STACK */
	snap_stack_evidence stacks;
	/* The library's: storage of the arrays above; opaque. */
	struct snap_identity_internal *internal;
} snap_identity;

/* Classifies snap and builds its images, duplicates and identity keys.
 * 0 or SNAP_ENOMEM. */
int snap_identity_new(snap_identity **out, const snap_snapshot *snap, snap_error *err);
/* The same, with paths rewritten by the first map whose prefix they start
 * with before they go into identity keys (so a library at /opt/app/lib
 * in one snapshot matches /srv/app/lib in another without build-ids).
 * The snapshot itself is not changed. */
int snap_identity_new_mapped(snap_identity **out, const snap_snapshot *snap,
			     const snap_path_map *maps, size_t nmaps, snap_error *err);
/* Parses "OLD=NEW" (both absolute, OLD not "/") into map (from OLD, to
 * NEW), pointing into text; SNAP_EINVAL when malformed, err saying why. */
int snap_path_map_parse(snap_path_map *map, char *text, snap_error *err);
/* Frees id (not its snapshot); accepts NULL. */
void snap_identity_free(snap_identity *id);

/* The library name used to find duplicates: the basename with version
 * suffixes stripped ("/lib/libz.so.1.2.13" -> "libz.so", "libc-2.31.so"
 * -> "libc.so"). Writes at most size - 1 bytes plus a NUL; returns the
 * length of the name. */
size_t snap_lib_name(char *buf, size_t size, const char *path, size_t len);

/* An [anon:...] name with thread ids stripped, so thread churn does not
 * look like new memory ("[anon: glibc: pthread stack: 4242]" ->
 * "[anon: glibc: pthread stack: *]"). Same buffer contract as above. */
size_t snap_anon_name_key(char *buf, size_t size, const char *name, size_t len);

/* ========================================================================= */
/* 4. comparison                                                             */
/* ========================================================================= */

/* ---- 4a. diff (diff.c) --------------------------------------------------- */

/* The counters a diff adds up, in kB as smaps prints them (Size is
 * end - start). */
enum snap_measure {
	SNAP_M_SIZE,
	SNAP_M_RSS,
	SNAP_M_PSS,
	SNAP_M_SHARED_CLEAN,
	SNAP_M_SHARED_DIRTY,
	SNAP_M_PRIVATE_CLEAN,
	SNAP_M_PRIVATE_DIRTY,
	SNAP_M_ANONYMOUS,
	SNAP_M_SWAP,
	SNAP_M_SWAP_PSS,
	SNAP_M_COUNT
};

/* The smaps field name: "Size", "Rss", ..., "SwapPss". */
const char *snap_measure_name(enum snap_measure m);
/* The measure a --metric or gate word names ("rss", "pss", "size",
 * "dirty", "swap", "anon", "swappss", "clean", "shared"), or -1. */
int snap_measure_parse(const char *word);

typedef struct snap_sums {
	int64_t kb[SNAP_M_COUNT];
	int64_t regions;
} snap_sums;

enum snap_change_type {
	SNAP_CHANGE_GROWN,
	SNAP_CHANGE_SHRUNK,
	SNAP_CHANGE_NEW,
	SNAP_CHANGE_VANISHED,
	SNAP_CHANGE_DUPLICATED, /* a new image that makes a library duplicated */
	SNAP_CHANGE_PERMS,      /* mprotect, with no change in memory */
	SNAP_CHANGE_REPLACED,   /* same path, other inode or build, or " (deleted)"
				 * appeared; or one library name in another build */
	SNAP_CHANGE_MOVED,      /* the same build mapped from another path */
	SNAP_CHANGE_TYPES
};

/* "grown", "shrunk", "new", "vanished", "duplicated", "perms", "replaced",
 * "moved". */
const char *snap_change_name(enum snap_change_type type);

typedef struct snap_range {
	uint64_t start, end;
} snap_range;

typedef struct snap_perms_change {
	uint64_t start, end;
	char old_perms[5], new_perms[5];
} snap_perms_change;

/* One side of a change: the regions it covers in one snapshot. */
typedef struct snap_side {
	bool present;
	uint64_t start, end;     /* the first region's start, the last's end */
	const uint32_t *regions; /* indexes into the snapshot, ascending */
	size_t nregions;
	uint64_t inode;          /* of the first region */
	snap_sums sums;
} snap_side;

typedef struct snap_change {
	enum snap_change_type type;
	enum snap_kind kind;
	const char *path;   /* verbatim (borrowed); "" when anonymous */
	size_t path_len;
	char perms[5];      /* of the largest region, new side first */
	bool image;         /* covers whole file images (all their segments) */
	enum snap_evidence evidence; /* of the region that names the change */
	/* File mappings: the build-ids of both sides (NULL unknown), and the
	 * old path when it differs from path (moved; else old_path_len 0). */
	const snap_build_id *old_build, *new_build;
	const char *old_path;
	size_t old_path_len;
	snap_side old, new;
	snap_sums delta;    /* new - old */
	/* Same process only: address ranges mapped or unmapped inside a
	 * matched change (a new mmap merged into a neighbour is new memory),
	 * and ranges whose permissions changed. */
	const snap_range *mapped;
	size_t nmapped;
	const snap_range *unmapped;
	size_t nunmapped;
	const snap_perms_change *perms_changes;
	size_t nperms_changes;
} snap_change;

enum snap_match_mode {
	SNAP_MATCH_AUTO,     /* by address for the same process, else identity */
	SNAP_MATCH_ADDRESS,
	SNAP_MATCH_IDENTITY,
};

#define SNAP_DIFF_OPTS_VERSION 1

typedef struct snap_diff_opts {
	unsigned int version; /* SNAP_DIFF_OPTS_VERSION */
	/* Hide changes smaller than this in every counter that matters
	 * (Size, Rss, Private_Dirty, Anonymous, Swap, and the metric). */
	int64_t min_change_kb;
	/* Sort key. Pss changes only count when this is SNAP_M_PSS: other
	 * processes move Pss without this one changing. */
	enum snap_measure metric;
	enum snap_match_mode match;
	/* Path prefixes of OLD rewritten before matching by identity (hosts
	 * and containers install alike things in other places). */
	const snap_path_map *path_maps;
	size_t npath_maps;
} snap_diff_opts;

/* Sets opts to the defaults of that version: 4 kB, Rss, automatic
 * matching, no path maps. SNAP_EINVAL, opts untouched, for a version
 * this library does not know. */
int snap_diff_opts_init(snap_diff_opts *opts, unsigned int version);

typedef struct snap_diff_dup {
	const snap_duplicate *dup; /* in new_id */
	bool new_in_new;           /* the library was not duplicated in old */
} snap_diff_dup;

typedef struct snap_diff {
	const snap_snapshot *old, *new; /* borrowed */
	snap_identity *old_id, *new_id; /* owned */
	snap_diff_opts opts;
	bool same_process;  /* equal pid, start_time and boot_id */
	bool by_address;    /* matched by address overlap (else by identity) */
	snap_sums total_old, total_new;
	snap_sums kind_old[SNAP_KIND_COUNT], kind_new[SNAP_KIND_COUNT];
	/* Changes at or above min_change, largest |delta of the metric| first. */
	snap_change *changes;
	size_t nchanges;
	size_t hidden;      /* changes below min_change, not listed */
	size_t new_libs;    /* library images new in new (duplicates included) */
	snap_diff_dup *dups;
	size_t ndups;
	/* The library's: storage of the arrays above; opaque. */
	struct snap_diff_internal *internal;
} snap_diff;

/* True when a and b are one process: equal pid and start_time, and
 * equal boot ids (or both unknown). */
bool snap_same_process(const snap_snapshot *a, const snap_snapshot *b);

/* Matches the regions of old and new and builds the report. Both
 * snapshots must outlive the diff. Matching is O(n) expected. */
int snap_diff_new(snap_diff **out, const snap_snapshot *old,
		  const snap_snapshot *new, const snap_diff_opts *opts,
		  snap_error *err);
/* Frees diff and its identities (not the snapshots); accepts NULL. */
void snap_diff_free(snap_diff *diff);

/* Which regions of two snapshots are one memory object, as snap_diff_new
 * matches them (diff.c), without building a report: from identities
 * already built, so a series builds each snapshot's identity once.
 * SNAP_MATCH_AUTO matches by address when both are one process, else by
 * identity. Fills old_groups[old->nregions] and new_groups[new->nregions]
 * with labels: regions with equal labels (>= 0) are one object seen
 * twice (by address, a split or merge gives several regions one label);
 * -1 has no counterpart. *by_address (may be NULL) says which way
 * was used. Returns 0, SNAP_ENOMEM, or SNAP_EFORMAT for regions that
 * overlap or are out of address order (err says which). */
int snap_diff_match(int32_t *old_groups, int32_t *new_groups, bool *by_address,
		    const snap_identity *old_id, const snap_identity *new_id,
		    enum snap_match_mode mode, snap_error *err);

/* ---- 4b. the CI gate (gate.c) -------------------------------------------- */

/* Expressions "[KIND.]METRIC OP VALUE", e.g. "rss>+10%", "heap.rss>+1M",
 * "anon.dirty>+64M", "dup-libs>0", "thread-stacks>+0", "regions>+100".
 * METRIC is a measure word (snap_measure_parse) or one of the counts
 * regions, dup-libs, new-libs, thread-stacks. OP is >, >=, <, <=.
 * VALUE with a sign compares the change, with % the change relative to
 * old, bare the new value. Sizes take K, M, G suffixes (bytes). */
typedef struct snap_gate snap_gate;

typedef struct snap_violation {
	const char *expr;
	double actual, limit; /* what was compared: kB, a count or a percentage */
	char message[256];    /* "rss>+10%: Rss +12.5% (1.0M -> 1.1M)" */
} snap_violation;

/* An empty gate; free accepts NULL. */
int snap_gate_new(snap_gate **out, snap_error *err);
void snap_gate_free(snap_gate *gate);
/* Parses expr and adds it; a bad one gives SNAP_EINVAL with err naming it. */
int snap_gate_add(snap_gate *gate, const char *expr, snap_error *err);
/* How many expressions it holds, and the i-th as given. */
size_t snap_gate_size(const snap_gate *gate);
const char *snap_gate_expr(const snap_gate *gate, size_t i);
/* Evaluates every expression against diff; returns the number of
 * violations, or SNAP_ENOMEM. */
int snap_gate_check(snap_gate *gate, const snap_diff *diff, snap_error *err);
/* The violations of the last check (borrowed). */
const snap_violation *snap_gate_violations(const snap_gate *gate, size_t *count);

/* ---- 4c. summary and checks (analysis.c, check.c) ------------------------ */

/* Which regions a summary counts (the CLI's --kind, --size and --path
 * filters). kind is the region's classified kind. True keeps it. */
typedef bool (*snap_region_filter)(void *ctx, const snap_snapshot *snap,
				   const snap_region *r, enum snap_kind kind);

#define SNAP_SUMMARY_OPTS_VERSION 1

typedef struct snap_summary_opts {
	unsigned int version;      /* SNAP_SUMMARY_OPTS_VERSION */
	enum snap_measure metric;  /* ranks top regions and libraries */
	size_t top;                /* how many top regions to list */
	snap_region_filter filter; /* NULL: every region */
	void *filter_ctx;
} snap_summary_opts;

/* Sets opts to the defaults of that version: Rss, 10 regions, no
 * filter. SNAP_EINVAL, opts untouched, for a version this library does
 * not know. */
int snap_summary_opts_init(snap_summary_opts *opts, unsigned int version);

/* An executable or library load instance, its (kept) segments summed. */
typedef struct snap_summary_lib {
	const snap_image *image; /* borrowed from the summary's identity */
	snap_sums sums;
} snap_summary_lib;

/* One counter summed over the regions, against smaps_rollup. */
typedef struct snap_rollup_row {
	enum snap_measure measure; /* Rss, Pss, Private_Dirty, Swap */
	int64_t summed_kb, rollup_kb;
	/* Pss: each smaps line is truncated on its own, so the sum may fall
	 * short of the rollup by up to 1 kB per region. 0 for the others. */
	int64_t tolerance_kb;
	bool agrees;
} snap_rollup_row;

/* Where the memory of one snapshot is. */
typedef struct snap_summary {
	const snap_snapshot *snap; /* borrowed: must outlive the summary */
	snap_identity *id;         /* owned: kinds and images */
	snap_summary_opts opts;
	bool filtered;             /* a filter was given */
	snap_sums total;           /* of the regions kept */
	snap_sums by_kind[SNAP_KIND_COUNT];
	uint32_t *top;             /* region indexes, largest metric first */
	size_t ntop;
	snap_summary_lib *libs;    /* exe and lib images, largest metric first */
	size_t nlibs;
	struct {
		size_t count;          /* regions of SNAP_KIND_THREAD_STACK */
		int64_t size_kb, rss_kb;
		long threads;          /* Threads: in /proc/PID/status, -1 unknown */
	} stacks;
	struct {
		size_t count;          /* arena heaps (their rw-p parts) */
		int64_t committed_kb;  /* Size of the rw-p parts */
		int64_t reserved_kb;   /* Size of every arena region: address space held */
		int64_t rss_kb;
	} arenas;
	/* The cross-check against smaps_rollup. nrollup is 0 when the
	 * snapshot has no rollup or a filter is set (a part never matches
	 * the whole). torn: some row disagrees, the read was not atomic. */
	snap_rollup_row rollup[4];
	size_t nrollup;
	bool torn;
} snap_summary;

/* Classifies snap and adds it up. opts may be NULL (defaults). Returns
 * 0, SNAP_ENOMEM, or SNAP_EINVAL for options of another version or a
 * metric out of range (err says which). */
int snap_summary_new(snap_summary **out, const snap_snapshot *snap,
		     const snap_summary_opts *opts, snap_error *err);
/* Frees sum and its identity (not the snapshot); accepts NULL. */
void snap_summary_free(snap_summary *sum);

/* How bad a finding is. --strict fails on warning and worse. */
enum snap_severity {
	SNAP_SEV_INFO,    /* worth knowing, often normal */
	SNAP_SEV_WARNING, /* likely a problem, or a security smell */
	SNAP_SEV_ERROR,   /* will break soon (mmap about to fail) */
	SNAP_SEV_COUNT
};

/* "info", "warning", "error". */
const char *snap_severity_name(enum snap_severity sev);

/* Thresholds of the rules; README and `mapsnap check --help` list the
 * defaults that snap_check_opts_init() sets. Sizes are kB. */
#define SNAP_CHECK_OPTS_VERSION 1

typedef struct snap_check_opts {
	unsigned int version;     /* SNAP_CHECK_OPTS_VERSION */
	int64_t heap_min_kb;      /* heap-fragmentation: a heap of this Size... */
	double heap_ratio;        /* ...or more, at least this many times its Rss */
	size_t small_maps;        /* ...or this many small anonymous regions */
	int64_t small_max_kb;     /* what small means: Size at most this */
	double dirty_ratio;       /* private-dirty-ratio: Private_Dirty / Size over */
	int64_t dirty_min_kb;     /* ...in regions of this Size or more */
	double swap_ratio;        /* swap-pressure: Swap / (Rss + Swap) over */
	int64_t swap_min_kb;      /* ...with at least this much Swap */
	int64_t large_anon_kb;    /* large-anonymous: Size at least this */
	size_t thread_stacks_max; /* thread-stacks: a warning above this count */
	double map_count_ratio;   /* map-count: regions over this share of... */
	long max_map_count;       /* ...vm.max_map_count; <= 0 unknown (skipped) */
} snap_check_opts;

/* Sets opts to the defaults of that version. SNAP_EINVAL, opts
 * untouched, for a version this library does not know. */
int snap_check_opts_init(snap_check_opts *opts, unsigned int version);

/* One thing that looks wrong. */
typedef struct snap_finding {
	const char *rule;          /* "deleted-mapping" */
	enum snap_severity severity;
	const char *message;       /* what was found, one sentence */
	const char *advice;        /* what to do about it, one sentence */
	const uint32_t *regions;   /* indexes into snap->regions, ascending */
	size_t nregions;
	int64_t size_kb;           /* Size of those regions */
} snap_finding;

typedef struct snap_check snap_check;

/* A rule: appends its findings to c; returns how many, or SNAP_ENOMEM. */
typedef struct snap_rule {
	const char *name;
	const char *about; /* one line for --help */
	int (*run)(snap_check *c);
} snap_rule;

struct snap_check {
	const snap_snapshot *snap; /* borrowed: must outlive the check */
	snap_identity *id;         /* owned: kinds, images, duplicates */
	snap_check_opts opts;
	snap_finding *findings;    /* most severe first, then in rule order */
	size_t nfindings;
	size_t by_severity[SNAP_SEV_COUNT];
	/* Rules that ran but could not judge, and why ("map-count:
	 * vm.max_map_count is unknown"). */
	const char **skipped;
	size_t nskipped;
	/* The library's: storage of the arrays above; opaque. */
	struct snap_check_internal *internal;
};

/* Every rule, in report order. */
const snap_rule *snap_check_rules(size_t *count);
/* The rule called name, or NULL. */
const snap_rule *snap_check_rule(const char *name);

/* Classifies snap; runs no rule yet. opts may be NULL (defaults).
 * SNAP_EINVAL for options of another version, SNAP_ENOMEM. */
int snap_check_new(snap_check **out, const snap_snapshot *snap,
		   const snap_check_opts *opts, snap_error *err);
/* Frees c, its findings and its identity (not the snapshot); accepts NULL. */
void snap_check_free(snap_check *c);
/* Runs one rule (one of snap_check_rules() or the caller's own), then
 * orders all findings (most severe first, stable). Returns the number of
 * findings it added, or the negative code of the rule (err names it) or
 * SNAP_ENOMEM. */
int snap_check_run(snap_check *c, const snap_rule *rule, snap_error *err);
/* Runs every rule; returns the number of findings or a negative code. */
int snap_check_run_all(snap_check *c, snap_error *err);

/* ---- 4d. series and trends (series.c) ------------------------------------ */

/* A duration: "500ms", "2s", "1.5m", "1h", "1d" (a bare number is
 * seconds) into milliseconds, > 0. SNAP_EINVAL when malformed, err
 * quoting the text and saying why ("bad duration '5q': expected a number
 * and a unit ms, s, m, h, d"); the parsers below say the same way. */
int snap_parse_duration(const char *text, int64_t *ms, snap_error *err);
/* A rate: "1M/min", "+64K/s", "2G/h", "10/min" into an amount per minute:
 * kB when sizes (the amount is a size as snap_parse_size reads it), else
 * a count. A sign is accepted. SNAP_EINVAL when malformed. */
int snap_parse_rate(const char *text, bool sizes, double *per_min, snap_error *err);
/* "2026-11-22T02:05:53.123Z" (captured_at) as seconds since the epoch;
 * SNAP_EINVAL when it is not that form. */
int snap_parse_utc(const char *text, double *seconds, snap_error *err);

/* The Theil-Sen slope of the points (t[i], y[i]): the median of the
 * slopes of every pair with distinct t (an evenly spread sample of
 * 200,000 pairs for longer series), robust to a few wild points. 0 with
 * fewer than two distinct t. Units: y per unit of t. 0 or SNAP_ENOMEM. */
int snap_theil_sen(double *slope, const double *t, const double *y, size_t n,
		   snap_error *err);

/* How one series of values moved. Values below 0 are absent points
 * (the region did not exist then) and are skipped. Slopes per minute. */
typedef struct snap_growth {
	size_t points;      /* values present */
	double slope;       /* Theil-Sen over all points */
	double late_slope;  /* Theil-Sen over the later half of the points */
	int64_t first, last, min, max;
	size_t grew;        /* steps (consecutive present points) that rose */
	size_t shrank;      /* steps that fell */
	size_t flat_tail;   /* steps since the last rise (all when none) */
} snap_growth;

/* Computes g from values v[n] at times t[n] (seconds, ascending); 0 or
 * SNAP_ENOMEM. */
int snap_growth_compute(snap_growth *g, const double *t, const int64_t *v,
			size_t n, snap_error *err);

/* What a series looks like. Only STEADY is a leak suspect. */
enum snap_trend_verdict {
	SNAP_TREND_FLAT,      /* never changed */
	SNAP_TREND_STEADY,    /* keeps growing: a leak suspect */
	SNAP_TREND_PLATEAU,   /* grew, then stopped (or slowed down) */
	SNAP_TREND_UNSTEADY,  /* goes up and down */
	SNAP_TREND_SLOW,      /* grows, but slower than the threshold */
	SNAP_TREND_SHRINKING, /* falls */
	SNAP_TREND_SHORT,     /* changed, but too few points to tell */
	SNAP_TREND_GONE,      /* not in the last snapshot */
	SNAP_TREND_VERDICTS
};

/* "flat", "steady", "plateau", "unsteady", "slow", "shrinking", "short",
 * "gone". */
const char *snap_trend_verdict_name(enum snap_trend_verdict v);

#define SNAP_TREND_OPTS_VERSION 1

typedef struct snap_trend_opts {
	unsigned int version;      /* SNAP_TREND_OPTS_VERSION */
	enum snap_measure measure; /* flags suspects: Rss, Private_Dirty or Size */
	double min_slope_kb;       /* kB per minute a suspect grows at least */
	double steady_fraction;    /* share of steps that must not fall */
	size_t min_points;         /* fewer points are SHORT */
	enum snap_match_mode match;
} snap_trend_opts;

/* Sets opts to the defaults of that version: Rss, 16 kB/min, 0.9, 5
 * points, automatic matching. SNAP_EINVAL, opts untouched, for a version
 * this library does not know. */
int snap_trend_opts_init(snap_trend_opts *opts, unsigned int version);

/* The verdict on g (min_slope per minute), the first rule that holds:
 *   FLAT      max == min
 *   SHORT     fewer than min_points points
 *   SHRINKING under steady_fraction of the steps held or rose, and a
 *             negative slope; or last < first
 *   UNSTEADY  under steady_fraction of the steps held or rose; or
 *             last == first
 *   PLATEAU   the growth stopped: the late slope is <= 0 or under half
 *             the slope, or no rise for more steps than max(2, 3 x the
 *             mean steps between rises)
 *   SLOW      slope below min_slope
 *   STEADY    otherwise: a leak suspect */
enum snap_trend_verdict snap_growth_judge(const snap_growth *g, double min_slope,
					  const snap_trend_opts *opts);

/* The measures a trend follows: Rss, Private_Dirty, Size (index 0..2). */
#define SNAP_TREND_MEASURES 3
/* The measure at index (0 .. SNAP_TREND_MEASURES - 1). */
enum snap_measure snap_trend_measure(size_t index);
/* The index of m among them, or -1. */
int snap_trend_measure_index(enum snap_measure m);

/* One memory object followed through the series: a region matched from
 * snapshot to snapshot (regions that merged sum their histories), or,
 * with born, every region of one kind and identity that appeared after
 * the first snapshot (four new 64 MiB mmaps grow as one group: 0, 64M,
 * 128M, ...), judged like a region. */
typedef struct snap_trend_region {
	enum snap_kind kind;
	bool born;             /* a group of regions born during the series */
	size_t members;        /* born: how many regions were born into it */
	const snap_range *spans; /* born: its members' spans in the last snapshot */
	size_t nspans;
	const char *path;      /* verbatim, borrowed from a snapshot; "" anonymous */
	size_t path_len;
	char perms[5];         /* of its largest region */
	uint64_t start, end;   /* span of its regions in the last snapshot it is in */
	size_t nregions;       /* how many regions there */
	size_t first, last;    /* the snapshots it is in: first .. last */
	snap_growth growth[SNAP_TREND_MEASURES];
	const int64_t *values[SNAP_TREND_MEASURES]; /* kB per snapshot; -1 absent */
	enum snap_trend_verdict verdict; /* of opts.measure */
} snap_trend_region;

/* A whole-process or per-kind series. */
typedef struct snap_trend_series {
	snap_growth growth;
	const int64_t *values; /* per snapshot */
	enum snap_trend_verdict verdict;
} snap_trend_series;

typedef struct snap_trend {
	const snap_snapshot **snaps; /* by captured_at; borrowed snapshots */
	size_t nsnaps;
	const double *seconds;       /* per snapshot, since the first */
	snap_trend_opts opts;
	size_t address_steps;        /* steps matched by address, the rest by identity */
	/* Suspects first (steepest first), then the others that changed (by
	 * max - min of opts.measure, then |slope|), then the FLAT ones. */
	snap_trend_region *regions;
	size_t nregions;
	size_t suspects;             /* regions[0 .. suspects) are STEADY */
	size_t flat;                 /* regions that never changed */
	snap_trend_series total[SNAP_TREND_MEASURES];
	snap_trend_series region_count, thread_stacks;
	snap_trend_series kind[SNAP_KIND_COUNT][SNAP_TREND_MEASURES];
	bool kind_seen[SNAP_KIND_COUNT];
	/* The library's: storage of the arrays above; opaque. */
	struct snap_trend_internal *internal;
} snap_trend;

/* Orders snaps by captured_at (equal times keep their order), matches
 * regions across them as snap_diff_match does step by step, and judges
 * every series. Needs two or more snapshots, each with captured_at
 * (SNAP_EINVAL otherwise); the snapshots must outlive the trend. */
int snap_trend_new(snap_trend **out, snap_snapshot *const *snaps, size_t n,
		   const snap_trend_opts *opts, snap_error *err);
/* Frees trend (not the snapshots); accepts NULL. */
void snap_trend_free(snap_trend *trend);

/* The CI gate for a trend. Trend terms: "leak-suspects OP N" and
 * "[KIND.]METRIC.slope OP RATE" (METRIC rss, dirty, size, or the counts
 * regions and thread-stacks without KIND; RATE as snap_parse_rate, e.g.
 * "rss.slope>+1M/min", "heap.rss.slope>=64K/min", "regions.slope>0/min").
 * Any other expression is a diff gate (snap_gate_add) checked against
 * the diff of the first and last snapshots. */
typedef struct snap_trend_gate snap_trend_gate;

/* An empty trend gate; free accepts NULL. */
int snap_trend_gate_new(snap_trend_gate **out, snap_error *err);
void snap_trend_gate_free(snap_trend_gate *gate);
/* Parses expr and adds it; a bad one gives SNAP_EINVAL with err naming it. */
int snap_trend_gate_add(snap_trend_gate *gate, const char *expr, snap_error *err);
/* How many expressions it holds. */
size_t snap_trend_gate_size(const snap_trend_gate *gate);
/* Evaluates every expression; returns the number of violations or a
 * negative code (err says why). */
int snap_trend_gate_check(snap_trend_gate *gate, const snap_trend *trend,
			  snap_error *err);
/* The violations of the last check, in expression order (borrowed). */
const snap_violation *snap_trend_gate_violations(const snap_trend_gate *gate,
						 size_t *count);

/* ========================================================================= */
/* 5. utilities                                                              */
/* ========================================================================= */

/* ---- 5a. numbers and text for the front ends (util.c) -------------------- */

/* v in decimal / lowercase hex zero-padded to min_digits (at most 32),
 * without a NUL; returns the number of bytes written (at most 32). The
 * fast paths of every writer use them instead of printf. */
size_t snap_format_dec(char *out, uint64_t v);
size_t snap_format_hex(char *out, uint64_t v, size_t min_digits);

/* kB in human units: "512K", "12.3M", "1.50G" (one decimal below 10K when
 * fractional); with sign, "+512K" / "-1.0M". */
void snap_format_kb(char *buf, size_t size, double kb, bool sign);

/* The length of the valid UTF-8 sequence at s (1 for ASCII), or 0 when
 * the bytes there are not valid UTF-8 (overlong, surrogate, cut off). */
size_t snap_utf8_seq(const unsigned char *s, size_t avail);
/* True when s[0..len) is valid UTF-8. */
bool snap_utf8_valid(const char *s, size_t len);

/* Parses a size such as "4096", "4K", "10M", "1.5G" (binary units) into
 * bytes; a leading '+' or '-' is accepted when allow_sign. SNAP_EINVAL
 * when malformed, err quoting the text and saying why. */
int snap_parse_size(const char *text, bool allow_sign, int64_t *bytes, snap_error *err);

#endif
