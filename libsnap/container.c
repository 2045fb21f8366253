/* Which container a process runs in, from its cgroup path: container
 * engines name the cgroup after the container (docker-ID.scope,
 * /docker/ID, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope,
 * /kubepods/.../ID, lxc.payload.NAME). */
#include <string.h>

#include "internal.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A run of 64 hex digits starting at s, ended by '.', '/' or the end. */
static bool container_hash_at(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!is_hex(s[i]))
			return false;
	return s[64] == '\0' || s[64] == '.' || s[64] == '/';
}

static size_t put(char *buf, size_t size, const char *s, size_t n)
{
	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return n;
}

size_t snap_container_id(char *buf, size_t size, const char *cgroup)
{
	/* The last component that holds a container hash wins: a pod's
	 * cgroup holds the pod's id above the container's. */
	const char *found = NULL;
	for (const char *s = cgroup; *s; s++)
		if ((s == cgroup || !is_hex(s[-1])) && container_hash_at(s))
			found = s;
	if (found)
		return put(buf, size, found, 64);
	const char *lxc = strstr(cgroup, "lxc.payload.");
	if (lxc) {
		lxc += strlen("lxc.payload.");
		return put(buf, size, lxc, strcspn(lxc, "/"));
	}
	return put(buf, size, "", 0);
}
