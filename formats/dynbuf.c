#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "formats.h"

void dynbuf_init(struct dynbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void dynbuf_free(struct dynbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void dynbuf_reset(struct dynbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int dynbuf_fail(struct dynbuf *b, int code)
{
	if (!b->error)
		b->error = code;
	return b->error;
}

int dynbuf_reserve(struct dynbuf *b, size_t extra)
{
	size_t need;
	if (b->error)
		return b->error;
	if (ck_add_size(&need, b->len, extra) || need > b->max ||
	    ck_add_size(&need, need, 1))
		return dynbuf_fail(b, SNAP_ENOMEM);
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		if (ck_mul_size(&cap, cap, 2))
			cap = need;
	if (b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	char *grown = realloc(b->data, cap);
	if (!grown)
		return dynbuf_fail(b, SNAP_ENOMEM);
	b->data = grown;
	b->cap = cap;
	return 0;
}

int dynbuf_add_dec(struct dynbuf *b, uint64_t v)
{
	char text[32];
	return dynbuf_add(b, text, snap_format_dec(text, v));
}

int dynbuf_add_hex(struct dynbuf *b, uint64_t v, size_t min_digits)
{
	char text[32];
	return dynbuf_add(b, text, snap_format_hex(text, v, min_digits));
}

int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	int rc = n < 0 ? dynbuf_fail(b, SNAP_ENOMEM) : dynbuf_reserve(b, (size_t)n);
	if (rc == 0 && vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again) != n)
		rc = dynbuf_fail(b, SNAP_ENOMEM);
	if (rc == 0)
		b->len += (size_t)n;
	va_end(again);
	return rc;
}

int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = dynbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void dynbuf_shrink(struct dynbuf *b, size_t n)
{
	b->len -= n < b->len ? n : b->len;
	if (b->data)
		b->data[b->len] = '\0';
}
