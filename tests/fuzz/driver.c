/*
 * driver.c: runs a fuzz target without libFuzzer, for AFL++ and for
 * replaying inputs: on stdin, or on each file named (a folder: each file
 * in it, in name order, skipping README* and dot files).  -m lets a named
 * path be missing (a target with no crashes kept yet).  Each input runs
 * in a buffer of its exact size, so that a sanitizer sees an over-read.
 * Built with afl-clang-fast, it uses AFL++'s persistent mode on stdin.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static unsigned long ran;

static void
run(const char *name, const unsigned char *data, size_t len)
{
	unsigned char *copy = malloc(len == 0 ? 1 : len);

	if (copy == NULL) {
		perror("malloc");
		exit(2);
	}
	if (len > 0)
		memcpy(copy, data, len);
	if (strcmp(name, "stdin") != 0)
		fprintf(stderr, "running %s (%zu octets)\n", name, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	ran++;
}

static int
run_fd(const char *name, FILE *f)
{
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				perror("realloc");
				exit(2);
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", name);
		free(buf);
		return -1;
	}
	run(name, buf, len);
	free(buf);
	return 0;
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	int r;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	r = run_fd(path, f);
	fclose(f);
	return r;
}

static int
skip(const struct dirent *de)
{
	return de->d_name[0] != '.' && strncmp(de->d_name, "README", 6) != 0;
}

static int
run_path(const char *path, int may_be_missing)
{
	struct dirent **list;
	struct stat sb;
	char *p;
	int n, r = 0;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && may_be_missing)
			return 0;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return run_file(path);
	if ((n = scandir(path, &list, skip, alphasort)) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (asprintf(&p, "%s/%s", path, list[i]->d_name) == -1) {
			perror("asprintf");
			exit(2);
		}
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    run_file(p) == -1)
			r = -1;
		free(p);
		free(list[i]);
	}
	free(list);
	return r;
}

int
main(int argc, char *argv[])
{
	int may_be_missing = 0, r = 0, i = 1;

	if (argc > 1 && strcmp(argv[1], "-m") == 0) {
		may_be_missing = 1;
		i++;
	}
	if (i == argc) {
#ifdef __AFL_FUZZ_TESTCASE_LEN
		__AFL_INIT();
		unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;

		while (__AFL_LOOP(10000))
			run("stdin", buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
		return 0;
#else
		return run_fd("stdin", stdin) == 0 ? 0 : 2;
#endif
	}
	for (; i < argc; i++)
		if (run_path(argv[i], may_be_missing) == -1)
			r = 2;
	printf("%lu inputs ran clean\n", ran);
	return r;
}
