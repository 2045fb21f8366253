/* Region filters shared by show and summary: --kind, --min-size,
 * --max-size and --path, parsed the same way and meaning the same. */
#ifndef MAPSNAP_CMD_FILTERS_H
#define MAPSNAP_CMD_FILTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "snap.h"

typedef struct cli_filter {
	bool kinds[SNAP_KIND_COUNT];
	bool has_kinds;
	int64_t min_size, max_size; /* bytes */
	bool has_min, has_max;
	const char *path_glob;
} cli_filter;

/* Parses the value of one filter option ("--kind", "--min-size",
 * "--max-size", "--path"). A bad value prints "mapsnap: COMMAND: ..."
 * and returns EXIT_ERROR; else EXIT_OK. */
int filter_option(cli_filter *f, const char *command, const char *opt,
		  const char *arg);
/* True when some filter is set. */
bool filter_active(const cli_filter *f);
/* True when r passes every filter set; kind is r's classified kind
 * (ignored unless --kind was given). */
bool filter_region(const cli_filter *f, const snap_region *r, enum snap_kind kind);

#endif
