/* The library's version at run time. */
#include "internal.h"

const char *snap_version(void)
{
	return SNAP_VERSION_STRING;
}

int opts_version_check(unsigned int version, unsigned int known,
		       const char *type, snap_error *err)
{
	if (version == known)
		return SNAP_OK;
	return snap_error_set(err, SNAP_EINVAL, type, 0, "version %u, this "
			      "library (%s) knows version %u (call %s_init)",
			      version, SNAP_VERSION_STRING, known, type);
}
