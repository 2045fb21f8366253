/* A bounded, checked byte buffer for the writers in formats/, after
 * curl's lib/curlx/dynbuf.c: every append checks its size against the
 * buffer's cap and its allocation, and returns the error instead of
 * writing past what was reserved.
 *
 * Errors are sticky: after the first failure every append fails with the
 * same code and appends nothing, so a half-built line can never be
 * mistaken for a complete one; the writer checks the code before it
 * writes the buffer out. */
#ifndef MAPSNAP_DYNBUF_H
#define MAPSNAP_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct dynbuf {
	char *data;   /* NUL-terminated while there is no error */
	size_t len, cap;
	size_t max;   /* the most bytes it may hold */
	int error;    /* 0, or the first failure (SNAP_ENOMEM) */
};

/* An empty buffer that will hold at most max bytes. */
void dynbuf_init(struct dynbuf *b, size_t max);
void dynbuf_free(struct dynbuf *b);
/* Empties it (keeps its memory and its error). */
void dynbuf_reset(struct dynbuf *b);

/* Makes room for extra more bytes and the NUL, or fails the buffer. */
int dynbuf_reserve(struct dynbuf *b, size_t extra);
/* Fails the buffer with code unless it failed already; returns its error. */
int dynbuf_fail(struct dynbuf *b, int code);

/* Each returns 0 or the buffer's error: SNAP_ENOMEM when the memory could
 * not be had or the cap would be passed. Inline: the writers append a
 * few bytes at a time, millions of times in a big snapshot. */
static inline int dynbuf_add(struct dynbuf *b, const void *data, size_t len)
{
	if (b->error || len >= b->cap - b->len || len > b->max - b->len) {
		int rc = dynbuf_reserve(b, len);
		if (rc)
			return rc;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

static inline int dynbuf_addstr(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

static inline int dynbuf_addc(struct dynbuf *b, char c)
{
	return dynbuf_add(b, &c, 1);
}

/* Decimal, and lowercase hex zero-padded to min_digits. */
int dynbuf_add_dec(struct dynbuf *b, uint64_t v);
int dynbuf_add_hex(struct dynbuf *b, uint64_t v, size_t min_digits);
/* printf: the length is measured first, then exactly that is written. */
int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap);
/* Drops the last n bytes (n <= len). */
void dynbuf_shrink(struct dynbuf *b, size_t n);

#endif
