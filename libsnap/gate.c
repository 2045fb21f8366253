/* The CI gate: --fail-if expressions parsed once, checked against a diff.
 * Grammar: [KIND.]METRIC OP VALUE, OP one of > >= < <=, VALUE a size or
 * count, "+N"/"-N" for a change, "N%" / "+N%" for a relative change. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gate_expr.h"

enum subject { SUBJ_MEASURE, SUBJ_REGIONS, SUBJ_DUP_LIBS, SUBJ_NEW_LIBS,
	       SUBJ_THREAD_STACKS };
enum mode { MODE_VALUE, MODE_DELTA, MODE_PERCENT };

struct expr {
	char *text;
	int kind; /* SNAP_KIND_*, or -1 for the whole process */
	enum subject subject;
	enum snap_measure measure;
	enum gate_op op;
	enum mode mode;
	double limit; /* kB for measures, else a count; percent in MODE_PERCENT */
};

struct snap_gate {
	struct expr *exprs;
	size_t n, cap;
	snap_violation *violations;
	size_t nviolations;
};

int snap_gate_new(snap_gate **out, snap_error *err)
{
	*out = calloc(1, sizeof(**out));
	return *out ? SNAP_OK : snap_error_set(err, SNAP_ENOMEM, NULL, 0,
					       "out of memory creating a gate");
}

void snap_gate_free(snap_gate *gate)
{
	if (!gate)
		return;
	gate_exprs_free(gate->exprs, gate->n, sizeof(*gate->exprs),
			offsetof(struct expr, text), gate->violations);
	free(gate);
}

size_t snap_gate_size(const snap_gate *gate)
{
	return gate ? gate->n : 0;
}

const char *snap_gate_expr(const snap_gate *gate, size_t i)
{
	return i < gate->n ? gate->exprs[i].text : NULL;
}

/* ---- parsing ---- */

static const struct {
	const char *word;
	enum subject subject;
} counts[] = {
	{ "regions", SUBJ_REGIONS },
	{ "dup-libs", SUBJ_DUP_LIBS },
	{ "new-libs", SUBJ_NEW_LIBS },
	{ "thread-stacks", SUBJ_THREAD_STACKS },
};

#define DIFF_FORMS "form: [KIND.]METRIC>VALUE, e.g. rss>+10%, heap.rss>+1M, dup-libs>0"

static int bad(snap_error *err, const char *expr, const char *fmt, const char *what)
{
	return gate_bad(err, expr, DIFF_FORMS, fmt, what);
}

static int parse_subject(struct expr *x, char *lhs, const char *text,
			 snap_error *err)
{
	char *word;
	if (gate_take_kind(lhs, &word, &x->kind) < 0)
		return bad(err, text, "unknown kind '%s'", lhs);
	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		if (strcmp(word, counts[i].word) == 0) {
			x->subject = counts[i].subject;
			if (x->kind >= 0 && x->subject != SUBJ_REGIONS)
				return bad(err, text, "'%s' takes no kind", word);
			return SNAP_OK;
		}
	int m = snap_measure_parse(word);
	if (m < 0)
		return bad(err, text, "unknown metric '%s'", *word ? word : "(none)");
	x->subject = SUBJ_MEASURE;
	x->measure = (enum snap_measure)m;
	return SNAP_OK;
}

static int parse_limit(struct expr *x, char *rhs, const char *text,
		       snap_error *err)
{
	size_t n = strlen(rhs);
	x->mode = rhs[0] == '+' || rhs[0] == '-' ? MODE_DELTA : MODE_VALUE;
	if (n && rhs[n - 1] == '%') {
		rhs[n - 1] = '\0';
		x->mode = MODE_PERCENT;
		if (gate_parse_count(rhs, &x->limit) < 0)
			return bad(err, text, "bad percentage '%s'", rhs);
		return SNAP_OK;
	}
	if (x->subject != SUBJ_MEASURE) {
		if (gate_parse_count(rhs, &x->limit) < 0)
			return bad(err, text, "bad count '%s'", rhs);
		return SNAP_OK;
	}
	int64_t bytes;
	if (!*rhs || snap_parse_size(rhs, true, &bytes, NULL) < 0)
		return bad(err, text, "bad size '%s' (use e.g. 64M, +1.5G, 4096)",
			   *rhs ? rhs : "(none)");
	x->limit = (double)bytes / 1024.0;
	return SNAP_OK;
}

