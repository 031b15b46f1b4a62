/*
 * files.h: the file helpers the Check suites (testlib.c) and the fuzz
 * targets (fuzzlib.c) share: temporary folders, paths, whole files and
 * users files.  A step that fails calls files_fail, which each of those
 * libraries defines its own way (a Check failure, an abort).
 */
#ifndef POP3D_FILES_H
#define POP3D_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Defined by the test library linked with files.c; never returns. */
void	 files_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* A new folder base/prefix.XXXXXX, by its real path (free() it). */
char	*files_tmpdir(const char *base, const char *prefix);

/* Removes path and all below it, following no link; ignores failures. */
void	 files_rmrf(const char *path);

char	*files_join(const char *dir, const char *name);	/* free() it */
void	 files_mkdir(const char *path);		/* fails if it exists */

/* Makes or truncates path (mode 0600) to hold len bytes of data. */
void	 files_write(const char *path, const void *data, size_t len);

/*
 * The whole file, NUL-terminated (free() it), its length in *len; NULL
 * when it cannot be opened.
 */
char	*files_read(const char *path, size_t *len);

/*
 * Appends to the users file users a line for name with password pass,
 * hashed at argon2id's cheapest cost (OPSLIMIT_MIN, MEMLIMIT_MIN) so
 * that tests stay fast; folder NULL or "" means the default folder.
 */
void	 files_user(const char *users, const char *name, const char *pass,
	    const char *folder, bool read_only);

#endif
