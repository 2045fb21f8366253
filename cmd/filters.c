/* Region filters shared by show and summary. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "filters.h"


/* The --kind names are groups of libsnap kinds (fmt_kind_group), so that
 * the seven of them cover every region exactly once. Any other kind name
 * (thread-stack, arena, exe, reserved, ...) selects just that kind. */
static bool add_group(cli_filter *f, const char *word)
{
	bool found = false;
	for (int k = 0; k < SNAP_KIND_COUNT; k++)
		if (strcmp(word, fmt_kind_group((enum snap_kind)k)) == 0)
			found = f->kinds[k] = true;
	return found;
}

static int add_kind(cli_filter *f, const char *command, const char *name,
		    size_t len)
{
	char word[32];
	if (len == 0 || len >= sizeof(word))
		return cli_error("%s: bad --kind list", command);
	memcpy(word, name, len);
	word[len] = '\0';
	if (add_group(f, word))
		return EXIT_OK;
	int kind = snap_kind_parse(word);
	if (kind < 0)
		return cli_error("%s: unknown kind '%s' (see 'mapsnap %s --help')",
				 command, word, command);
	f->kinds[kind] = true;
	return EXIT_OK;
}

static int parse_kinds(cli_filter *f, const char *command, const char *arg)
{
	f->has_kinds = true;
	for (const char *p = arg;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (add_kind(f, command, p, len) != EXIT_OK)
			return EXIT_ERROR;
		if (!comma)
			return EXIT_OK;
		p = comma + 1;
	}
}

static int parse_size(int64_t *out, bool *has, const char *command,
		      const char *opt, const char *arg)
{
	snap_error err;
	if (snap_parse_size(arg, false, out, &err) < 0)
		return cli_error("%s: %s: %s", command, opt, err.message);
	*has = true;
	return EXIT_OK;
}

int filter_option(cli_filter *f, const char *command, const char *opt,
		  const char *arg)
{
	if (strcmp(opt, "--kind") == 0)
		return parse_kinds(f, command, arg);
	if (strcmp(opt, "--min-size") == 0)
		return parse_size(&f->min_size, &f->has_min, command, opt, arg);
	if (strcmp(opt, "--max-size") == 0)
		return parse_size(&f->max_size, &f->has_max, command, opt, arg);
	f->path_glob = arg;
	return EXIT_OK;
}

bool filter_active(const cli_filter *f)
{
	return f->has_kinds || f->has_min || f->has_max || f->path_glob;
}

/* The glob matches the path, the path without " (deleted)", or (for a
 * glob without '/') the file name. */
static bool path_matches(const snap_region *r, const char *glob)
{
	if (r->path_len == 0)
		return false;
	char *path = strndup(r->path, snap_path_undeleted(r, NULL));
	if (!path)
		return false;
	const char *base = strrchr(path, '/');
	bool match = fnmatch(glob, r->path, 0) == 0 || fnmatch(glob, path, 0) == 0 ||
		     (!strchr(glob, '/') && base && fnmatch(glob, base + 1, 0) == 0);
	free(path);
	return match;
}

bool filter_region(const cli_filter *f, const snap_region *r, enum snap_kind kind)
{
	uint64_t size = r->end - r->start;
	if (f->has_kinds && !f->kinds[kind])
		return false;
	if (f->has_min && size < (uint64_t)f->min_size)
		return false;
	if (f->has_max && size > (uint64_t)f->max_size)
		return false;
	return !f->path_glob || path_matches(r, f->path_glob);
}