int snap_gate_add(snap_gate *gate, const char *expr, snap_error *err)
{
	struct expr x = { 0 };
	gate_term t;
	if (gate_term_read(&t, expr) < 0)
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	int rc;
	x.op = t.op;
	if (!t.rhs)
		rc = bad(err, expr, "%s", "no comparison (>, >=, <, <=)");
	else if (t.several)
		rc = bad(err, expr, "%s", "more than one comparison");
	else if ((rc = parse_subject(&x, t.lhs, expr, err)) == SNAP_OK)
		rc = parse_limit(&x, t.rhs, expr, err);
	gate_term_free(&t);
	if (rc < 0)
		return rc;
	return gate_append(&gate->exprs, &gate->cap, &gate->n, sizeof(*gate->exprs), &x,
			   offsetof(struct expr, text), expr, err);
}

/* ---- checking ---- */

static void values(const struct expr *x, const snap_diff *d, double *old,
		   double *new)
{
	const snap_sums *so = x->kind < 0 ? &d->total_old : &d->kind_old[x->kind];
	const snap_sums *sn = x->kind < 0 ? &d->total_new : &d->kind_new[x->kind];
	switch (x->subject) {
	case SUBJ_MEASURE:
		*old = (double)so->kb[x->measure];
		*new = (double)sn->kb[x->measure];
		break;
	case SUBJ_REGIONS:
		*old = (double)so->regions;
		*new = (double)sn->regions;
		break;
	case SUBJ_DUP_LIBS:
		*old = (double)d->old_id->ndups;
		*new = (double)d->new_id->ndups;
		break;
	case SUBJ_NEW_LIBS:
		*old = 0;
		*new = (double)d->new_libs;
		break;
	case SUBJ_THREAD_STACKS:
		*old = (double)d->old_id->thread_stacks;
		*new = (double)d->new_id->thread_stacks;
		break;
	}
}

static double actual_value(const struct expr *x, double old, double new)
{
	if (x->mode == MODE_VALUE)
		return new;
	if (x->mode == MODE_DELTA)
		return new - old;
	if (old == 0)
		return new == 0 ? 0 : new > 0 ? INFINITY : -INFINITY;
	return (new - old) * 100.0 / fabs(old);
}

static void describe(const struct expr *x, double old, double new,
		     double actual, snap_violation *v)
{
	char label[64], a[32], o[32], n[32];
	const char *what = x->subject == SUBJ_MEASURE ? snap_measure_name(x->measure)
			   : x->subject == SUBJ_REGIONS ? "regions"
			   : x->subject == SUBJ_DUP_LIBS ? "duplicated libraries"
			   : x->subject == SUBJ_NEW_LIBS ? "new libraries"
			   : "thread stacks";
	snprintf(label, sizeof(label), "%s%s%s", x->kind >= 0 ?
		 snap_kind_name((enum snap_kind)x->kind) : "", x->kind >= 0 ? " " : "",
		 what);
	bool sizes = x->subject == SUBJ_MEASURE;
	if (sizes) {
		snap_format_kb(o, sizeof(o), old, false);
		snap_format_kb(n, sizeof(n), new, false);
	} else {
		snprintf(o, sizeof(o), "%.0f", old);
		snprintf(n, sizeof(n), "%.0f", new);
	}
	if (x->mode == MODE_PERCENT)
		snprintf(a, sizeof(a), "%+.1f%%", actual);
	else if (sizes)
		snap_format_kb(a, sizeof(a), actual, x->mode == MODE_DELTA);
	else
		snprintf(a, sizeof(a), x->mode == MODE_DELTA ? "%+.0f" : "%.0f", actual);
	if (isinf(actual))
		snprintf(a, sizeof(a), "%s", actual > 0 ? "+inf%" : "-inf%");
	snprintf(v->message, sizeof(v->message), "%s: %s %s (%s -> %s)", x->text,
		 label, a, o, n);
}

int snap_gate_check(snap_gate *gate, const snap_diff *diff, snap_error *err)
{
	if (gate_violations_reset(&gate->violations, &gate->nviolations, gate->n) < 0)
		return snap_error_set(err, SNAP_ENOMEM, NULL, 0, "out of memory building "
				      "the gate's list of violations");
	for (size_t i = 0; i < gate->n; i++) {
		const struct expr *x = &gate->exprs[i];
		double old = 0, new = 0;
		values(x, diff, &old, &new);
		double actual = actual_value(x, old, new);
		if (!gate_violated(x->op, actual, x->limit))
			continue;
		snap_violation *v = &gate->violations[gate->nviolations++];
		v->expr = x->text;
		v->actual = actual;
		v->limit = x->limit;
		describe(x, old, new, actual, v);
	}
	return (int)gate->nviolations;
}

const snap_violation *snap_gate_violations(const snap_gate *gate, size_t *count)
{
	*count = gate ? gate->nviolations : 0;
	return gate ? gate->violations : NULL;
}
