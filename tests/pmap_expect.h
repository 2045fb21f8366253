/* Expected pmap output, adjusted for where mapsnap deliberately follows
 * later procps-ng instead of 4.0.2. Shared by test_pmap and test_show. */
#ifndef MAPSNAP_TEST_PMAP_EXPECT_H
#define MAPSNAP_TEST_PMAP_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

/* pmap 4.0.2 -X/-XX cut a mapping name to 127 bytes before taking its
 * file name, so a long path shows a directory; mapsnap prints the real
 * name. Rewrites pmap's text the same way for each of the paths (the
 * name column of the mappings); returns a malloc'd string. */
char *pmap_fix_long_names(const char *pmap_text, const char *const *paths,
			  size_t npaths, bool show_path);

/* Overwrites the k-th blank-separated word of the line at `line` (up to
 * its newline), with the blanks that right-justify it, by '#': the column
 * is masked, not its width. */
void mask_column(char *line, size_t k);

/* Replaces every occurrence of from by to; returns a malloc'd string. */
char *replace_all(const char *text, const char *from, const char *to);

#endif
