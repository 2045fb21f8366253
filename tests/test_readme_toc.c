/* README.md's table of contents stays true: each of its links leads to a
 * heading (GitHub's anchors: lower case, punctuation dropped, spaces to
 * hyphens), and each top-level section (##) is listed. Headings inside
 * fenced code blocks are examples, not sections. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_HEADINGS 256

struct heading {
	int level;
	char anchor[160];
};

static void github_anchor(const char *title, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)title[i];
		if (isalnum(c) || c == '-' || c == '_')
			out[n++] = (char)tolower(c);
		else if (c == ' ')
			out[n++] = '-';
	}
	out[n] = '\0';
}

static size_t headings(const char *text, struct heading *out)
{
	size_t n = 0;
	bool fenced = false;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (strncmp(line, "```", 3) == 0)
			fenced = !fenced;
		int level = 0;
		while (!fenced && line[level] == '#')
			level++;
		if (level >= 2 && line[level] == ' ') {
			assert_true(n < MAX_HEADINGS);
			out[n].level = level;
			github_anchor(line + level + 1, (size_t)(end - line - level - 1),
				      out[n].anchor, sizeof(out[n].anchor));
			n++;
		}
		line = *end ? end + 1 : end;
	}
	return n;
}

static void contents_lead_to_headings(void **state)
{
	(void)state;
	char *text = read_file("README.md", NULL);
	assert_non_null(text);
	static struct heading h[MAX_HEADINGS];
	size_t nh = headings(text, h);
	const char *toc = strstr(text, "\n## Contents\n");
	assert_non_null(toc);
	const char *toc_end = strstr(toc + 1, "\n## ");
	assert_non_null(toc_end);
	size_t links = 0;
	for (const char *p = toc; (p = strstr(p, "](#")) && p < toc_end; links++) {
		p += 3;
		size_t len = strcspn(p, ")");
		bool found = false;
		for (size_t i = 0; i < nh && !found; i++)
			found = strlen(h[i].anchor) == len && strncmp(h[i].anchor, p, len) == 0;
		if (!found)
			fail_msg("README.md: the contents link #%.*s leads to no heading",
				 (int)len, p);
	}
	assert_true(links >= 10);
	for (size_t i = 0; i < nh; i++) {
		char link[170];
		snprintf(link, sizeof(link), "](#%s)", h[i].anchor);
		if (h[i].level == 2 && strcmp(h[i].anchor, "contents") != 0 &&
		    !(strstr(toc, link) && strstr(toc, link) < toc_end))
			fail_msg("README.md: section #%s is not in the contents", h[i].anchor);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(contents_lead_to_headings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
