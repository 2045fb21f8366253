/* `mapsnap show --explain`: one row per region saying what mapsnap takes
 * it for and why (the evidence snap_identity kept), then how the thread
 * stacks were found. Not a pmap view: pmap has nothing like it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "render.h"

/* How many load instances each image's path has: images of one path
 * carry ordinals 0, 1, ... (snap_image.ordinal), so the count is the
 * largest ordinal + 1 among them. */
struct loads {
	const snap_identity *id;
	uint32_t *of_image; /* per image */
};

static int cmp_image_path(const void *a, const void *b, void *ctx)
{
	const snap_image *images = ctx;
	const snap_image *x = &images[*(const size_t *)a], *y = &images[*(const size_t *)b];
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(x->path, y->path, n);
	return c ? c : (x->path_len > y->path_len) - (x->path_len < y->path_len);
}

static bool same_path(const snap_image *x, const snap_image *y)
{
	return x->path_len == y->path_len && memcmp(x->path, y->path, x->path_len) == 0;
}

static int loads_count(struct loads *L, const snap_identity *id)
{
	size_t n = id->nimages;
	size_t *order = malloc((n + 1) * sizeof(*order));
	L->id = id;
	L->of_image = malloc((n + 1) * sizeof(*L->of_image));
	if (!order || !L->of_image) {
		free(order);
		return SNAP_ENOMEM;
	}
	for (size_t k = 0; k < n; k++)
		order[k] = k;
	qsort_r(order, n, sizeof(*order), cmp_image_path, id->images);
	for (size_t k = 0; k < n;) {
		size_t end = k;
		uint32_t count = 0;
		for (; end < n && same_path(&id->images[order[k]], &id->images[order[end]]); end++)
			if (id->images[order[end]].ordinal + 1 > count)
				count = id->images[order[end]].ordinal + 1;
		for (; k < end; k++)
			L->of_image[order[k]] = count;
	}
	free(order);
	return SNAP_OK;
}

/* ---- one row ---- */

static const char *base_name(const char *path, size_t len, size_t *base_len)
{
	const char *base = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	*base_len = len - (size_t)(base - path);
	return base;
}

/* What the region is part of, before the reason: "libc.so.6, load 1 of
 * 1", "bss of /usr/lib/.../libc.so.6", a file's path, or nothing. */
static void put_what(FILE *f, const struct loads *L, size_t i)
{
	const snap_identity *id = L->id;
	const snap_region *r = &id->snap->regions[i];
	int32_t image = id->image_of[i], owner = id->attached[i];
	if (image >= 0 && id->images[image].kind != SNAP_KIND_FILE) {
		const snap_image *im = &id->images[image];
		size_t len;
		const char *base = base_name(im->path, im->path_len, &len);
		fprintf(f, "%.*s%s, load %" PRIu32 " of %" PRIu32 ": ", (int)len, base,
			im->deleted ? " (deleted)" : "", im->ordinal + 1, L->of_image[image]);
	} else if (owner >= 0) {
		const snap_image *im = &id->images[owner];
		fprintf(f, "bss of %.*s: ", (int)im->path_len, im->path);
	} else if (r->path_len) {
		fprintf(f, "%.*s: ", (int)r->path_len, r->path);
	}
}

struct columns {
	int address; /* width of "start-end" */
};

static void put_row(FILE *f, const struct loads *L, const struct columns *c, size_t i)
{
	const snap_identity *id = L->id;
	const snap_region *r = &id->snap->regions[i];
	char range[40], size[32], rss[32];
	snprintf(range, sizeof(range), "%08" PRIx64 "-%08" PRIx64, r->start, r->end);
	fprintf(f, "%-*s %s %8s %8s  %-12s  ", c->address, range, r->perms,
		fmt_kb(size, sizeof(size), (int64_t)((r->end - r->start) >> 10), false),
		fmt_kb(rss, sizeof(rss), (int64_t)snap_region_get(id->snap, r, "Rss"), false),
		snap_kind_name(id->kinds[i]));
	put_what(f, L, i);
	fprintf(f, "%s\n", snap_evidence_about((enum snap_evidence)id->evidence[i]));
}

/* ---- header and footer ---- */

