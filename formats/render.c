/* Helpers the text, markdown and JSON renderers share (render.h): the
 * terminal-safe entry point of every text and markdown report, sizes,
 * the process and region lines, how a change or a trend region is named,
 * a check's JSON members, markdown cells and the gate's verdict in text
 * and markdown. One place, so that every report says the same thing the
 * same way. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "render.h"

int fmt_safe_report(FILE *out, fmt_report_body *body, const void *what,
		    const void *opts)
{
	fmt_safe_out safe;
	FILE *f = fmt_safe_open(&safe, out);
	if (!f)
		return SNAP_ENOMEM;
	body(f, &safe, what, opts);
	return fmt_safe_close(&safe);
}

/* ---- numbers ---- */

const char *fmt_kb(char *buf, size_t size, int64_t kb, bool sign)
{
	snap_format_kb(buf, size, (double)kb, sign);
	return buf;
}

const char *fmt_rate(char *buf, size_t size, double per_min, bool sizes)
{
	if (!sizes) {
		snprintf(buf, size, "%+.1f/min", per_min);
		return buf;
	}
	char kb[32];
	snap_format_kb(kb, sizeof(kb), per_min, true);
	snprintf(buf, size, "%s/min", kb);
	return buf;
}

/* Mean of the present values of each cell; false when a cell has none. */
static size_t cell_means(double *mean, bool *present, const int64_t *v, size_t n,
			 size_t width)
{
	size_t cells = n < width ? n : width;
	for (size_t c = 0; c < cells; c++) {
		size_t lo = c * n / cells, hi = (c + 1) * n / cells, count = 0;
		double sum = 0;
		for (size_t i = lo; i < hi; i++)
			if (v[i] >= 0) {
				sum += (double)v[i];
				count++;
			}
		present[c] = count > 0;
		mean[c] = count ? sum / (double)count : 0;
	}
	return cells;
}

const char *fmt_sparkline(char *buf, size_t size, const int64_t *values,
			  size_t n, size_t width, bool ascii)
{
	static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char levels[] = "_.-:=+*#";
	double mean[FMT_SPARK_CELLS_MAX];
	bool present[FMT_SPARK_CELLS_MAX];
	size_t cells = cell_means(mean, present, values, n,
				  width < FMT_SPARK_CELLS_MAX ? width : FMT_SPARK_CELLS_MAX);
	double lo = INFINITY, hi = -INFINITY;
	for (size_t c = 0; c < cells; c++)
		if (present[c]) {
			lo = mean[c] < lo ? mean[c] : lo;
			hi = mean[c] > hi ? mean[c] : hi;
		}
	size_t at = 0;
	if (size)
		buf[0] = '\0';
	for (size_t c = 0; c < cells; c++) {
		int level = hi > lo ? (int)((mean[c] - lo) / (hi - lo) * 7 + 0.5) : 0;
		char one[2] = { ascii ? levels[level] : ' ', '\0' };
		const char *cell = !present[c] ? " " : ascii ? one : blocks[level];
		size_t len = strlen(cell);
		if (at + len + 1 > size)
			break;
		memcpy(buf + at, cell, len + 1);
		at += len;
	}
	return buf;
}

/* ---- what a line is about ---- */

const char *fmt_process_line(char *buf, size_t size, const snap_snapshot *snap)
{
	const snap_process *p = &snap->process;
	int n = p->known ? snprintf(buf, size, "%s (pid %ld)%s%s",
				    p->comm ? p->comm : "?", p->pid,
				    p->exe ? " " : "", p->exe ? p->exe : "")
			 : snprintf(buf, size, "process unknown (%s)",
				    snap->source ? snap->source : "smaps text");
	if (n < 0 || (size_t)n >= size)
		return buf;
	if (snap->captured_at)
		n += snprintf(buf + n, size - (size_t)n, ", captured %s", snap->captured_at);
	if (n > 0 && (size_t)n < size && snap->host.kernel)
		snprintf(buf + n, size - (size_t)n, " on kernel %s", snap->host.kernel);
	return buf;
}

