#include <stdio.h>
#include <string.h>

#include "snap.h"

int snap_error_set(snap_error *err, int code, const char *source, long line,
		   const char *fmt, ...)
{
	if (!err)
		return code;
	snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

const char *snap_error_format(const snap_error *err, char *buf, size_t size)
{
	if (err->source[0] && err->line > 0)
		snprintf(buf, size, "%s:%ld: %s", err->source, err->line,
			 err->message);
	else if (err->source[0])
		snprintf(buf, size, "%s: %s", err->source, err->message);
	else
		snprintf(buf, size, "%s", err->message);
	return buf;
}

const char *snap_strerror(int code)
{
	switch (code) {
	case SNAP_OK: return "success";
	case SNAP_ENOMEM: return "out of memory";
	case SNAP_EIO: return "input/output error";
	case SNAP_EFORMAT: return "bad format";
	case SNAP_ENOPROC: return "no such process";
	case SNAP_EPERM: return "permission denied";
	case SNAP_EINVAL: return "invalid argument";
	case SNAP_EEXIST: return "file exists";
	case SNAP_ETRUNC: return "truncated input";
	case SNAP_ECHANGED: return "process changed during the capture";
	}
	return "unknown error";
}
