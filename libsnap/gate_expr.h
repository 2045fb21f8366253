/* The --fail-if expression form, read by one parser for both gates: the
 * diff's (gate.c) and the trend's (trend_gate.c). An expression is
 * "[KIND.]WORD OP VALUE" with OP one of > >= < <=, read without case and
 * spaces; each gate gives WORD and VALUE their meaning. Private to libsnap. */
#ifndef SNAP_GATE_EXPR_H
#define SNAP_GATE_EXPR_H

#include "internal.h"

enum gate_op { GATE_GT, GATE_GE, GATE_LT, GATE_LE };

typedef struct gate_term {
	char *buf;       /* owned: the expression lower-cased, spaces removed */
	char *lhs;       /* what is compared ("heap.rss", "rss.slope"), in buf */
	char *rhs;       /* the value after OP, in buf; NULL: no comparison */
	enum gate_op op;
	bool several;    /* the value holds another comparison */
} gate_term;

/* Splits expr into its sides. SNAP_OK, or SNAP_ENOMEM (t then owns nothing). */
int gate_term_read(gate_term *t, const char *expr);
void gate_term_free(gate_term *t);

/* Takes a "KIND." prefix off lhs: *word is what follows it (or lhs), *kind
 * the kind, -1 for none or "total". Returns -1 when the prefix names no
 * kind (lhs then holds the prefix alone), else 0. */
int gate_take_kind(char *lhs, char **word, int *kind);

/* A count such as "3", "+2", "-1.5" (sign allowed, digits first).
 * SNAP_OK or SNAP_EINVAL. */
int gate_parse_count(const char *s, double *out);

bool gate_violated(enum gate_op op, double actual, double limit);

/* Appends the expression *item (size bytes) to *items (a T ** passed as
 * void *, *n in use), with a copy of expr as its text (a char * at offset
 * text_at). SNAP_OK, or SNAP_ENOMEM set in err with nothing appended. */
int gate_append(void *items, size_t *cap, size_t *n, size_t size, const void *item,
		size_t text_at, const char *expr, snap_error *err);
/* Forgets the last check's violations and makes room for n (a gate of n
 * expressions fails at most n times). SNAP_OK or SNAP_ENOMEM. */
int gate_violations_reset(snap_violation **v, size_t *count, size_t n);

/* Frees what a gate holds: n expressions of size bytes at exprs, each
 * with the text it was read from (a char * at offset text_at), the array
 * itself and the violations of its last check. */
void gate_exprs_free(void *exprs, size_t n, size_t size, size_t text_at,
		     snap_violation *violations);

/* The one error line of a bad expression: "bad --fail-if expression:
 * <fmt with what> (<forms>)", set in err; returns SNAP_EINVAL. */
int gate_bad(snap_error *err, const char *expr, const char *forms,
	     const char *fmt, const char *what);

#endif
