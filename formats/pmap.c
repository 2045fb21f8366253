/* The views of procps-ng pmap 4.0.2, rendered from a snapshot byte for
 * byte, quirks included (fixtures/ref/ holds pmap's own outputs for the
 * same smaps text). Four 4.0.2 bugs follow later procps-ng instead: -X
 * totals and widths are per snapshot (4.0.4), -A applies to -X/-XX
 * (4.0.7), a mapping line over 1023 bytes is one row, and -X prints the
 * real file name of a path over 127 bytes.
 *
 * Output goes through one large buffer with hand-written number
 * formatting: a view of 60,000 mappings must cost less than reading
 * smaps does. */
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define OUT_CHUNK (256 * 1024)
#define NUM_MAX 32 /* longest number or size text */

/* ---- output buffer ------------------------------------------------------- */

struct out {
	FILE *f;
	char *buf;
	size_t len;
	bool failed;
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = true;
	o->len = 0;
}

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len + n > OUT_CHUNK) {
		out_flush(o);
		if (n > OUT_CHUNK) {
			if (fwrite(s, 1, n, o->f) != n)
				o->failed = true;
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* Text from a snapshot, through the reports' output filter (bytes a
 * terminal would act on become '?'); valid UTF-8 and tabs stay, as pmap
 * prints them (fixtures/ref/mapzoo has a name starting with a tab).
 * Names are at most SNAP_PATH_MAX bytes, far below OUT_CHUNK. */
static void out_safe(struct out *o, const char *s, size_t n)
{
	if (o->len + n > OUT_CHUNK)
		out_flush(o);
	if (n > OUT_CHUNK) { /* not from a snapshot that loaded */
		o->buf[o->len++] = '?';
		return;
	}
	memcpy(o->buf + o->len, s, n);
	fmt_safe_text(o->buf + o->len, n, FMT_SAFE_TAB);
	o->len += n;
}

static void out_char(struct out *o, char c)
{
	if (o->len == OUT_CHUNK)
		out_flush(o);
	o->buf[o->len++] = c;
}

static void out_fill(struct out *o, char c, size_t n)
{
	while (n--)
		out_char(o, c);
}

/* printf's "%*s": s right-justified in width (never cut). */
static void out_right(struct out *o, const char *s, size_t n, size_t width)
{
	if (n < width)
		out_fill(o, ' ', width - n);
	out_put(o, s, n);
}

/* Room for n bytes at the end of the buffer, written through the returned
 * pointer and committed with out_commit(): rows of the wide tables are
 * written this way, without a bounds check per byte. */
static char *out_reserve(struct out *o, size_t n)
{
	if (o->len + n > OUT_CHUNK)
		out_flush(o);
	return o->buf + o->len;
}

static void out_commit(struct out *o, const char *end)
{
	o->len = (size_t)(end - o->buf);
}

static char *put_right(char *p, const char *s, size_t n, size_t width)
{
	if (n < width) {
		memset(p, ' ', width - n);
		p += width - n;
	}
	memcpy(p, s, n);
	return p + n;
}

/* ---- numbers ------------------------------------------------------------- */


/* "%*lu" into p; returns the end. Digits go straight to their place from
 * the right; a number wider than the column takes the general way. */
static char *put_right_dec(char *p, uint64_t v, size_t width)
{
	char *q = p + width;
	uint64_t rest = v;
	do {
		if (q == p) {
			char text[NUM_MAX];
			return put_right(p, text, snap_format_dec(text, v), width);
		}
		*--q = (char)('0' + rest % 10);
		rest /= 10;
	} while (rest);
	while (q > p)
		*--q = ' ';
	return p + width;
}

/* kB as "512K", "1.3M", "20G": one decimal below 10 of a unit. pmap -h's
 * own rules (units up to E, its rounding, no sign), kept apart from
 * snap_format_kb, the reports' formatter: show prints sizes as pmap
 * 4.0.2 does (tests/test_pmap.c, test_human_sizes). */
static size_t human_text(char *dst, uint64_t kb)
{
	static const char units[] = "KMGTPE";
	size_t unit = 0;
	uint64_t scale = 1;
	while (unit + 1 < sizeof(units) - 1 && kb / scale >= 1024) {
		scale *= 1024;
		unit++;
	}
	size_t n;
	/* Rounded without kb * 10 or kb + scale / 2, which wrap for a
	 * saturated total. */
	uint64_t rest = kb % scale;
	uint64_t tenths = kb / scale * 10 + (rest * 10 + scale / 2) / scale;
	if (unit > 0 && tenths < 100) {
		n = snap_format_dec(dst, tenths / 10);
		dst[n++] = '.';
		dst[n++] = (char)('0' + tenths % 10);
	} else {
		n = snap_format_dec(dst, kb / scale + (rest >= scale - scale / 2));
	}
	dst[n++] = units[unit];
	return n;
}

/* A size in kB as pmap prints it: the number (with its 'K' when
 * k_suffix), or a human size carrying its own unit. */
static size_t kb_text(char *dst, uint64_t kb, bool human, bool k_suffix)
{
	if (human)
		return human_text(dst, kb);
	size_t n = snap_format_dec(dst, kb);
	if (k_suffix)
		dst[n++] = 'K';
	return n;
}

static void out_dec(struct out *o, uint64_t v)
{
	char t[NUM_MAX];
	out_put(o, t, snap_format_dec(t, v));
}

static void out_hex16(struct out *o, uint64_t v)
{
	char t[NUM_MAX];
	out_put(o, t, snap_format_hex(t, v, 16));
}

static void out_kb(struct out *o, uint64_t kb, bool human, size_t width,
		   bool k_suffix)
{
	char t[NUM_MAX];
	out_right(o, t, kb_text(t, kb, human, k_suffix), width);
}

/* ---- the view: which regions, what totals -------------------------------- */

struct view {
	const snap_snapshot *snap;
	const fmt_pmap_opts *opts;
	struct out *o;
	const size_t *rows; /* region indexes to print, in order */
	size_t nrows;
	/* pmap -x sums Rss and Dirty over every region it read, also those
	 * below an -A range, until the first one above it: regions
	 * [0, read_limit) (fixtures/ref/misc/range.txt, "total kB 192 748"). */
	size_t read_limit;
	bool chosen; /* rows came from the caller: totals cover exactly them */
};

static const snap_region *row_region(const struct view *v, size_t i)
{
	return &v->snap->regions[v->rows[i]];
}

/* pmap's own selection. The simple modes skip regions below the range and
 * stop at the first one above it; -X/-XX keep every overlapping one. */
static int select_pmap_rows(struct view *v, size_t **owned)
{
	const snap_snapshot *snap = v->snap;
	const fmt_pmap_opts *opts = v->opts;
	bool simple = opts->mode != FMT_PMAP_X && opts->mode != FMT_PMAP_XX;
	size_t *rows = malloc((snap->nregions + 1) * sizeof(*rows));
	if (!rows)
		return SNAP_ENOMEM;
	size_t n = 0, i;
	for (i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		if (opts->has_range && r->end - 1 < opts->low)
			continue;
		if (opts->has_range && r->start > opts->high) {
			if (simple)
				break;
			continue;
		}
		rows[n++] = i;
	}
	*owned = rows;
	v->rows = rows;
	v->nrows = n;
	v->read_limit = simple ? i : snap->nregions;
	return SNAP_OK;
}

/* ---- the first line ------------------------------------------------------ */

/* Mapping names: a byte that is not printable ASCII becomes '?'. */
static void out_sanitised(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out_char(o, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
}

/* The command line as procps escapes it in the C locale (checked byte by
 * byte against pmap 4.0.2): newline becomes a space, other control bytes
 * '.', bytes from 0x80 '?'. */
static void out_command_text(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		out_char(o, c == '\n' ? ' ' : c < 0x20 || c == 0x7f ? '.'
			 : c >= 0x80 ? '?' : (char)c);
	}
}

/* "PID:   command line". procps joins the arguments with spaces, leaving
 * out trailing empty ones; an empty command line shows "[comm]". What a
 * snapshot does not record is said so, never guessed. */
static void put_process_line(struct out *o, const snap_snapshot *snap)
{
	const snap_process *p = &snap->process;
	size_t argc = p->known && p->argv ? p->argc : 0;
	while (argc && !p->argv[argc - 1][0])
		argc--;
	if (p->known && p->pid > 0)
		out_dec(o, (uint64_t)p->pid);
	else
		out_char(o, '?');
	out_str(o, ":   ");
	if (argc) {
		for (size_t i = 0; i < argc; i++) {
			if (i)
				out_char(o, ' ');
			out_command_text(o, p->argv[i]);
		}
	} else if (p->known && p->argv && p->comm) {
		out_char(o, '[');
		out_command_text(o, p->comm);
		out_char(o, ']');
	} else {
		out_str(o, "(command line not recorded)");
	}
	out_char(o, '\n');
}

/* ---- simple modes (default, -x, -d) -------------------------------------- */

/* pmap finds the SysV shm device minor by creating a segment on its own
 * machine; a snapshot can be shown anywhere, so a SysV segment is told by
 * device major 0 and the kernel's "/SYSV<key>" name instead. */
static bool is_sysv_shm(const snap_region *r)
{
	return r->dev_major == 0 && r->path_len >= 5 &&
	       memcmp(r->path, "/SYSV", 5) == 0;
}

/* pmap names the region holding stat's start_stack "[ stack ]". When the
 * snapshot has no stat (start_stack 0), the kernel's own "[stack]" name
 * says the same thing. */
static bool is_main_stack(const snap_snapshot *snap, const snap_region *r)
{
	uint64_t ss = snap->process.known ? snap->process.start_stack : 0;
	if (ss)
		return r->start <= ss && ss <= r->end;
	return r->path_len == 7 && memcmp(r->path, "[stack]", 7) == 0;
}

static void put_simple_name(struct out *o, const snap_snapshot *snap,
			    const snap_region *r, bool show_path)
{
	char t[NUM_MAX];
	if (is_sysv_shm(r)) {
		out_str(o, "  [ shmid=0x");
		out_put(o, t, snap_format_hex(t, r->inode, 1));
		out_str(o, " ]");
		return;
	}
	const char *end = r->path + r->path_len;
	const char *slash = show_path ? memchr(r->path, '/', r->path_len)
				      : memrchr(r->path, '/', r->path_len);
	if (slash) {
		/* A trailing '/' is printed itself rather than nothing. */
		const char *s = show_path || slash + 1 == end ? slash : slash + 1;
		out_sanitised(o, s, (size_t)(end - s));
		return;
	}
	out_str(o, is_main_stack(snap, r) ? "  [ stack ]" : "  [ anon ]");
}

/* "r-xp" -> "r-x--", "rw-s" -> "rw-s-". */
static void out_mode5(struct out *o, const snap_region *r)
{
	char mode[5] = { r->perms[0], r->perms[1], r->perms[2],
			 r->perms[3] == 'p' ? '-' : r->perms[3], '-' };
	out_put(o, mode, 5);
}

struct simple_totals {
	uint64_t shared, private_writeable, private_readonly; /* bytes */
	uint64_t rss, dirty;                                  /* kB, -x */
};

static void add_size(struct simple_totals *t, const snap_region *r)
{
	uint64_t size = r->end - r->start;
	if (r->perms[3] == 's')
		t->shared = ck_sat_add_u64(t->shared, size);
	else if (r->perms[1] == 'w')
		t->private_writeable = ck_sat_add_u64(t->private_writeable, size);
	else
		t->private_readonly = ck_sat_add_u64(t->private_readonly, size);
}

static uint64_t mapped_kb(const struct simple_totals *t)
{
	return ck_sat_add_u64(ck_sat_add_u64(t->shared, t->private_writeable),
			      t->private_readonly) >> 10;
}

static void write_default(struct view *v)
{
	struct out *o = v->o;
	const fmt_pmap_opts *opts = v->opts;
	struct simple_totals t = { 0 };
	for (size_t i = 0; i < v->nrows; i++) {
		const snap_region *r = row_region(v, i);
		add_size(&t, r);
		out_hex16(o, r->start);
		out_char(o, ' ');
		out_kb(o, (r->end - r->start) >> 10, opts->human, 7, true);
		out_char(o, ' ');
		out_mode5(o, r);
		out_char(o, ' ');
		put_simple_name(o, v->snap, r, opts->show_path);
		out_char(o, '\n');
	}
	if (opts->quiet)
		return;
	out_str(o, " total ");
	out_kb(o, mapped_kb(&t), opts->human, 17, true);
	out_char(o, '\n');
}

static void write_device(struct view *v)
{
	struct out *o = v->o;
	const fmt_pmap_opts *opts = v->opts;
	char t[NUM_MAX];
	struct simple_totals tot = { 0 };
	/* Human sizes are not kilobytes: the column is called what it is. */
	if (!opts->quiet)
		out_str(o, opts->human
			? "Address             Size Mode  Offset           Device    Mapping\n"
			: "Address           Kbytes Mode  Offset           Device    Mapping\n");
	for (size_t i = 0; i < v->nrows; i++) {
		const snap_region *r = row_region(v, i);
		add_size(&tot, r);
		out_hex16(o, r->start);
		out_char(o, ' ');
		out_kb(o, (r->end - r->start) >> 10, opts->human, 7, false);
		out_char(o, ' ');
		out_mode5(o, r);
		out_char(o, ' ');
		out_hex16(o, r->offset);
		out_char(o, ' ');
		/* pmap re-prints the device from its parsed numbers: "%03x:%05x" */
		out_put(o, t, snap_format_hex(t, r->dev_major, 3));
		out_char(o, ':');
		out_put(o, t, snap_format_hex(t, r->dev_minor, 5));
		out_char(o, ' ');
		put_simple_name(o, v->snap, r, opts->show_path);
		out_char(o, '\n');
	}
	if (opts->quiet)
		return;
	out_str(o, "mapped: ");
	out_kb(o, mapped_kb(&tot), opts->human, 0, true);
	out_str(o, "    writeable/private: ");
	out_kb(o, tot.private_writeable >> 10, opts->human, 0, true);
	out_str(o, "    shared: ");
	out_kb(o, tot.shared >> 10, opts->human, 0, true);
	out_char(o, '\n');
}

/* The fields -x reads, looked up once per snapshot. */
struct x_fields {
	int rss, shared_dirty, private_dirty, swap;
};

static void find_x_fields(struct x_fields *xf, const snap_snapshot *snap)
{
	xf->rss = snap_field_find(snap, "Rss");
	xf->shared_dirty = snap_field_find(snap, "Shared_Dirty");
	xf->private_dirty = snap_field_find(snap, "Private_Dirty");
	xf->swap = snap_field_find(snap, "Swap");
}

struct x_values {
	uint64_t rss, dirty;
	bool has_swap;
};

static void x_values(struct x_values *xv, const struct x_fields *xf,
		     const snap_region *r)
{
	memset(xv, 0, sizeof(*xv));
	for (size_t i = 0; i < r->nentries; i++) {
		int f = (int)r->entries[i].field;
		uint64_t value = r->entries[i].is_text ? 0 : r->entries[i].value;
		if (f == xf->rss)
			xv->rss = ck_sat_add_u64(xv->rss, value);
		else if (f == xf->shared_dirty || f == xf->private_dirty)
			xv->dirty = ck_sat_add_u64(xv->dirty, value);
	}
	/* The row trigger is a printed Swap: line, whatever its value. */
	xv->has_swap = xf->swap >= 0 && snap_region_printed(r, xf->swap);
}

static void put_extended_row(struct out *o, const struct view *v,
			     const snap_region *r, const struct x_values *xv)
{
	bool human = v->opts->human;
	out_hex16(o, r->start);
	out_char(o, ' ');
	out_kb(o, (r->end - r->start) >> 10, human, 7, false);
	out_char(o, ' ');
	out_kb(o, xv->rss, human, 7, false);
	out_char(o, ' ');
	out_kb(o, xv->dirty, human, 7, false);
	out_char(o, ' ');
	out_mode5(o, r);
	out_char(o, ' ');
	put_simple_name(o, v->snap, r, v->opts->show_path);
	out_char(o, '\n');
}

/* pmap -x prints a row when it reads the region's "Swap:" line, so a
 * region without one has no row (but counts in the totals). */
static void write_extended(struct view *v)
{
	struct out *o = v->o;
	const fmt_pmap_opts *opts = v->opts;
	struct x_fields xf;
	struct x_values xv;
	uint64_t size_kb = 0, rss = 0, dirty = 0;
	find_x_fields(&xf, v->snap);
	if (!opts->quiet)
		out_str(o, opts->human
			? "Address             Size     RSS   Dirty Mode  Mapping\n"
			: "Address           Kbytes     RSS   Dirty Mode  Mapping\n");
	for (size_t i = 0; i < v->nrows; i++) {
		const snap_region *r = row_region(v, i);
		size_kb = ck_sat_add_u64(size_kb, (r->end - r->start) >> 10);
		x_values(&xv, &xf, r);
		if (v->chosen) {
			rss = ck_sat_add_u64(rss, xv.rss);
			dirty = ck_sat_add_u64(dirty, xv.dirty);
		}
		if (xv.has_swap)
			put_extended_row(o, v, r, &xv);
	}
	if (opts->quiet)
		return;
	for (size_t i = 0; !v->chosen && i < v->read_limit; i++) {
		x_values(&xv, &xf, &v->snap->regions[i]);
		rss = ck_sat_add_u64(rss, xv.rss);
		dirty = ck_sat_add_u64(dirty, xv.dirty);
	}
	out_str(o, "---------------- ------- ------- ------- \n");
	out_str(o, opts->human ? "total            " : "total kB         ");
	out_kb(o, size_kb, opts->human, 7, false);
	out_char(o, ' ');
	out_kb(o, rss, opts->human, 7, false);
	out_char(o, ' ');
	out_kb(o, dirty, opts->human, 7, false);
	out_char(o, '\n');
}

/* ---- -X and -XX ---------------------------------------------------------- */

/* What pmap -X leaves out of the smaps fields (-XX shows them). */
static const char *const x_hidden[] = {
	"AnonHugePages", "KernelPageSize", "MMUPageSize", "Shared_Dirty",
	"Private_Dirty", "Shared_Clean",   "Private_Clean",
};

static bool x_shows(const snap_field *f, bool everything)
{
	if (f->unit == SNAP_UNIT_TEXT)
		return false; /* pmap reads numbers only (and VmFlags) */
	if (everything)
		return true;
	for (size_t i = 0; i < sizeof(x_hidden) / sizeof(*x_hidden); i++)
		if (strcmp(f->name, x_hidden[i]) == 0)
			return false;
	return true;
}

struct xcol {
	uint32_t field;
	size_t name_len;
	bool kb;
	uint64_t total;
	size_t width;
	size_t value_width; /* widest value text (-q, and human sizes) */
};

struct xtable {
	struct xcol *cols;
	size_t ncols;
	int *col_of_field; /* column of each snapshot field, or -1 */
	uint64_t *values;  /* the current row's values */
	bool *present;
	size_t w_addr, w_perm, w_off, w_dev, w_inode, w_flags;
	size_t row_max; /* longest row without its name */
	bool flags;     /* a VmFlags column (-XX, when the kernel printed them) */
	bool human;
};

static void xtable_free(struct xtable *t)
{
	free(t->cols);
	free(t->col_of_field);
	free(t->values);
	free(t->present);
}

/* pmap's columns are the first region's fields, then fields that only
 * later regions print, appended: the fields' first-seen order. */
static int xtable_columns(struct xtable *t, const snap_snapshot *snap,
			  bool everything)
{
	size_t nf = snap->nfields;
	bool *seen = calloc(nf + 1, sizeof(*seen));
	t->col_of_field = malloc((nf + 1) * sizeof(*t->col_of_field));
	t->cols = calloc(nf + 1, sizeof(*t->cols));
	t->values = calloc(nf + 1, sizeof(*t->values));
	t->present = calloc(nf + 1, sizeof(*t->present));
	if (!seen || !t->col_of_field || !t->cols || !t->values || !t->present) {
		free(seen);
		return SNAP_ENOMEM;
	}
	for (size_t f = 0; f < nf; f++)
		t->col_of_field[f] = -1;
	for (size_t i = 0; i < snap->nregions; i++) {
		const snap_region *r = &snap->regions[i];
		t->flags |= everything && r->vmflags;
		for (size_t e = 0; e < r->nlayout; e++) {
			uint32_t f = r->layout[e];
			if (f >= nf || seen[f])
				continue;
			seen[f] = true;
			if (!x_shows(&snap->fields[f], everything))
				continue;
			t->col_of_field[f] = (int)t->ncols;
			t->cols[t->ncols++] = (struct xcol){
				.field = f, .name_len = strlen(snap->fields[f].name),
				.kb = snap->fields[f].unit == SNAP_UNIT_KB };
		}
	}
	free(seen);
	return SNAP_OK;
}

static void xtable_load_row(struct xtable *t, const snap_region *r)
{
	memset(t->present, 0, t->ncols * sizeof(*t->present));
	for (size_t e = 0; e < r->nlayout; e++) {
		int c = t->col_of_field[r->layout[e]];
		if (c >= 0) {
			t->values[c] = 0; /* printed; non-zero values follow */
			t->present[c] = true;
		}
	}
	for (size_t e = 0; e < r->nentries; e++) {
		int c = t->col_of_field[r->entries[e].field];
		if (c >= 0 && !r->entries[e].is_text)
			t->values[c] = r->entries[e].value;
	}
}

/* The value text of column c in the loaded row. A field this region did
 * not print (pmap refuses such smaps) shows as "-", not as a number. */
static size_t xvalue_text(char *dst, const struct xtable *t, size_t c)
{
	if (!t->present[c]) {
		dst[0] = '-';
		return 1;
	}
	return t->cols[c].kb ? kb_text(dst, t->values[c], t->human, false)
			     : snap_format_dec(dst, t->values[c]);
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

static size_t hex_len(uint64_t v, size_t min_digits)
{
	size_t n = v ? (size_t)(67 - __builtin_clzll(v)) / 4 : 1;
	return max_size(n, min_digits);
}

static size_t dec_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The kernel's header fields as pmap -X reprints them: the address and
 * offset "%08lx", the device "%02x:%02x", the inode "%lu". */
static void xtable_measure_fixed(struct xtable *t, const snap_region *r)
{
	t->w_addr = max_size(t->w_addr, hex_len(r->start, 8));
	t->w_perm = max_size(t->w_perm, strlen(r->perms));
	t->w_off = max_size(t->w_off, hex_len(r->offset, 8));
	t->w_dev = max_size(t->w_dev, hex_len(r->dev_major, 2) + 1 +
					      hex_len(r->dev_minor, 2));
	t->w_inode = max_size(t->w_inode, dec_len(r->inode));
	if (t->flags && r->vmflags)
		t->w_flags = max_size(t->w_flags, strlen(r->vmflags));
}

/* The widths pmap derives without -q: at least the header word, and a
 * field is as wide as its name or its total. Human sizes are not
 * monotonic in the value ("1.5M" is wider than "10M"), so the widest value
 * counts too. */
static void xtable_header_widths(struct xtable *t)
{
	char text[NUM_MAX];
	t->w_addr = max_size(t->w_addr, 7);
	t->w_perm = max_size(t->w_perm, 4);
	t->w_off = max_size(t->w_off, 6);
	t->w_dev = max_size(t->w_dev, 6);
	t->w_inode = max_size(t->w_inode, 5);
	t->w_flags = max_size(t->w_flags, 7);
	for (size_t c = 0; c < t->ncols; c++) {
		struct xcol *col = &t->cols[c];
		size_t total_len = col->kb ? kb_text(text, col->total, t->human, false)
					   : snap_format_dec(text, col->total);
		col->width = max_size(max_size(col->name_len, total_len), col->value_width);
	}
}

/* Pass 1: totals and column widths over the rows to print. */
static void xtable_measure(struct xtable *t, const struct view *v)
{
	bool quiet = v->opts->quiet;
	bool value_widths = quiet || t->human;
	char text[NUM_MAX];
	for (size_t i = 0; i < v->nrows; i++) {
		const snap_region *r = row_region(v, i);
		xtable_measure_fixed(t, r);
		for (size_t e = 0; e < r->nentries; e++) {
			int c = t->col_of_field[r->entries[e].field];
			if (c >= 0 && !r->entries[e].is_text)
				t->cols[c].total = ck_sat_add_u64(t->cols[c].total,
								  r->entries[e].value);
		}
		if (!value_widths)
			continue;
		xtable_load_row(t, r);
		for (size_t c = 0; c < t->ncols; c++)
			t->cols[c].value_width = max_size(t->cols[c].value_width,
							  xvalue_text(text, t, c));
	}
	if (quiet) {
		for (size_t c = 0; c < t->ncols; c++)
			t->cols[c].width = t->cols[c].value_width;
	} else {
		xtable_header_widths(t);
	}
	t->row_max = t->w_addr + t->w_perm + t->w_off + t->w_dev + t->w_inode +
		     t->w_flags + 8;
	for (size_t c = 0; c < t->ncols; c++)
		t->row_max += max_size(t->cols[c].width, NUM_MAX) + 1;
}

static void put_x_header(struct out *o, const struct xtable *t,
			 const snap_snapshot *snap)
{
	out_right(o, "Address", 7, t->w_addr);
	out_char(o, ' ');
	out_right(o, "Perm", 4, t->w_perm);
	out_char(o, ' ');
	out_right(o, "Offset", 6, t->w_off);
	out_char(o, ' ');
	out_right(o, "Device", 6, t->w_dev);
	out_char(o, ' ');
	out_right(o, "Inode", 5, t->w_inode);
	out_char(o, ' ');
	for (size_t c = 0; c < t->ncols; c++) {
		out_right(o, snap->fields[t->cols[c].field].name, t->cols[c].name_len,
			  t->cols[c].width);
		out_char(o, ' ');
	}
	if (t->flags) {
		out_right(o, "VmFlags", 7, t->w_flags);
		out_char(o, ' ');
	}
	out_str(o, "Mapping\n");
}

/* The fixed columns of one row, right-justified as pmap prints them. */
static char *put_x_fixed(char *p, const struct xtable *t, const snap_region *r)
{
	char text[NUM_MAX];
	p = put_right(p, text, snap_format_hex(text, r->start, 8), t->w_addr);
	*p++ = ' ';
	p = put_right(p, r->perms, strlen(r->perms), t->w_perm);
	*p++ = ' ';
	p = put_right(p, text, snap_format_hex(text, r->offset, 8), t->w_off);
	*p++ = ' ';
	size_t n = snap_format_hex(text, r->dev_major, 2);
	text[n++] = ':';
	n += snap_format_hex(text + n, r->dev_minor, 2);
	p = put_right(p, text, n, t->w_dev);
	*p++ = ' ';
	return put_right(p, text, snap_format_dec(text, r->inode), t->w_inode);
}

/* Pass 2: one row. -X names are pmap's raw names (valid UTF-8 as it is,
 * unlike the simple modes) but never a control byte; never "[ anon ]". */
static void put_x_row(struct out *o, struct xtable *t, const struct view *v,
		      const snap_region *r)
{
	char text[NUM_MAX];
	char *p = out_reserve(o, t->row_max);
	p = put_x_fixed(p, t, r);
	xtable_load_row(t, r);
	for (size_t c = 0; c < t->ncols; c++) {
		*p++ = ' ';
		if (t->present[c] && !(t->human && t->cols[c].kb))
			p = put_right_dec(p, t->values[c], t->cols[c].width);
		else
			p = put_right(p, text, xvalue_text(text, t, c), t->cols[c].width);
	}
	if (t->flags) {
		const char *flags = r->vmflags ? r->vmflags : "";
		*p++ = ' ';
		p = put_right(p, flags, strlen(flags), t->w_flags);
	}
	*p++ = ' ';
	out_commit(o, p);
	const char *name = r->path, *end = r->path + r->path_len;
	const char *slash = v->opts->show_path ? NULL : memrchr(name, '/', r->path_len);
	if (slash)
		name = slash + 1;
	out_safe(o, name, (size_t)(end - name));
	out_char(o, '\n');
}

static void put_x_footer(struct out *o, const struct xtable *t)
{
	char text[NUM_MAX];
	size_t gap = t->w_addr + t->w_perm + t->w_off + t->w_dev + t->w_inode + 5;
	out_fill(o, ' ', gap);
	for (size_t c = 0; c < t->ncols; c++) {
		out_fill(o, '=', t->cols[c].width);
		out_char(o, ' ');
	}
	out_char(o, '\n');
	out_fill(o, ' ', gap);
	for (size_t c = 0; c < t->ncols; c++) {
		const struct xcol *col = &t->cols[c];
		size_t n = col->kb ? kb_text(text, col->total, t->human, false)
				   : snap_format_dec(text, col->total);
		out_right(o, text, n, col->width);
		out_char(o, ' ');
	}
	/* Human sizes carry their own units: no "KB" word then. */
	out_str(o, t->human ? "\n" : "KB \n");
}

static int write_x(struct view *v)
{
	struct out *o = v->o;
	const fmt_pmap_opts *opts = v->opts;
	struct xtable t = { .human = opts->human };
	/* An empty address space prints no table at all (pmap -X 2). */
	if (v->snap->nregions == 0)
		return SNAP_OK;
	int rc = xtable_columns(&t, v->snap, opts->mode == FMT_PMAP_XX);
	if (rc < 0)
		goto out;
	xtable_measure(&t, v);
	if (!opts->quiet)
		put_x_header(o, &t, v->snap);
	for (size_t i = 0; i < v->nrows; i++)
		put_x_row(o, &t, v, row_region(v, i));
	if (!opts->quiet && t.ncols)
		put_x_footer(o, &t);
out:
	xtable_free(&t);
	return rc;
}

/* ---- entry point --------------------------------------------------------- */

static int write_view(struct view *v)
{
	put_process_line(v->o, v->snap);
	switch (v->opts->mode) {
	case FMT_PMAP_DEFAULT:
		write_default(v);
		break;
	case FMT_PMAP_EXTENDED:
		write_extended(v);
		break;
	case FMT_PMAP_DEVICE:
		write_device(v);
		break;
	case FMT_PMAP_X:
	case FMT_PMAP_XX:
		return write_x(v);
	}
	return SNAP_OK;
}

int fmt_pmap_write(FILE *f, const snap_snapshot *snap, const fmt_pmap_opts *opts)
{
	struct out o = { f, malloc(OUT_CHUNK), 0, false };
	struct view v = { snap, opts, &o, opts->rows, opts->nrows, 0, true };
	size_t *owned = NULL;
	int rc = SNAP_ENOMEM;
	if (!o.buf)
		return rc;
	if (!opts->rows && (rc = select_pmap_rows(&v, &owned)) < 0)
		goto out;
	v.chosen = opts->rows != NULL;
	if ((rc = write_view(&v)) < 0)
		goto out;
	if (opts->note && !opts->quiet) {
		out_safe(&o, opts->note, strlen(opts->note));
		out_char(&o, '\n');
	}
	out_flush(&o);
	rc = o.failed || ferror(f) ? SNAP_EIO : SNAP_OK;
out:
	free(owned);
	free(o.buf);
	return rc;
}
