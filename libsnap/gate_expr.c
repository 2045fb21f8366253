/* The --fail-if expression reader shared by the diff and trend gates. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_expr.h"

/* Splits "lhs OP rhs" in place; returns rhs or NULL. */
static char *split_op(char *s, enum gate_op *op)
{
	char *p = strpbrk(s, "<>=");
	if (!p || *p == '=')
		return NULL;
	bool greater = *p == '>', equal = p[1] == '=';
	*op = greater ? (equal ? GATE_GE : GATE_GT) : (equal ? GATE_LE : GATE_LT);
	*p = '\0';
	return p + 1 + equal;
}

int gate_term_read(gate_term *t, const char *expr)
{
	memset(t, 0, sizeof(*t));
	char *s = malloc(strlen(expr) + 1);
	if (!s)
		return SNAP_ENOMEM;
	size_t n = 0;
	for (const char *p = expr; *p; p++)
		if (!isspace((unsigned char)*p))
			s[n++] = (char)tolower((unsigned char)*p);
	s[n] = '\0';
	t->buf = t->lhs = s;
	t->rhs = split_op(s, &t->op);
	t->several = t->rhs && strpbrk(t->rhs, "<>=");
	return SNAP_OK;
}

void gate_term_free(gate_term *t)
{
	free(t->buf);
	t->buf = t->lhs = t->rhs = NULL;
}

int gate_take_kind(char *lhs, char **word, int *kind)
{
	char *dot = strchr(lhs, '.');
	*word = lhs;
	*kind = -1;
	if (!dot)
		return 0;
	*dot = '\0';
	*word = dot + 1;
	if (strcmp(lhs, "total") != 0 && (*kind = snap_kind_parse(lhs)) < 0)
		return -1;
	return 0;
}

int gate_parse_count(const char *s, double *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return SNAP_EINVAL;
	errno = 0;
	char *end;
	*out = strtod(s, &end);
	return errno || *end || !isfinite(*out) ? SNAP_EINVAL : SNAP_OK;
}

bool gate_violated(enum gate_op op, double actual, double limit)
{
	switch (op) {
	case GATE_GT: return actual > limit;
	case GATE_GE: return actual >= limit;
	case GATE_LT: return actual < limit;
	case GATE_LE: return actual <= limit;
	}
	return false;
}

int gate_bad(snap_error *err, const char *expr, const char *forms,
	     const char *fmt, const char *what)
{
	char msg[300];
	snprintf(msg, sizeof(msg), fmt, what);
	return snap_error_set(err, SNAP_EINVAL, expr, 0,
			      "bad --fail-if expression: %s (%s)", msg, forms);
}

int gate_append(void *items, size_t *cap, size_t *n, size_t size, const void *item,
		size_t text_at, const char *expr, snap_error *err)
{
	char *text = NULL;
	if (array_grow(items, cap, *n, size, 4) < 0 || !(text = strdup(expr)))
		return snap_error_set(err, SNAP_ENOMEM, expr, 0, "out of memory");
	char *at;
	memcpy(&at, items, sizeof(at));
	at += *n * size;
	memcpy(at, item, size);
	memcpy(at + text_at, &text, sizeof(text));
	(*n)++;
	return SNAP_OK;
}

int gate_violations_reset(snap_violation **v, size_t *count, size_t n)
{
	*count = 0;
	free(*v);
	*v = n ? calloc(n, sizeof(**v)) : NULL;
	return !n || *v ? SNAP_OK : SNAP_ENOMEM;
}

void gate_exprs_free(void *exprs, size_t n, size_t size, size_t text_at,
		     snap_violation *violations)
{
	for (size_t i = 0; i < n; i++) {
		char *text;
		memcpy(&text, (char *)exprs + i * size + text_at, sizeof(text));
		free(text);
	}
	free(exprs);
	free(violations);
}