const char *fmt_region_line(char *buf, size_t size, const snap_region *r)
{
	snprintf(buf, size, "%08" PRIx64 "-%08" PRIx64 " %s%s%.*s", r->start, r->end,
		 r->perms, r->path_len ? " " : "", (int)r->path_len, r->path);
	return buf;
}

static const snap_side *main_side(const snap_change *c)
{
	return c->new.present ? &c->new : &c->old;
}

const char *fmt_change_where(char *buf, size_t size, const snap_change *c)
{
	const snap_side *s = main_side(c);
	int n = 0;
	if (c->path_len)
		n = snprintf(buf, size, "%.*s ", (int)c->path_len, c->path);
	if (n < 0 || (size_t)n >= size)
		return buf;
	if (c->image && s->nregions > 1) {
		snprintf(buf + n, size - n, "(%zu segments at %" PRIx64 ")",
			 s->nregions, s->start);
		return buf;
	}
	int m = snprintf(buf + n, size - n, "%08" PRIx64 "-%08" PRIx64, s->start,
			 s->end);
	if (m < 0 || (size_t)(n + m) >= size)
		return buf;
	if (c->old.present && c->new.present &&
	    (c->old.start != c->new.start || c->old.end != c->new.end))
		snprintf(buf + n + m, size - n - m, " (was %08" PRIx64 "-%08" PRIx64 ")",
			 c->old.start, c->old.end);
	return buf;
}

const char *fmt_change_moved(char *buf, size_t size, const snap_change *c,
			     enum snap_measure shown1, enum snap_measure shown2)
{
	buf[0] = '\0';
	if (c->delta.kb[shown1] != 0 || c->delta.kb[shown2] != 0)
		return buf;
	size_t n = 0;
	for (int m = 0; m < SNAP_M_COUNT && n < size; m++) {
		char kb[32];
		if (c->delta.kb[m] == 0)
			continue;
		int w = snprintf(buf + n, size - n, "%s%s %s", n ? ", " : "",
				 snap_measure_name(m), fmt_kb(kb, sizeof(kb), c->delta.kb[m], true));
		n = w < 0 ? size : n + (size_t)w;
	}
	if (n == 0 && c->delta.regions != 0)
		snprintf(buf, size, "regions %+" PRId64, c->delta.regions);
	return buf;
}

const char *fmt_build_hex(char *buf, size_t size, const snap_build_id *id)
{
	if (!id || !id->len)
		snprintf(buf, size, "unknown");
	else
		snap_build_id_hex(buf, size, id);
	return buf;
}

const char *fmt_dup_phrase(enum snap_dup_kind kind)
{
	switch (kind) {
	case SNAP_DUP_SAME_FILE: return "one file loaded twice";
	case SNAP_DUP_SAME_BUILD: return "one build loaded twice, from two files";
	case SNAP_DUP_TWO_BUILDS: return "two builds of one library";
	case SNAP_DUP_SAME_NAME: return "one name loaded from two files";
	}
	return "?";
}

const char *fmt_trend_where(char *buf, size_t size, const snap_trend_region *r)
{
	if (r->born)
		snprintf(buf, size, "%zu %s regions born during the series%s%.*s", r->members,
			 snap_kind_name(r->kind), r->path_len ? ": " : "", (int)r->path_len,
			 r->path);
	else if (r->path_len)
		snprintf(buf, size, "%.*s %08" PRIx64 "-%08" PRIx64, (int)r->path_len,
			 r->path, r->start, r->end);
	else
		snprintf(buf, size, "%08" PRIx64 "-%08" PRIx64, r->start, r->end);
	return buf;
}

/* ---- JSON ---- */

void fmt_process_json(FILE *f, const snap_snapshot *snap)
{
	const snap_process *p = &snap->process;
	fputs("\"process\":", f);
	if (p->known) {
		fprintf(f, "{\"pid\":%ld,\"start_time\":%lld,\"threads\":%ld,\"comm\":",
			p->pid, p->start_time, p->threads);
		fmt_json_put_cstr(f, p->comm);
		fputs(",\"exe\":", f);
		fmt_json_put_cstr(f, p->exe);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"captured_at\":", f);
	fmt_json_put_cstr(f, snap->captured_at);
	fputs(",\"kernel\":", f);
	fmt_json_put_cstr(f, snap->host.kernel);
	fputs(",\"hostname\":", f);
	fmt_json_put_cstr(f, snap->host.hostname);
	fputs(",\"source\":", f);
	fmt_json_put_cstr(f, snap->source);
}

