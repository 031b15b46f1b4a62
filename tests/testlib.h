/* testlib.h: fixtures shared by the Check suites: temporary folders,
 * files, users files hashed at the cheapest argon2id cost, and a session
 * run over files standing in for the client's socket. */
#ifndef POP3D_TESTLIB_H
#define POP3D_TESTLIB_H

#include <stddef.h>

#include <check.h>

#include "session.h"

/*
 * The file helpers of files.h, failing the test, in the dir/name form
 * the suites use.  A new temporary folder (free() the path; tl_rmrf it).
 */
char	*tl_tmpdir(void);
void	 tl_rmrf(const char *path);
char	*tl_path(const char *dir, const char *name);	/* free() it */
void	 tl_write(const char *dir, const char *name, const void *data,
	    size_t len);
void	 tl_mkdir(const char *dir, const char *name);
char	*tl_read(const char *path, size_t *len);	/* NULL if missing */
int	 tl_exists(const char *dir, const char *name);

/*
 * A journal line (store.c's version 2) naming d/name, a name that needs
 * no escape, in folder sub ('r', 'n' or 'c'), with the identity its file
 * has now, into buf; bump adds 1 to field bump (1 inode, 2 size, 3 mtime,
 * 4 birth), so that the line names another file.
 */
void	 tl_journal_line(char *buf, size_t cap, char sub, const char *d,
	    const char *name, int bump);

/* Appends a users-file line for name/pass hashed at OPSLIMIT_MIN. */
void	 tl_user(const char *users, const char *name, const char *pass,
	    const char *folder);

/*
 * What users_check's gate is told (the memory the users file's costliest
 * hash needs) for a login as name with a password it never verifies:
 * the gate refuses.  0 when the gate was not called.
 */
unsigned long long tl_gate_memory(const char *users, const char *name);

/*
 * Runs session_run with input as the client's bytes and returns what
 * the server wrote (NUL-terminated; free() it).
 */
char	*tl_session(const char *users, const char *mail_root,
	    const char *input, size_t inlen, size_t *outlen,
	    enum session_end *end);

/* The same, with a whole configuration. */
char	*tl_session_cfg(const struct session_cfg *, const char *input,
	    size_t inlen, size_t *outlen, enum session_end *end);

/* The base64 of len bytes (free() it). */
char	*tl_base64(const void *data, size_t len);

/* Runs every test of s in Check's fork mode; the exit status for main. */
int	 tl_run(Suite *s);

#endif
