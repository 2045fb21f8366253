/* The durations, rates and UTC times the series front ends and the
 * trend gate parse: "30s", "+1M/min", "2026-01-02T03:04:05Z". */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"


/* A non-negative decimal number at *s; advances *s past it. */
static int take_number(const char **s, double *out)
{
	const char *p = *s;
	if (!isdigit((unsigned char)*p) && *p != '.')
		return SNAP_EINVAL;
	errno = 0;
	char *end;
	*out = strtod(p, &end);
	if (errno || end == p || !isfinite(*out) || *out < 0)
		return SNAP_EINVAL;
	*s = end;
	return SNAP_OK;
}

/* Seconds in a time unit word, 0 when it is none. */
static double unit_seconds(const char *unit)
{
	static const struct {
		const char *word;
		double seconds;
	} units[] = {
		{ "ms", 0.001 }, { "s", 1 },     { "sec", 1 },     { "m", 60 },
		{ "min", 60 },   { "h", 3600 },  { "hour", 3600 }, { "d", 86400 },
		{ "day", 86400 },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (strcasecmp(unit, units[i].word) == 0)
			return units[i].seconds;
	return 0;
}

/* Values quoted in messages are cut: the reason must still show. */
#define QUOTED "'%.200s'"

int snap_parse_duration(const char *text, int64_t *ms, snap_error *err)
{
	const char *p = text;
	double value;
	double seconds = take_number(&p, &value) < 0 ? 0 : *p ? unit_seconds(p) : 1;
	if (seconds == 0)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad duration " QUOTED ": "
				      "expected a number and a unit ms, s, m, h, d", text);
	double total = value * seconds * 1000.0;
	if (total < 0.5)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad duration " QUOTED ": "
				      "shorter than a millisecond", text);
	if (total > 1e15)
		return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad duration " QUOTED ": "
				      "longer than 10^12 seconds", text);
	*ms = (int64_t)(total + 0.5);
	return SNAP_OK;
}

static int bad_rate(snap_error *err, const char *text, const char *why, const char *part)
{
	char reason[300];
	snprintf(reason, sizeof(reason), why, part);
	return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad rate " QUOTED ": %s", text,
			      reason);
}

int snap_parse_rate(const char *text, bool sizes, double *per_min, snap_error *err)
{
	const char *slash = strchr(text, '/');
	if (!slash || slash == text || slash - text >= 64)
		return bad_rate(err, text, "expected an amount, '/' and a time unit, such "
				"as %s", sizes ? "64K/min or 1M/h" : "10/min or 1/s");
	char amount_text[64];
	memcpy(amount_text, text, (size_t)(slash - text));
	amount_text[slash - text] = '\0';
	double seconds = unit_seconds(slash + 1), amount;
	if (seconds == 0)
		return bad_rate(err, text, "'%.64s' is not a time unit (s, min, h, d)",
				slash + 1);
	if (sizes) {
		int64_t bytes;
		if (snap_parse_size(amount_text, true, &bytes, NULL) < 0)
			return bad_rate(err, text, "'%s' is not a size (such as 64K or +1.5M)",
					amount_text);
		amount = (double)bytes / 1024.0;
	} else {
		const char *p = amount_text;
		double sign = *p == '-' ? -1 : 1;
		if (*p == '+' || *p == '-')
			p++;
		if (take_number(&p, &amount) < 0 || *p)
			return bad_rate(err, text, "'%s' is not a number", amount_text);
		amount *= sign;
	}
	*per_min = amount * 60.0 / seconds;
	return SNAP_OK;
}

/* n digits at *s as a number; advances *s. -1 when they are not digits. */
static int take_digits(const char **s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return v;
}

static bool take_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

static int bad_utc(snap_error *err, const char *text)
{
	return snap_error_set(err, SNAP_EINVAL, NULL, 0, "bad time " QUOTED ": expected "
			      "UTC as 2026-11-22T02:05:53.123Z", text);
}

int snap_parse_utc(const char *text, double *seconds, snap_error *err)
{
	const char *p = text;
	struct tm tm = { 0 };
	int year = take_digits(&p, 4);
	bool ok = year >= 1970 && take_char(&p, '-') &&
		  (tm.tm_mon = take_digits(&p, 2) - 1) >= 0 && take_char(&p, '-') &&
		  (tm.tm_mday = take_digits(&p, 2)) >= 1 && take_char(&p, 'T') &&
		  (tm.tm_hour = take_digits(&p, 2)) >= 0 && take_char(&p, ':') &&
		  (tm.tm_min = take_digits(&p, 2)) >= 0 && take_char(&p, ':') &&
		  (tm.tm_sec = take_digits(&p, 2)) >= 0;
	if (!ok || tm.tm_mon > 11 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return bad_utc(err, text);
	tm.tm_year = year - 1900;
	double fraction = 0, scale = 0.1;
	if (take_char(&p, '.')) {
		if (!isdigit((unsigned char)*p))
			return bad_utc(err, text);
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			fraction += (*p - '0') * scale;
	}
	if (!take_char(&p, 'Z') || *p)
		return bad_utc(err, text);
	*seconds = (double)timegm(&tm) + fraction;
	return SNAP_OK;
}