void fmt_json_finding_head(FILE *f, const snap_finding *x)
{
	fputs("{\"rule\":", f);
	fmt_json_put_cstr(f, x->rule);
	fprintf(f, ",\"severity\":\"%s\",\"message\":", snap_severity_name(x->severity));
	fmt_json_put_cstr(f, x->message);
	fputs(",\"advice\":", f);
	fmt_json_put_cstr(f, x->advice);
	fprintf(f, ",\"size_kb\":%" PRId64, x->size_kb);
}

void fmt_json_severity_counts(FILE *f, const snap_check *c)
{
	fputc('{', f);
	for (int s = 0; s < SNAP_SEV_COUNT; s++)
		fprintf(f, "%s\"%s\":%zu", s ? "," : "",
			snap_severity_name((enum snap_severity)s), c->by_severity[s]);
	fputc('}', f);
}

void fmt_json_put_cstrs(FILE *f, const char *const *s, size_t n)
{
	fputc('[', f);
	for (size_t k = 0; k < n; k++) {
		if (k)
			fputc(',', f);
		fmt_json_put_cstr(f, s[k]);
	}
	fputc(']', f);
}

/* ---- markdown ---- */

/* One rule for every markdown report: characters markdown would read
 * are backslash-escaped ("|" would end the cell), and a newline or a TAB
 * becomes a space (a cell is one line; a TAB would be read as indentation
 * by some renderers, and the terminal-safe filter passes it). */
void fmt_markdown_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (strchr("\\`*_[]<>|#~", c))
			fputc('\\', f);
		fputc(c == '\n' || c == '\t' ? ' ' : c, f);
	}
}

void fmt_markdown_cstr(FILE *f, const char *s)
{
	if (!s)
		s = "?";
	fmt_markdown_text(f, s, strlen(s));
}

void fmt_markdown_heading(FILE *f, const char *command, const snap_snapshot *snap,
			  const char *label)
{
	char line[1400];
	fprintf(f, "### mapsnap %s\n\n", command);
	fmt_markdown_cstr(f, fmt_process_line(line, sizeof(line), snap));
	fputs("\n\n", f);
	if (label) {
		fputs("Input: ", f);
		fmt_markdown_cstr(f, label);
		fputs("\n\n", f);
	}
}

void fmt_markdown_verdict(FILE *f, size_t checks, const snap_violation *v,
			  size_t failed)
{
	if (!checks)
		return;
	if (!failed) {
		fprintf(f, "**Gate passed** (%zu checks).\n\n", checks);
		return;
	}
	fprintf(f, "**Gate FAILED**: %zu of %zu checks.\n\n", failed, checks);
	for (size_t k = 0; k < failed; k++) {
		fputs("- ", f);
		fmt_markdown_cstr(f, v[k].message);
		fputc('\n', f);
	}
	fputc('\n', f);
}

/* ---- text ---- */

void fmt_paint(fmt_safe_out *safe, bool color, const char *sgr)
{
	if (color)
		fmt_safe_color(safe, sgr);
}

void fmt_text_verdict(FILE *f, fmt_safe_out *safe, bool color, size_t checks,
		      const snap_violation *v, size_t failed)
{
	if (!checks)
		return;
	fputc('\n', f);
	fmt_paint(safe, color, FMT_BOLD);
	fputs("GATE", f);
	fmt_paint(safe, color, FMT_RESET);
	fputc(' ', f);
	fmt_paint(safe, color, failed ? FMT_RED : FMT_GREEN);
	fputs(failed ? "FAILED" : "passed", f);
	fmt_paint(safe, color, FMT_RESET);
	fprintf(f, " (%zu of %zu checks failed)\n", failed, checks);
	for (size_t k = 0; k < failed; k++)
		fprintf(f, "  %s\n", v[k].message);
}
