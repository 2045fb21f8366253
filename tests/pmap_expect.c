#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmap_expect.h"

char *replace_all(const char *text, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), count = 0;
	for (const char *p = text; (p = strstr(p, from)); p += nf)
		count++;
	char *out = malloc(strlen(text) + count * nt + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = text, *hit;; p = hit + nf) {
		hit = strstr(p, from);
		size_t keep = hit ? (size_t)(hit - p) : strlen(p);
		memcpy(o, p, keep);
		o += keep;
		if (!hit)
			break;
		memcpy(o, to, nt);
		o += nt;
	}
	*o = '\0';
	return out;
}

void mask_column(char *line, size_t k)
{
	size_t word = 0;
	char *p = line, *col = line;
	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		bool hit = word++ == k;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		if (hit)
			memset(col, '#', (size_t)(p - col));
		col = p + 1;
	}
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

char *pmap_fix_long_names(const char *pmap_text, const char *const *paths,
			  size_t npaths, bool show_path)
{
	char *text = strdup(pmap_text);
	for (size_t i = 0; text && i < npaths; i++) {
		if (strlen(paths[i]) <= 127)
			continue;
		char cut[128], *from = NULL, *to = NULL;
		memcpy(cut, paths[i], 127);
		cut[127] = '\0';
		if (asprintf(&from, " %s\n", show_path ? cut : file_name(cut)) > 0 &&
		    asprintf(&to, " %s\n", show_path ? paths[i] : file_name(paths[i])) > 0) {
			char *fixed = replace_all(text, from, to);
			free(text);
			text = fixed;
		}
		free(from);
		free(to);
	}
	return text;
}
