/* mapsnap capture --all: every process of the host. capture.c hands its
 * arguments over when they ask for it. */
#ifndef MAPSNAP_CMD_CAPTURE_ALL_H
#define MAPSNAP_CMD_CAPTURE_ALL_H

#include <stdbool.h>

/* True when argv (capture's, argv[0] the subcommand) names --all before
 * any "--". */
bool capture_all_wanted(int argc, char **argv);

/* mapsnap capture --all -o DIR/|FILE|- [--every DURATION [--count N |
 * --for DURATION]] [--redact] [--force] */
int cmd_capture_all(int argc, char **argv);

#endif
