/* Private helpers shared by libsnap's modules. Not installed. */
#ifndef SNAP_INTERNAL_H
#define SNAP_INTERNAL_H

#include "snap.h"

/* A bump allocator: many small strings and arrays freed all at once. */
snap_arena *arena_new(void);
void arena_free(snap_arena *a);
void *arena_alloc(snap_arena *a, size_t size); /* zeroed, 8-aligned */
char *arena_strndup(snap_arena *a, const char *s, size_t n);
/* Forgets everything allocated, keeping the first block for reuse. */
void arena_reset(snap_arena *a);

/* Reads a whole (proc) file into a malloc'd NUL-terminated buffer. */
int read_file_all(const char *path, char **out, size_t *len);

/* True when token is one of the space-separated words of list. */
bool has_token(const char *list, const char *token);

#endif
