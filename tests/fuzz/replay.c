/*
 * replay.c — runs a libFuzzer target without libFuzzer: every file named
 * on the command line, or found directly inside a directory named there,
 * is fed once to LLVMFuzzerTestOneInput.  This lets any compiler (and CI)
 * replay the corpus and every crash ever found as a plain regression test.
 */
#include <dirent.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static void
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL, *exact;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		err(1, "%s", path);
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				err(1, "realloc");
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		err(1, "%s", path);
	fclose(f);
	/* An exact-size copy, so that reads past the end are caught. */
	if ((exact = malloc(len > 0 ? len : 1)) == NULL)
		err(1, "malloc");
	if (len > 0)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
}

static int
replay_dir(const char *dir)
{
	struct dirent **ents;
	struct stat st;
	char path[4096];
	int n, i, count = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		err(1, "%s", dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(path);
			count++;
		}
		free(ents[i]);
	}
	free(ents);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, count = 0;

	if (argc < 2)
		errx(2, "usage: %s CORPUS-DIR-OR-FILE...", argv[0]);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0)
			err(1, "%s", argv[i]);
		if (S_ISDIR(st.st_mode))
			count += replay_dir(argv[i]);
		else {
			replay_file(argv[i]);
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	return count > 0 ? 0 : 1;
}
