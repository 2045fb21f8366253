/* mapsnap rank: the rows behind the table. Each process read (live or
 * from a snapshot) becomes one entry: its totals, by kind when its
 * regions were read, and what it maps of each library. Entries are then
 * grouped (process, user, comm, library) and sorted into a fmt_rank. */
#ifndef MAPSNAP_CMD_RANK_H
#define MAPSNAP_CMD_RANK_H

#include "formats.h"
#include "snap.h"

typedef struct rank_entries rank_entries;

int rank_entries_new(rank_entries **out, bool libs);
void rank_entries_free(rank_entries *e);

/* Adds one process. Its values come from its regions when it has any
 * (then by kind too, and its libraries when libs), else from its
 * smaps_rollup. resolve_user: look the uid up in this host's passwd.
 * Returns 0, 1 when the snapshot has no memory to rank (a kernel
 * thread), or SNAP_ENOMEM. */
int rank_entries_add(rank_entries *e, const snap_snapshot *snap, bool resolve_user);
size_t rank_entries_count(const rank_entries *e);
/* Moves every entry of from into to (from is left empty). */
int rank_entries_merge(rank_entries *to, rank_entries *from);

/* Builds the rows: one per process (the latest snapshot of each process
 * when several were given), user, comm or library, sorted by
 * rank->sort; rank->by and rank->sort must be set. The rows stay owned
 * by e. */
int rank_entries_table(rank_entries *e, fmt_rank *rank);

#endif
