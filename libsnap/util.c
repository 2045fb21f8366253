#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int array_regrow(void *items, size_t *cap, size_t size, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	if (want < *cap || want > SIZE_MAX / size)
		return SNAP_ENOMEM;
	void *old;
	memcpy(&old, items, sizeof(old));
	void *grown = realloc(old, want * size);
	if (!grown)
		return SNAP_ENOMEM;
	memcpy(items, &grown, sizeof(grown));
	*cap = want;
	return SNAP_OK;
}

int read_file_all(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int rc = 0;
	while (buf) {
		if (n + 1 >= cap) {
			char *grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

void snap_utc_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char date[24];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", date, ts.tv_nsec / 1000000);
}

static int bad_size(snap_error *err, const char *text, const char *why)
{
	return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad size '%.200s': %s", text, why);
}

#define SIZE_FORM "expected a number and an optional unit K, M, G, T (such as 4K, " \
		  "10M, 1.5G)"

int snap_parse_size(const char *text, bool allow_sign, int64_t *bytes, snap_error *err)
{
	const char *s = text;
	int sign = 1;
	if (*s == '+' || *s == '-') {
		if (!allow_sign)
			return bad_size(err, text, "a sign is not allowed here");
		sign = *s++ == '-' ? -1 : 1;
	}
	if (!isdigit((unsigned char)*s) && *s != '.')
		return bad_size(err, text, SIZE_FORM);
	errno = 0;
	char *end;
	double value = strtod(s, &end);
	if (errno || end == s || !isfinite(value) || value < 0)
		return bad_size(err, text, isfinite(value) ? SIZE_FORM : "more than 8 EiB");
	double mult = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mult = 1024.0; end++; break;
	case 'M': mult = 1024.0 * 1024; end++; break;
	case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	case 'B': case '\0': break;
	default: return bad_size(err, text, SIZE_FORM);
	}
	/* Accept "10M", "10MB", "10MiB" alike. */
	if (mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (mult > 1 && (*end == 'b' || *end == 'B'))
		end++;
	else if (mult == 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (*end != '\0')
		return bad_size(err, text, SIZE_FORM);
	double total = value * mult;
	if (total > 9.0e18)
		return bad_size(err, text, "more than 8 EiB");
	*bytes = sign * (int64_t)(total + 0.5);
	return SNAP_OK;
}

size_t snap_format_dec(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t snap_format_hex(char *out, uint64_t v, size_t min_digits)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[32];
	size_t n = 0;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n < min_digits && n < sizeof(tmp))
		tmp[n++] = '0';
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Length of the valid UTF-8 sequence at s, or 0 when invalid. */
size_t snap_utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	unsigned cp = c & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool snap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = snap_utf8_seq(p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

void snap_format_kb(char *buf, size_t size, double kb, bool sign)
{
	/* Zero has no sign: "0K", never "+0K" or "-0K". */
	if (kb == 0)
		kb = 0;
	const char *fmt = sign && kb != 0 ? "%+.*f%s" : "%.*f%s";
	double a = fabs(kb);
	if (a < 1024)
		snprintf(buf, size, fmt, a < 10 && a != floor(a) ? 1 : 0, kb, "K");
	else if (a < 1024.0 * 1024)
		snprintf(buf, size, fmt, 1, kb / 1024, "M");
	else
		snprintf(buf, size, fmt, 2, kb / (1024.0 * 1024), "G");
}

void uf_init(uint32_t *parent, size_t n)
{
	for (size_t x = 0; x < n; x++)
		parent[x] = (uint32_t)x;
}

uint32_t uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

void uf_join(uint32_t *parent, uint32_t x, uint32_t y)
{
	x = uf_find(parent, x);
	y = uf_find(parent, y);
	if (x < y)
		parent[y] = x;
	else if (y < x)
		parent[x] = y;
}
