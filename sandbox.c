/*
 * sandbox.c: confines a logged-in session to its mailbox folder (see
 * sandbox.h): which folders a confinement names, and with what use.
 * How it is done is the system's: sandbox-landlock.c (Landlock on
 * Linux) or sandbox-none.c, as meson.build finds; every operating-system
 * #ifdef of pop3d lives in these three files (gmid's sandbox.c).
 * Trusts nothing in the mailbox: a rule follows the open folder, never a
 * path that could be swapped since it was opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef O_PATH
#define O_PATH	O_RDONLY	/* a system without it: an open to name it */
#endif

int
sandbox_mailbox(int dirfd, bool read_only)
{
	struct sandbox_dir d = { dirfd, read_only ? SANDBOX_READ :
	    SANDBOX_WRITE };

	return sandbox_dirs(&d, dirfd == -1 ? 0 : 1);
}

/* Opens path's folder to name it in a rule; -1 (errno) if it can't. */
static int
open_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	n = slash == path ? 1 : (size_t)(slash - path);	/* "/file": "/" */
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Adds path (or its folder) to d[*n]; a folder not there is left out. */
static int
add_dir(struct sandbox_dir *d, size_t *n, const char *path, bool parent,
    enum sandbox_use use)
{
	int fd = parent ? open_parent(path) :
	    open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	d[*n].fd = fd;
	d[(*n)++].use = use;
	return 0;
}

int
sandbox_logins(const struct sandbox_paths *p, int dirfd, bool read_only)
{
	struct sandbox_dir d[5];
	size_t n = 0;
	int rc = -1, saved;

	if (add_dir(d, &n, p->mail_root, false, SANDBOX_WRITE) == -1 ||
	    add_dir(d, &n, p->users, true, SANDBOX_READ_FILES) == -1 ||
	    (p->ban != NULL &&
	    add_dir(d, &n, p->ban, true, SANDBOX_WRITE) == -1) ||
	    (p->slots != NULL &&
	    add_dir(d, &n, p->slots, false, SANDBOX_WRITE) == -1))
		goto out;
	/* Last, as it is the store's to close. */
	if (dirfd != -1) {
		d[n].fd = dirfd;
		d[n].use = read_only ? SANDBOX_READ : SANDBOX_WRITE;
	}
	rc = sandbox_dirs(d, n + (dirfd != -1));
out:
	saved = errno;
	for (size_t i = 0; i < n; i++)
		close(d[i].fd);
	errno = saved;
	return rc;
}

