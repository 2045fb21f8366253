/* The one output filter of the text and markdown writers. Everything a
 * snapshot or a process holds (comm, argv, paths, host facts, field text)
 * was written by someone else; a terminal acts on escape sequences
 * (ESC, CSI as 0x9b, OSC that sets titles or clipboards), so none may
 * reach it. Each byte a terminal could act on becomes '?', as show has
 * always printed mapping names; the colours a writer asks for with
 * fmt_safe_color are the only escape sequences that pass. */
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* The length of the safe character at s, or 0 when s[0] must become '?'. */
static size_t safe_char(const unsigned char *s, size_t avail, unsigned keep)
{
	unsigned c = s[0];
	if (c < 0x20)
		return (c == '\t' && (keep & FMT_SAFE_TAB)) ||
		       (c == '\n' && (keep & FMT_SAFE_NEWLINE)) ? 1 : 0;
	if (c < 0x7f)
		return 1;
	if (c == 0x7f)
		return 0;
	size_t n = snap_utf8_seq(s, avail);
	/* U+0080..U+009F, the C1 controls, encoded: some terminals obey them. */
	if (n == 2 && c == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

bool fmt_safe_text_clean(const char *s, size_t len, unsigned keep)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = safe_char(p + i, len - i, keep);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

void fmt_safe_text(char *s, size_t len, unsigned keep)
{
	unsigned char *p = (unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = safe_char(p + i, len - i, keep);
		if (n) {
			i += n;
			continue;
		}
		p[i++] = '?';
	}
}

FILE *fmt_safe_open(fmt_safe_out *s, FILE *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->f = open_memstream(&s->buf, &s->len);
	return s->f;
}

/* Makes what was written since the last colour safe. */
static void settle(fmt_safe_out *s)
{
	fflush(s->f);
	if (s->len > s->done)
		fmt_safe_text(s->buf + s->done, s->len - s->done,
			      FMT_SAFE_TAB | FMT_SAFE_NEWLINE);
	s->done = s->len;
}

void fmt_safe_color(fmt_safe_out *s, const char *sgr)
{
	if (!sgr || !*sgr)
		return;
	settle(s);
	fputs(sgr, s->f);
	fflush(s->f);
	s->done = s->len;
}

int fmt_safe_close(fmt_safe_out *s)
{
	settle(s);
	bool failed = ferror(s->f) != 0;
	failed |= fclose(s->f) != 0;
	int rc = failed ? SNAP_ENOMEM : SNAP_OK;
	if (rc == SNAP_OK && s->len && fwrite(s->buf, 1, s->len, s->out) != s->len)
		rc = SNAP_EIO;
	if (rc == SNAP_OK && ferror(s->out))
		rc = SNAP_EIO;
	free(s->buf);
	memset(s, 0, sizeof(*s));
	return rc;
}
