/* What the kernel says, checked against what mapsnap concludes: the
 * assertions shared by test_realworld (Chromium, Python, their redacted
 * snapshots) and test_layouts (helper workloads). Each one fails the
 * calling test with a message naming the region and the fact. */
#ifndef MAPSNAP_TEST_TRUTH_H
#define MAPSNAP_TEST_TRUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "snap.h"

/* glibc keeps the stacks of exited threads for reuse up to this much
 * (stack and guard together); nptl's stack_cache_maxsize. */
#define GLIBC_STACK_CACHE (40ull << 20)
#define MIB (1ull << 20)

/* The region holding addr, or -1. */
long region_at(const snap_snapshot *s, uint64_t addr);

/* The layout facts a snapshot carries about itself, against its
 * interpretation:
 *  - thread stacks: each has the evidence it claims (a stack pointer
 *    inside, or VmFlags nh on it and on the guard below); those found by
 *    stack pointer are at most Threads - 1; any beyond the threads whose
 *    stack pointer was not read are MAP_STACK ones whose Size + guard
 *    fit glibc's cache; a single-threaded process has no other; the bare
 *    guard pattern only where the snapshot cannot show MAP_STACK; every
 *    stack pointer read lies in a thread-stack region;
 *  - no guard over 1 MiB, small guards border accessible memory, stack
 *    guards lie right below a thread stack; a small no-access region
 *    bordering accessible memory is never reserved;
 *  - library loads: each private offset-0 mapping of a shared object
 *    (or of the program) starts exactly one image, and a file loaded once
 *    has all its private mappings in it; the program has one image per
 *    load; a library is duplicated exactly when a file has two such
 *    mappings or two such files share a library name;
 *  - names: [heap] (not executable) is heap, [stack] stack, a read-only
 *    shared mapping of an ordinary file is file.
 * label names the process in failure messages. */
void assert_layout_truth(const snap_snapshot *s, const snap_identity *id,
			 const char *label);

/* Per kind, the changes of a diff built with min_change_kb 0 add up to
 * the kind's delta in the totals, for every measure and the region
 * count, and those totals are the snapshots' regions added up; every
 * change holds regions of its own kind only; no region is in two
 * changes; matched by address, a region in no change is unchanged; the
 * ranges a change calls unmapped, mapped or re-protected are what its
 * regions on both sides show. */
void assert_diff_adds_up(const snap_diff *d, const char *label);

/* The same on `mapsnap diff --min-change 0 --format json` output. */
void assert_diff_json_adds_up(json_t *diff, const char *label);

/* A kind is no leak suspect, a region or a group of regions is: fails
 * when text names one as "all 210 thread-stack regions". */
void assert_no_all_regions(const char *text, const char *label);

/* A number member of a JSON counters object (0 when absent). */
int64_t json_counter(json_t *obj, const char *name);
/* A hex address member ("7f12...") as a number; fails when absent. */
uint64_t json_hex(json_t *obj, const char *name);
/* Parses a command's stdout as one JSON document; fails the test with
 * what came out otherwise. */
json_t *json_parse_output(const char *out, const char *what);

#endif
