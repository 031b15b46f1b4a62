/*
 * sandbox.h: the confinement of a session once its user is known: the
 * process keeps its open files, and of the file system it can reach
 * only that user's mailbox folder.  Every OS-specific line is in
 * sandbox.c.
 */
#ifndef POP3D_SANDBOX_H
#define POP3D_SANDBOX_H

#include <stdbool.h>

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
 * The confinement this kernel offers: the Landlock ABI version on Linux
 * (1 or more), 0 when there is none.  For logs and tests.
 */
int	sandbox_level(void);

#endif
