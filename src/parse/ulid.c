/*
 * ulid.c — ULIDs, the registry-wide ids of iterations (SPEC §2, by-id/):
 * 48 bits of milliseconds and 80 bits of randomness, written as 26
 * characters of Crockford's base32, so that ids sort by creation time.
 *
 * The randomness comes from the caller, which keeps this module pure and
 * its output reproducible in tests.
 */
#include <stdbool.h>
#include <string.h>

#include "lineage/parse.h"

static const char lin_b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/*
 * The 128 bits are written as 130: the first character carries only the
 * top 3 bits of a 5-bit digit (so it is at most '7').  Each character is
 * picked from the big-endian bytes by its bit position.
 */
void
lin_ulid_format(int64_t ms, const unsigned char rnd[10],
    char out[LIN_ULID_LEN + 1])
{
	unsigned char b[16];
	uint64_t t = ms < 0 ? 0 : (uint64_t)ms & 0xffffffffffffULL;
	int i, k, bit, v;

	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(t >> (8 * (5 - i)));
	memcpy(b + 6, rnd, 10);
	for (i = 0; i < LIN_ULID_LEN; i++) {
		/* Bit offset of this digit in the 130-bit number, minus
		 * the two leading zero bits. */
		bit = i * 5 - 2;
		v = 0;
		for (k = 0; k < 5; k++, bit++) {
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = lin_b32[v];
	}
	out[LIN_ULID_LEN] = '\0';
}

bool
lin_ulid_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != LIN_ULID_LEN)
		return false;
	if (s[0] < '0' || s[0] > '7')
		return false;	/* more than 128 bits */
	for (i = 0; i < LIN_ULID_LEN; i++)
		if (s[i] == '\0' || strchr(lin_b32, s[i]) == NULL)
			return false;
	return true;
}
