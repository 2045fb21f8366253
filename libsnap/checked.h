/* Checked arithmetic, in the spirit of libgit2's integer.h
 * (git__add_sizet_overflow and GIT_ERROR_CHECK_ALLOC_ADD): counters come
 * from files anyone can write, so every sum, difference and slope of
 * them, and every size that feeds an allocation, goes through these.
 *
 * Header-only and stateless: libsnap and formats/ both use it (it is not
 * part of the installed API).
 *
 * Counter sums saturate: a loaded counter is at most SNAP_COUNTER_MAX
 * (2^52 kB), so only a crafted snapshot (overlapping regions, thousands
 * of absurd counters) can reach the limits, and a total pinned at
 * INT64_MAX still compares as "huge" in every report and gate, where a
 * wrapped one would read as a small or negative number. Size arithmetic
 * reports the overflow instead: the caller fails with SNAP_ENOMEM. */
#ifndef SNAP_CHECKED_H
#define SNAP_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a + b into *out. True when it overflowed; *out is then the limit on
 * that side (INT64_MAX or INT64_MIN). */
static inline bool ck_add_i64(int64_t *out, int64_t a, int64_t b)
{
	if (!__builtin_add_overflow(a, b, out))
		return false;
	*out = b > 0 ? INT64_MAX : INT64_MIN;
	return true;
}

/* a - b into *out, as ck_add_i64. */
static inline bool ck_sub_i64(int64_t *out, int64_t a, int64_t b)
{
	if (!__builtin_sub_overflow(a, b, out))
		return false;
	*out = b < 0 ? INT64_MAX : INT64_MIN;
	return true;
}

/* a + b into *out; UINT64_MAX when it overflowed (then true). */
static inline bool ck_add_u64(uint64_t *out, uint64_t a, uint64_t b)
{
	if (!__builtin_add_overflow(a, b, out))
		return false;
	*out = UINT64_MAX;
	return true;
}

/* The saturating forms, for running totals of counters. */
static inline int64_t ck_sat_add(int64_t a, int64_t b)
{
	int64_t r;
	ck_add_i64(&r, a, b);
	return r;
}

static inline int64_t ck_sat_sub(int64_t a, int64_t b)
{
	int64_t r;
	ck_sub_i64(&r, a, b);
	return r;
}

static inline uint64_t ck_sat_add_u64(uint64_t a, uint64_t b)
{
	uint64_t r;
	ck_add_u64(&r, a, b);
	return r;
}

/* Sizes that feed an allocation: true on overflow (*out undefined). */
static inline bool ck_add_size(size_t *out, size_t a, size_t b)
{
	return __builtin_add_overflow(a, b, out);
}

static inline bool ck_mul_size(size_t *out, size_t a, size_t b)
{
	return __builtin_mul_overflow(a, b, out);
}

/* Bytes for n + extra elements of elem bytes each: true on overflow. */
static inline bool ck_array_size(size_t *out, size_t n, size_t extra, size_t elem)
{
	size_t count;
	return ck_add_size(&count, n, extra) || ck_mul_size(out, count, elem);
}

/* In a function returning int: return SNAP_ENOMEM when the size
 * computation overflows (libgit2's GIT_ERROR_CHECK_ALLOC_ADD). */
#define CK_SIZE_ADD(out, a, b)                                            \
	do {                                                              \
		if (ck_add_size(out, a, b))                               \
			return SNAP_ENOMEM;                               \
	} while (0)
#define CK_SIZE_MUL(out, a, b)                                            \
	do {                                                              \
		if (ck_mul_size(out, a, b))                               \
			return SNAP_ENOMEM;                               \
	} while (0)
#define CK_ARRAY_SIZE(out, n, extra, elem)                                \
	do {                                                              \
		if (ck_array_size(out, n, extra, elem))                   \
			return SNAP_ENOMEM;                               \
	} while (0)

#endif
