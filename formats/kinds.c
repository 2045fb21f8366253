/* How the front ends group and draw region kinds: the seven --kind groups
 * of show, summary and report, and the report's colour of each kind.
 * One row per kind, so a kind added to libsnap fails the build here until
 * it has a group and a colour. */
#include "formats.h"

static const struct {
	const char *group, *color;
} kind_looks[] = {
	[SNAP_KIND_EXE] = { "lib", "#3b6fb6" },
	[SNAP_KIND_LIB] = { "lib", "#6c9bd2" },
	[SNAP_KIND_FILE] = { "file", "#59a14f" },
	[SNAP_KIND_HEAP] = { "heap", "#e15759" },
	[SNAP_KIND_STACK] = { "stack", "#f28e2b" },
	[SNAP_KIND_THREAD_STACK] = { "stack", "#edc948" },
	[SNAP_KIND_ARENA] = { "anon", "#b07aa1" },
	[SNAP_KIND_ANON] = { "anon", "#9c755f" },
	[SNAP_KIND_ANON_NAMED] = { "anon", "#c49c94" },
	[SNAP_KIND_SHMEM] = { "shmem", "#76b7b2" },
	[SNAP_KIND_SPECIAL] = { "special", "#bab0ac" },
	[SNAP_KIND_GUARD] = { "anon", "#7f7f7f" },
	[SNAP_KIND_RESERVED] = { "anon", "#ff9da7" },
};

_Static_assert(sizeof(kind_looks) / sizeof(*kind_looks) == SNAP_KIND_COUNT,
	       "every kind needs a --kind group and a report colour");

const char *fmt_kind_group(enum snap_kind kind)
{
	return (unsigned)kind < SNAP_KIND_COUNT ? kind_looks[kind].group : "?";
}

const char *fmt_kind_color(enum snap_kind kind)
{
	return (unsigned)kind < SNAP_KIND_COUNT ? kind_looks[kind].color : "#000000";
}
