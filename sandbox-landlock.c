/*
 * sandbox-landlock.c: sandbox_dirs and sandbox_level on Linux with
 * Landlock, through raw system calls so that old C libraries and kernel
 * headers do.  meson.build builds it when the headers have Landlock's
 * system call numbers and <linux/landlock.h>; sandbox-none.c otherwise.
 * Trusts nothing in the mailbox: a rule follows an open folder.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/*
 * Rights of later ABIs than the kernel headers may know (Debian 12's
 * stop at ABI 2).  The values are the kernel's UAPI, fixed for good.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)	/* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif

/*
 * Builds with AddressSanitizer (tests only, never shipped): at exit
 * LeakSanitizer reads /proc/PID/task and /proc/PID/maps, so /proc stays
 * readable there, or every leak check of a confined session would fail.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_PROC	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SANITIZER_PROC	1
#endif
#endif

/* Every file-system right of ABI 1, EXECUTE through MAKE_SYM. */
#define FS_ABI1		((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)

/*
 * struct landlock_ruleset_attr as ABI 6 has it; older headers have only
 * its first field.  The kernel is told the size its ABI knows, so it
 * never sees a field it would refuse (E2BIG).
 */
struct ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

static int
landlock_version(void)
{
	return (int)syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
}

int
sandbox_level(void)
{
	int abi = landlock_version();

	return abi < 0 ? 0 : abi;
}

/*
 * Every file-system right the ABI knows is handled, that is denied
 * unless a rule grants it.  Only rights this file names are: a right of
 * a later ABI is left alone, as pop3d cannot know what it would break
 * (syslog may have to connect again to /dev/log, say).
 */
static uint64_t
fs_handled(int abi)
{
	uint64_t fs = FS_ABI1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/*
 * What the store does below the folder: list it, read messages, and for
 * a commit write .pop3d.journal.tmp (O_TRUNC), rename it within the
 * folder (which needs no REFER) and remove files.  No folder is made or
 * removed, nothing is executed, and no link, device, FIFO or socket is
 * made.  SANDBOX_READ_FILES: files may be read, and that is all.
 */
static uint64_t
fs_allowed(int abi, enum sandbox_use use)
{
	uint64_t fs = LANDLOCK_ACCESS_FS_READ_FILE;

	if (use != SANDBOX_READ_FILES)
		fs |= LANDLOCK_ACCESS_FS_READ_DIR;
	if (use == SANDBOX_WRITE)
		fs |= LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_MAKE_REG |
		    LANDLOCK_ACCESS_FS_REMOVE_FILE |
		    LANDLOCK_ACCESS_FS_TRUNCATE;
	return fs & fs_handled(abi);
}

static int
add_rule(int rfd, int dirfd, uint64_t allowed)
{
	struct landlock_path_beneath_attr rule;

	memset(&rule, 0, sizeof(rule));
	rule.allowed_access = allowed;
	rule.parent_fd = dirfd;
	return (int)syscall(__NR_landlock_add_rule, rfd,
	    LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
}

static int
confine(const struct sandbox_dir *dirs, size_t n, int abi)
{
	struct ruleset_attr attr;
	size_t size = sizeof(attr.handled_access_fs);
	int rfd, saved;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_handled(abi);
	if (abi >= 4) {
		/* After login pop3d neither listens nor connects. */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = offsetof(struct ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* /dev/log has a path: syslog is not an abstract socket. */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
		    LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	rfd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (rfd == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_rule(rfd, dirs[i].fd, fs_allowed(abi, dirs[i].use)) ==
		    -1)
			goto fail;
#ifdef SANITIZER_PROC
	{
		int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (proc == -1)
			goto fail;
		if (add_rule(rfd, proc, LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_READ_DIR) == -1) {
			saved = errno;
			close(proc);
			errno = saved;
			goto fail;
		}
		close(proc);
	}
#endif
	if (syscall(__NR_landlock_restrict_self, rfd, 0) == -1)
		goto fail;
	close(rfd);
	return 0;
fail:
	saved = errno;
	close(rfd);
	errno = saved;
	return -1;
}

int
sandbox_dirs(const struct sandbox_dir *dirs, size_t n)
{
	static bool noted;
	int abi;

	/* Landlock needs it; no set-id program may gain rights either. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	/* syslog(3) stamps local time: load the zone while it can be read. */
	tzset();
	/*
	 * The kernel has no Landlock (ENOSYS), has it switched off
	 * (EOPNOTSUPP), or a system call filter denies the call (EPERM: a
	 * systemd older than Landlock ignores the unit's names for it).
	 */
	if ((abi = landlock_version()) < 0) {
		if (errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM)
			return -1;
		if (!noted)
			log_msg(LOG_WARNING, "sandbox result=unavailable "
			    "reason=%s", errno == ENOSYS ? "no-landlock" :
			    errno == EOPNOTSUPP ? "landlock-disabled" :
			    "landlock-filtered");
		noted = true;
		return 0;
	}
	if (abi == 0) {
		errno = EINVAL;	/* NEVER: Landlock's ABIs start at 1 */
		return -1;
	}
	return confine(dirs, n, abi);
}
