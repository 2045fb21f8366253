#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_BLOCK (64 * 1024)

struct block {
	struct block *next;
	size_t size, used;
	max_align_t data[];
};

struct snap_arena {
	struct block *head;
};

snap_arena *arena_new(void)
{
	return calloc(1, sizeof(snap_arena));
}

void arena_free(snap_arena *a)
{
	if (!a)
		return;
	struct block *b = a->head;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

void arena_reset(snap_arena *a)
{
	struct block *keep = NULL;
	struct block *b = a->head;
	while (b) {
		struct block *next = b->next;
		if (!next) {
			keep = b;
		} else {
			free(b);
		}
		b = next;
	}
	if (keep)
		keep->used = 0;
	a->head = keep;
}

void *arena_alloc(snap_arena *a, size_t size)
{
	if (ck_add_size(&size, size, 7))
		return NULL;
	size &= ~(size_t)7;
	struct block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK, bytes;
		struct block *nb = ck_add_size(&bytes, sizeof(*nb), cap) ? NULL
				   : malloc(bytes);
		if (!nb)
			return NULL;
		nb->size = cap;
		nb->used = 0;
		if (b && size > ARENA_BLOCK / 4) {
			/* A big one-off goes behind the current block so the
			 * current block's free space is not abandoned. */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(snap_arena *a, const char *s, size_t n)
{
	char *p = n == SIZE_MAX ? NULL : arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
