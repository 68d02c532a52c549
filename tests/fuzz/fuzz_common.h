/*
 * fuzz_common.h — what the libFuzzer targets share: the entry point's
 * prototype, a NUL-terminated copy of the input, and a check that stops
 * the run loudly when a parser breaks one of its own promises.
 */
#ifndef LINEAGE_FUZZ_COMMON_H
#define LINEAGE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A crash, not an assert(): it must fire in release builds too. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: broken promise: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The input as a C string (cut at its first NUL, as a C caller would). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
