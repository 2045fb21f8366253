/* mapsnap watch: what the view follows from refresh to refresh. Every
 * memory object is a track: the regions the diff's matching
 * (snap_diff_match) says are one object, summed, with its value at the
 * baseline, at the last refresh and (once it changed) a short history. */
#ifndef MAPSNAP_CMD_WATCH_H
#define MAPSNAP_CMD_WATCH_H

#include <pthread.h>

#include "filters.h"
#include "formats.h"
#include "snap.h"

/* Refreshes of history kept for the sparklines. */
#define WATCH_HISTORY 16
/* Refreshes a vanished object stays listed. */
#define WATCH_GONE_KEEP 3

/* What a watch can sort by: four measures, or the growth of Rss. */
enum watch_sort { WATCH_SORT_RSS, WATCH_SORT_PSS, WATCH_SORT_DIRTY, WATCH_SORT_SWAP,
		  WATCH_SORT_GROWTH, WATCH_SORTS };

/* "rss", "pss", "dirty", "swap", "growth". */
const char *watch_sort_name(enum watch_sort s);
int watch_sort_parse(const char *word);

typedef struct watch_model watch_model;

/* filter may be NULL (every region); it must outlive the model. */
int watch_model_new(watch_model **out, const cli_filter *filter);
void watch_model_free(watch_model *m);

/* Takes snap (a new capture of the process; owned by the model from now
 * on, also on failure), matches it against the last one and updates
 * every track. The first one is the baseline. */
int watch_model_update(watch_model *m, snap_snapshot *snap, snap_error *err);
/* The latest capture becomes the baseline: growth starts again from 0. */
void watch_model_reset(watch_model *m);
/* The baseline and the latest capture (borrowed). */
const snap_snapshot *watch_model_base(const watch_model *m);
const snap_snapshot *watch_model_latest(const watch_model *m);
unsigned long watch_model_refreshes(const watch_model *m);

/* Fills the frame's totals, kinds, the first top rows by sort and the
 * vanished ones. The rows stay valid until the next update or frame. */
int watch_model_frame(watch_model *m, fmt_watch_frame *fr, enum watch_sort sort,
		      size_t top);

/* Captures of pid every interval on their own thread
 * (watch_capture.c); the first is due one interval after the start.
 * count: how many to take at most (0: no limit). */
typedef struct watch_capturer watch_capturer;
int watch_capturer_start(watch_capturer **out, long pid, int64_t interval_ms,
			 unsigned long count);
/* Readable when a capture is waiting. */
int watch_capturer_fd(const watch_capturer *c);
/* The waiting capture: 0 with *snap (the caller's now), a negative code
 * with err (no capture follows), or 1 when none is waiting. */
int watch_capturer_take(watch_capturer *c, snap_snapshot **snap, snap_error *err);
/* While paused nothing is captured; a capture overdue on resuming starts
 * at once. */
void watch_capturer_pause(watch_capturer *c, bool paused);
/* Ends the thread (after the capture under way) and frees c; NULL is fine. */
void watch_capturer_stop(watch_capturer *c);

/* The ncurses screen (watch_screen.c). */
int watch_screen_start(void);
/* Restores the terminal; safe to call twice, and from atexit. */
void watch_screen_end(void);
/* The next key, or -1 when none is waiting. KEY_RESIZE comes as 'R'. */
int watch_screen_key(void);
/* Draws the frame's text and a status line of keys and message. */
void watch_screen_draw(const char *text, size_t len, const char *status);
/* Lines the screen has. */
int watch_screen_lines(void);

#endif
