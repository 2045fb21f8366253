/* Text from a process (its comm, a mapping's path) made safe for a
 * terminal: a process can name itself "\033]0;..." and drive the terminal
 * of whoever looks at it. Local until the shared escaping filter lands. */
#include "formats.h"

/* C1 controls (U+0080..U+009F) are two bytes in UTF-8: 0xC2 0x80..0x9F. */
static bool c1_control(const unsigned char *s, size_t n)
{
	return n == 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f;
}

const char *fmt_term_text(char *buf, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t at = 0;
	if (!size)
		return buf;
	for (size_t i = 0; i < len;) {
		size_t n = snap_utf8_seq(u + i, len - i);
		bool plain = n > 1 ? !c1_control(u + i, n) : n == 1 && u[i] >= 0x20 && u[i] != 0x7f;
		size_t take = plain ? n : 1;
		size_t need = plain ? n : 4;
		if (at + need >= size)
			break;
		if (plain) {
			for (size_t k = 0; k < n; k++)
				buf[at++] = (char)u[i + k];
		} else {
			buf[at++] = '\\';
			buf[at++] = 'x';
			buf[at++] = hex[u[i] >> 4];
			buf[at++] = hex[u[i] & 15];
		}
		i += take;
	}
	buf[at] = '\0';
	return buf;
}
