/*
 * sandbox.h: the confinement of a session once its user is known: the
 * process keeps its open files, and of the file system it can reach
 * only that user's mailbox folder.  Every OS-specific line is in
 * sandbox-landlock.c or sandbox-none.c, whichever meson.build picks.
 */
#ifndef POP3D_SANDBOX_H
#define POP3D_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* What a confined process may do below a folder. */
enum sandbox_use {
	SANDBOX_READ_FILES,	/* read files, and nothing else */
	SANDBOX_READ,		/* read files and list folders */
	SANDBOX_WRITE		/* also make, write, truncate, rename within
				   a folder and remove files */
};

struct sandbox_dir {
	int			fd;	/* the folder, open (O_PATH will do) */
	enum sandbox_use	use;
};

/*
 * Confines the process for good to the mailbox folder open on dirfd (or
 * to nothing at all when dirfd is -1: a mailbox without a folder): below
 * it, files may be read and folders listed; unless read_only, files may
 * also be made, written, truncated, renamed within a folder and removed.
 * Nothing else on the file system can be opened, made or removed, not
 * even through a symbolic link inside the folder; where the kernel can
 * say so, no TCP socket can be bound or connected, no abstract Unix
 * socket outside the process reached and no signal sent outside it.
 * Files open already (the lock, syslog's socket, the client) stay
 * usable.  No-new-privileges is set in every case.
 *
 * Returns 0 once confined, and 0 when this kernel has no such
 * confinement (Linux without Landlock, another OS: that is logged once).
 * Returns -1 (errno kept) when it has one and confining failed: the
 * caller must then not serve the mailbox.
 */
int	sandbox_mailbox(int dirfd, bool read_only)
	    __attribute__((warn_unused_result));

/*
 * The same confinement, below each of n folders with its own use (n may
 * be 0: nothing at all).  sandbox_mailbox is this with the one mailbox
 * folder.  The folders' descriptors may be closed afterwards.
 */
int	sandbox_dirs(const struct sandbox_dir *dirs, size_t n)
	    __attribute__((warn_unused_result));

/*
 * The folders every login needs, for a session that may log in again as
 * someone else (QAUT, pop3d --qaut).
 */
struct sandbox_paths {
	const char	*mail_root;	/* where mailboxes are by default */
	const char	*users;		/* the users file */
	const char	*ban;		/* the failure-state file, or NULL */
	const char	*slots;		/* the slots' folder, or NULL */
};

/*
 * Confines the process for good so that any user's login may follow:
 * the mail root may be written as a mailbox may, the users file's
 * folder only read (pop3d-passwd replaces the file, so a rule on the
 * file alone would not outlast its next change), the failure-state
 * file's folder and the slots' folder written, and the mailbox open on
 * dirfd (which may lie elsewhere) used as sandbox_mailbox would.  A
 * folder that does not exist is left out.  Everything else is as
 * sandbox_mailbox: a later login to a mailbox outside all of these
 * cannot open it.
 */
int	sandbox_logins(const struct sandbox_paths *p, int dirfd,
	    bool read_only) __attribute__((warn_unused_result));

/*
 * The confinement this kernel offers: the Landlock ABI version on Linux
 * (1 or more), 0 when there is none.  For logs and tests.
 */
int	sandbox_level(void);

#endif
