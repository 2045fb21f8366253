/* The trend's CI gate: leak-suspects>N and slope terms checked against
 * a trend, every other term handed to the diff gate (gate.c) and checked
 * on the first and last snapshots. Both read expressions with one
 * parser (gate_expr.c). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_expr.h"

enum term { TERM_SUSPECTS, TERM_SLOPE, TERM_REGIONS_SLOPE, TERM_THREADS_SLOPE,
	    TERM_DIFF };

struct trend_expr {
	char *text;
	enum term term;
	int kind;          /* SNAP_KIND_*, or -1 for the whole process */
	int measure;       /* TERM_SLOPE: index among the trend measures */
	enum gate_op op;
	double limit;      /* a count, or an amount per minute (kB for sizes) */
	size_t diff_index; /* TERM_DIFF: its place in the diff gate */
};

struct snap_trend_gate {
	struct trend_expr *exprs;
	size_t n, cap;
	snap_gate *diff; /* everything that is not a trend term */
	snap_violation *violations;
	size_t nviolations;
};

int snap_trend_gate_new(snap_trend_gate **out, snap_error *err)
{
	snap_trend_gate *g = calloc(1, sizeof(*g));
	if (!g || snap_gate_new(&g->diff, NULL) < 0) {
		free(g);
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0,
				      "out of memory creating a trend gate");
	}
	*out = g;
	return SNAP_OK;
}

void snap_trend_gate_free(snap_trend_gate *gate)
{
	if (!gate)
		return;
	gate_exprs_free(gate->exprs, gate->n, sizeof(*gate->exprs),
			offsetof(struct trend_expr, text), gate->violations);
	snap_gate_free(gate->diff);
	free(gate);
}

size_t snap_trend_gate_size(const snap_trend_gate *gate)
{
	return gate ? gate->n : 0;
}

#define TREND_FORMS "trend forms: leak-suspects>0, [KIND.]rss.slope>+1M/min, " \
		    "regions.slope>10/min"

