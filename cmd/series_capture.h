/* mapsnap capture --every: a series of snapshots appended to one file.
 * capture.c hands its arguments over when they ask for a series. */
#ifndef MAPSNAP_CMD_SERIES_CAPTURE_H
#define MAPSNAP_CMD_SERIES_CAPTURE_H

#include <stdbool.h>

/* True when argv (capture's, argv[0] the subcommand) names --every,
 * --count or --for before any "--". */
bool series_capture_wanted(int argc, char **argv);

/* mapsnap capture PID --every DURATION [--count N | --for DURATION] -o FILE */
int cmd_capture_series(int argc, char **argv);

#endif