static void put_header(FILE *f, const struct columns *c)
{
	fprintf(f, "%-*s %-4s %8s %8s  %-12s  %s\n", c->address, "ADDRESS", "PERM", "SIZE",
		"RSS", "KIND", "WHAT AND WHY");
}

static void put_total(FILE *f, const snap_snapshot *snap, const struct columns *c,
		      const size_t *rows, size_t n)
{
	int64_t size = 0, rss = 0;
	int rss_field = snap_field_find(snap, "Rss");
	for (size_t k = 0; k < n; k++) {
		const snap_region *r = &snap->regions[rows[k]];
		size += (int64_t)((r->end - r->start) >> 10);
		rss += rss_field < 0 ? 0 : (int64_t)snap_region_value(r, rss_field);
	}
	char sbuf[32], rbuf[32], label[64];
	snprintf(label, sizeof(label), "total of %zu region%s", n, n == 1 ? "" : "s");
	fprintf(f, "%-*s %8s %8s\n", c->address + 5, label, fmt_kb(sbuf, sizeof(sbuf), size, false),
		fmt_kb(rbuf, sizeof(rbuf), rss, false));
}

static void put_stacks(FILE *f, const snap_identity *id)
{
	const snap_stack_evidence *s = &id->stacks;
	fprintf(f, "\nTHREAD STACKS  %zu found in the whole process", id->thread_stacks);
	if (s->threads >= 0)
		fprintf(f, ", which has %ld thread%s (the main thread's is [stack])", s->threads,
			s->threads == 1 ? "" : "s");
	else
		fputs(", whose thread count is unknown", f);
	fprintf(f, "\n  %3zu by a stack pointer inside (%zu read from /proc/PID/task/TID/syscall;"
		" a thread running on a CPU shows none)\n", s->by_pointer, s->pointers);
	fprintf(f, "  %3zu by MAP_STACK (VmFlags nh on the stack and on its guard page)%s\n",
		s->by_map_stack, s->map_stack_marked ? ""
		: ": this snapshot has no such marks (no VmFlags, or Linux before 6.7)");
	fprintf(f, "  %3zu by the guard-page pattern alone%s\n", s->by_pattern,
		s->map_stack_marked ? " (not used: the kernel marks MAP_STACK here)" : "");
	fprintf(f, "  %3zu look-alike%s refused (beyond the threads and glibc's cache of "
		"exited threads' stacks)\n", s->refused, s->refused == 1 ? "" : "s");
}

int fmt_explain_text(FILE *out, const snap_identity *id, const fmt_explain_opts *opts)
{
	static const fmt_explain_opts none = { 0 };
	fmt_safe_out safe; /* paths and comm come from the process */
	FILE *f = fmt_safe_open(&safe, out);
	if (!f)
		return SNAP_ENOMEM;
	const fmt_explain_opts *o = opts ? opts : &none;
	const snap_snapshot *snap = id->snap;
	size_t n = o->rows ? o->nrows : snap->nregions;
	size_t *all = NULL;
	const size_t *rows = o->rows;
	struct loads L = { 0 };
	int rc = loads_count(&L, id);
	if (rc == SNAP_OK && !rows && !(all = malloc((n + 1) * sizeof(*all))))
		rc = SNAP_ENOMEM;
	if (rc < 0)
		goto out;
	if (!rows) {
		for (size_t k = 0; k < n; k++)
			all[k] = k;
		rows = all;
	}
	struct columns c = { (int)strlen("ADDRESS") };
	for (size_t k = 0; k < n; k++) {
		const snap_region *r = &snap->regions[rows[k]];
		char range[40];
		int w = snprintf(range, sizeof(range), "%08" PRIx64 "-%08" PRIx64, r->start, r->end);
		if (w > c.address)
			c.address = w;
	}
	char line[1400];
	fprintf(f, "mapsnap show --explain: %s\n", fmt_process_line(line, sizeof(line), snap));
	if (!o->quiet)
		put_header(f, &c);
	for (size_t k = 0; k < n; k++)
		put_row(f, &L, &c, rows[k]);
	if (!o->quiet) {
		put_total(f, snap, &c, rows, n);
		put_stacks(f, id);
		if (o->note)
			fprintf(f, "%s\n", o->note);
	}
out:
	free(L.of_image);
	free(all);
	int closed = fmt_safe_close(&safe);
	return rc < 0 ? rc : closed;
}