static int bad_term(snap_error *err, const char *expr, const char *fmt,
		    const char *what)
{
	return gate_bad(err, expr, TREND_FORMS, fmt, what);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

static int parse_slope(struct trend_expr *x, char *lhs, const char *rhs,
		       const char *expr, snap_error *err)
{
	lhs[strlen(lhs) - strlen(".slope")] = '\0';
	char *word;
	if (gate_take_kind(lhs, &word, &x->kind) < 0)
		return bad_term(err, expr, "unknown kind '%s'", lhs);
	bool sizes = true;
	if (strcmp(word, "regions") == 0 || strcmp(word, "thread-stacks") == 0) {
		if (x->kind >= 0)
			return bad_term(err, expr, "'%s' takes no kind", word);
		x->term = word[0] == 'r' ? TERM_REGIONS_SLOPE : TERM_THREADS_SLOPE;
		sizes = false;
	} else {
		int m = snap_measure_parse(word);
		x->measure = m < 0 ? -1 : snap_trend_measure_index((enum snap_measure)m);
		if (x->measure < 0)
			return bad_term(err, expr, "no slope of '%s' (rss, dirty, size, "
					"regions, thread-stacks)", word);
		x->term = TERM_SLOPE;
	}
	if (snap_parse_rate(rhs, sizes, &x->limit, NULL) < 0)
		return bad_term(err, expr, sizes ? "bad rate '%s' (e.g. +1M/min, 64K/s)"
					       : "bad rate '%s' (e.g. 10/min, +1/s)", rhs);
	return SNAP_OK;
}

static int parse_suspects(struct trend_expr *x, const char *rhs, const char *expr,
			  snap_error *err)
{
	x->term = TERM_SUSPECTS;
	if (*rhs == '-' || gate_parse_count(rhs, &x->limit) < 0)
		return bad_term(err, expr, "bad count '%s'", rhs);
	return SNAP_OK;
}

static int parse_term(struct trend_expr *x, snap_trend_gate *g, const char *expr,
		      snap_error *err)
{
	gate_term t;
	if (gate_term_read(&t, expr) < 0)
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	int rc;
	x->op = t.op;
	if (t.rhs && strcmp(t.lhs, "leak-suspects") == 0)
		rc = parse_suspects(x, t.rhs, expr, err);
	else if (t.rhs && ends_with(t.lhs, ".slope"))
		rc = parse_slope(x, t.lhs, t.rhs, expr, err);
	else if (t.several)
		rc = bad_term(err, expr, "%s", "more than one comparison");
	else {
		x->term = TERM_DIFF;
		x->diff_index = snap_gate_size(g->diff);
		rc = snap_gate_add(g->diff, expr, err);
	}
	gate_term_free(&t);
	return rc;
}

int snap_trend_gate_add(snap_trend_gate *gate, const char *expr, snap_error *err)
{
	struct trend_expr x = { .kind = -1 };
	int rc = parse_term(&x, gate, expr, err);
	if (rc < 0)
		return rc;
	return gate_append(&gate->exprs, &gate->cap, &gate->n, sizeof(*gate->exprs), &x,
			   offsetof(struct trend_expr, text), expr, err);
}

/* "[heap]", "/usr/lib/libfoo.so", "anon at 7f12a000", "4 anon regions
 * born during the series". */
static void region_name(char *buf, size_t size, const snap_trend_region *r)
{
	if (r->born)
		snprintf(buf, size, "%zu %s regions born during the series%s%.*s",
			 r->members, snap_kind_name(r->kind), r->path_len ? " " : "",
			 (int)r->path_len, r->path);
	else if (r->path_len)
		snprintf(buf, size, "%.*s", (int)r->path_len, r->path);
	else
		snprintf(buf, size, "%s at %08llx", snap_kind_name(r->kind),
			 (unsigned long long)r->start);
}

static void describe_suspects(const struct trend_expr *x, const snap_trend *t,
			      snap_violation *v)
{
	size_t at = (size_t)snprintf(v->message, sizeof(v->message),
				     "%s: %zu leak suspect%s", x->text, t->suspects,
				     t->suspects == 1 ? "" : "s");
	int mi = snap_trend_measure_index(t->opts.measure);
	for (size_t k = 0; k < t->suspects && k < 3 && at < sizeof(v->message); k++) {
		char name[128], rate[32];
		region_name(name, sizeof(name), &t->regions[k]);
		snap_format_kb(rate, sizeof(rate), t->regions[k].growth[mi].slope, true);
		at += (size_t)snprintf(v->message + at, sizeof(v->message) - at,
				       "%s%s %s/min", k ? ", " : " (", name, rate);
	}
	if (t->suspects && at < sizeof(v->message))
		snprintf(v->message + at, sizeof(v->message) - at, "%s)",
			 t->suspects > 3 ? ", ..." : "");
}

static const snap_trend_series *slope_series(const struct trend_expr *x,
					     const snap_trend *t)
{
	if (x->term == TERM_REGIONS_SLOPE)
		return &t->region_count;
	if (x->term == TERM_THREADS_SLOPE)
		return &t->thread_stacks;
	return x->kind < 0 ? &t->total[x->measure] : &t->kind[x->kind][x->measure];
}

static void describe_slope(const struct trend_expr *x, const snap_trend_series *se,
			   snap_violation *v)
{
	char rate[32], first[32], last[32];
	const snap_growth *g = &se->growth;
	if (x->term == TERM_SLOPE) {
		snap_format_kb(rate, sizeof(rate), g->slope, true);
		snap_format_kb(first, sizeof(first), (double)g->first, false);
		snap_format_kb(last, sizeof(last), (double)g->last, false);
		snprintf(v->message, sizeof(v->message), "%s: %s%s%s slope %s/min (%s -> %s)",
			 x->text, x->kind >= 0 ? snap_kind_name((enum snap_kind)x->kind) : "",
			 x->kind >= 0 ? " " : "",
			 snap_measure_name(snap_trend_measure((size_t)x->measure)), rate,
			 first, last);
		return;
	}
	snprintf(v->message, sizeof(v->message), "%s: %s slope %+.1f/min (%lld -> %lld)",
		 x->text, x->term == TERM_REGIONS_SLOPE ? "regions" : "thread stacks",
		 g->slope, (long long)g->first, (long long)g->last);
}

/* The diff terms, checked on the first and last snapshots. */
static int check_diff_terms(snap_trend_gate *g, const snap_trend *t, snap_error *err)
{
	if (!snap_gate_size(g->diff))
		return SNAP_OK;
	snap_diff_opts opts;
	snap_diff_opts_init(&opts, SNAP_DIFF_OPTS_VERSION);
	opts.match = t->opts.match;
	snap_diff *d;
	int rc = snap_diff_new(&d, t->snaps[0], t->snaps[t->nsnaps - 1], &opts, err);
	if (rc < 0)
		return rc;
	rc = snap_gate_check(g->diff, d, err);
	snap_diff_free(d);
	return rc < 0 ? rc : SNAP_OK;
}

static const snap_violation *diff_violation(const snap_trend_gate *g, size_t index)
{
	size_t n;
	const snap_violation *v = snap_gate_violations(g->diff, &n);
	const char *text = snap_gate_expr(g->diff, index);
	for (size_t k = 0; k < n; k++)
		if (v[k].expr == text)
			return &v[k];
	return NULL;
}

int snap_trend_gate_check(snap_trend_gate *gate, const snap_trend *trend,
			  snap_error *err)
{
	if (gate_violations_reset(&gate->violations, &gate->nviolations, gate->n) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory building "
				      "the gate's list of violations");
	int rc = check_diff_terms(gate, trend, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < gate->n; i++) {
		const struct trend_expr *x = &gate->exprs[i];
		snap_violation *v = &gate->violations[gate->nviolations];
		if (x->term == TERM_DIFF) {
			const snap_violation *dv = diff_violation(gate, x->diff_index);
			if (dv) {
				*v = *dv;
				v->expr = x->text;
				gate->nviolations++;
			}
			continue;
		}
		const snap_trend_series *se = x->term == TERM_SUSPECTS ? NULL
					      : slope_series(x, trend);
		double actual = se ? se->growth.slope : (double)trend->suspects;
		if (!gate_violated(x->op, actual, x->limit))
			continue;
		v->expr = x->text;
		v->actual = actual;
		v->limit = x->limit;
		if (se)
			describe_slope(x, se, v);
		else
			describe_suspects(x, trend, v);
		gate->nviolations++;
	}
	return (int)gate->nviolations;
}

const snap_violation *snap_trend_gate_violations(const snap_trend_gate *gate,
						 size_t *count)
{
	*count = gate ? gate->nviolations : 0;
	return gate ? gate->violations : NULL;
}
