/* What every diff must satisfy, checked by the unit tests and by the diff
 * fuzz harness. With min_change 0 (every movement listed):
 *   - no region is in two changes;
 *   - per kind, the changes of that kind add up to the kind's delta in the
 *     totals, for every counter and the region count, so a table never
 *     contradicts the totals and the gate reads the numbers printed. */
#ifndef MAPSNAP_DIFF_INVARIANTS_H
#define MAPSNAP_DIFF_INVARIANTS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

static inline bool diff_regions_once(const snap_diff *d, char *why, size_t size)
{
	size_t n[2] = { d->old->nregions, d->new->nregions };
	unsigned char *seen[2] = { calloc(n[0] + 1, 1), calloc(n[1] + 1, 1) };
	bool ok = seen[0] && seen[1];
	for (size_t k = 0; ok && k < d->nchanges; k++) {
		const snap_side *sides[2] = { &d->changes[k].old, &d->changes[k].new };
		for (int s = 0; ok && s < 2; s++)
			for (size_t r = 0; ok && r < sides[s]->nregions; r++) {
				uint32_t i = sides[s]->regions[r];
				ok = i < n[s] && !seen[s][i]++;
				if (!ok)
					snprintf(why, size, "%s region %u in two changes",
						 s ? "new" : "old", i);
			}
	}
	free(seen[0]);
	free(seen[1]);
	return ok;
}

static inline bool diff_adds_up(const snap_diff *d, char *why, size_t size)
{
	snap_sums sum[SNAP_KIND_COUNT];
	memset(sum, 0, sizeof(sum));
	for (size_t k = 0; k < d->nchanges; k++) {
		const snap_change *c = &d->changes[k];
		for (int m = 0; m < SNAP_M_COUNT; m++)
			sum[c->kind].kb[m] += c->delta.kb[m];
		sum[c->kind].regions += c->delta.regions;
	}
	for (int k = 0; k < SNAP_KIND_COUNT; k++) {
		for (int m = 0; m <= SNAP_M_COUNT; m++) {
			int64_t got = m < SNAP_M_COUNT ? sum[k].kb[m] : sum[k].regions;
			int64_t want = m < SNAP_M_COUNT
				? d->kind_new[k].kb[m] - d->kind_old[k].kb[m]
				: d->kind_new[k].regions - d->kind_old[k].regions;
			if (got != want) {
				snprintf(why, size, "%s %s: changes add up to %lld, totals say %lld",
					 snap_kind_name(k),
					 m < SNAP_M_COUNT ? snap_measure_name(m) : "regions",
					 (long long)got, (long long)want);
				return false;
			}
		}
	}
	return true;
}

/* Both invariants; why says which broke. d must have min_change 0. */
static inline bool diff_invariants_hold(const snap_diff *d, char *why, size_t size)
{
	return diff_regions_once(d, why, size) && diff_adds_up(d, why, size);
}

#endif
