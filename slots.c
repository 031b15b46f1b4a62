/*
 * slots.c: the host-wide pools of login and AUTHORIZATION slots (see
 * slots.h): files in the runtime folder, each held with flock(2).
 * Reads nothing from the folder and trusts nothing in it: a slot file
 * is opened without following a link and without blocking, and only
 * ever locked.  Logs nothing; its callers say what happened.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "params.h"
#include "slots.h"

void
slots_init(struct slots *sl, const char *dir)
{
	memset(sl, 0, sizeof(*sl));
	sl->dir = dir;
	sl->memory = (uint64_t)POP3D_AUTH_MEMORY_MIB << 20;
	sl->wait_ms = POP3D_LOGIN_WAIT_MS;
	sl->start = POP3D_STARTUPS_START;
	sl->rate = POP3D_STARTUPS_RATE;
	sl->full = POP3D_STARTUPS_FULL;
	sl->auth_fd = -1;
	sl->login_fd = -1;
}

/* A decimal number of at most 9 digits up to *end; -1 if none. */
static long
number(const char *s, char **end)
{
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, end, 10);
	if (errno != 0 || *end - s > 9)
		return -1;
	return v;
}

int
slots_parse_startups(struct slots *sl, const char *text)
{
	long start, rate, full;
	char *end;

	if ((start = number(text, &end)) == -1 || *end != ':' ||
	    (rate = number(end + 1, &end)) == -1 || *end != ':' ||
	    (full = number(end + 1, &end)) == -1 || *end != '\0')
		return -1;
	if (start >= full || full > POP3D_STARTUPS_MAX || rate > 100)
		return -1;
	sl->start = (unsigned)start;
	sl->rate = (unsigned)rate;
	sl->full = (unsigned)full;
	return 0;
}

unsigned
slots_drop_chance(const struct slots *sl, unsigned ahead)
{
	if (ahead < sl->start)
		return 0;
	if (ahead >= sl->full)
		return 100;
	return sl->rate + (100 - sl->rate) * (ahead - sl->start) /
	    (sl->full - sl->start);
}

static void
close_kept(int fd)
{
	int saved = errno;

	if (fd != -1)
		close(fd);
	errno = saved;
}

/*
 * Opens slot file "<pool>.<k>" in the folder open on dirfd, making it
 * when missing.  O_NONBLOCK: whatever sits at the name, the open never
 * waits.
 */
static int
open_slot(int dirfd, const char *pool, unsigned k)
{
	char name[32];

	snprintf(name, sizeof(name), "%s.%u", pool, k);
	return openat(dirfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
}

/* Whether fd's slot was free and is now held; -1 (errno) on an error. */
static int
try_hold(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	return errno == EWOULDBLOCK ? 0 : -1;
}

/*
 * Holds the lowest free slot of pool among the first n: its fd in
 * *held and its index in *k (n, and *held -1, when all are held).  0,
 * or -1 (errno) on an error, holding nothing.
 */
static int
hold_lowest(const char *dir, const char *pool, unsigned n, unsigned *k,
    int *held)
{
	int dirfd, fd, r = 0;

	*held = -1;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (*k = 0; *k < n; (*k)++) {
		if ((fd = open_slot(dirfd, pool, *k)) == -1) {
			r = -1;
			break;
		}
		if ((r = try_hold(fd)) == 1) {
			*held = fd;
			break;
		}
		close_kept(fd);
		if (r == -1)
			break;
	}
	close_kept(dirfd);
	return r == -1 ? -1 : 0;
}

enum slots_res
slots_arrive(struct slots *sl, unsigned *ahead)
{
	unsigned chance;
	int fd;

	*ahead = 0;
	if (sl->dir == NULL)
		return SLOTS_OK;
	if (hold_lowest(sl->dir, "auth", sl->full, ahead, &fd) == -1)
		return SLOTS_FAIL;
	chance = slots_drop_chance(sl, *ahead);
	if (chance > 0 && randombytes_uniform(100) < chance) {
		close_kept(fd);
		return SLOTS_BUSY;
	}
	sl->auth_fd = fd;
	return SLOTS_OK;
}

void
slots_authorized(struct slots *sl)
{
	close_kept(sl->auth_fd);
	sl->auth_fd = -1;
}

int
slots_unauthorized(struct slots *sl)
{
	unsigned ahead;
	int fd;

	if (sl->dir == NULL || sl->auth_fd != -1)
		return 0;
	if (hold_lowest(sl->dir, "auth", sl->full, &ahead, &fd) == -1)
		return -1;
	sl->auth_fd = fd;
	return 0;
}

unsigned
slots_login_count(const struct slots *sl, uint64_t hash_mem)
{
	uint64_t n = sl->login_slots;

	if (n == 0)
		n = hash_mem == 0 ? POP3D_LOGIN_SLOTS_MAX :
		    sl->memory / hash_mem;
	if (n < 1)
		n = 1;
	return n > POP3D_LOGIN_SLOTS_MAX ? POP3D_LOGIN_SLOTS_MAX :
	    (unsigned)n;
}

/* Opens the n login slot files into fds; 0, or -1 (errno). */
static int
open_logins(const char *dir, unsigned n, int *fds)
{
	unsigned k;
	int dirfd;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (k = 0; k < n; k++)
		if ((fds[k] = open_slot(dirfd, "login", k)) == -1)
			break;
	close_kept(dirfd);
	if (k == n)
		return 0;
	while (k-- > 0)
		close(fds[k]);
	return -1;
}

/*
 * Holds one of the n open slots: its index, -1 when none is free, -2 on
 * an error (errno).
 */
static int
hold_any(const int *fds, unsigned n)
{
	unsigned k;
	int r;

	for (k = 0; k < n; k++)
		if ((r = try_hold(fds[k])) != 0)
			return r == 1 ? (int)k : -2;
	return -1;
}

enum slots_res
slots_login_take(struct slots *sl, unsigned n, unsigned *waited_ms)
{
	int fds[POP3D_LOGIN_SLOTS_MAX], got;
	enum slots_res res = SLOTS_BUSY;
	unsigned k, pause;

	*waited_ms = 0;
	if (sl->dir == NULL)
		return SLOTS_OK;
	if (n > POP3D_LOGIN_SLOTS_MAX)
		n = POP3D_LOGIN_SLOTS_MAX;	/* NEVER: slots_login_count */
	if (open_logins(sl->dir, n, fds) == -1)
		return SLOTS_FAIL;
	/*
	 * Polled, with a random pause: flock(2) has no timeout, and a
	 * pause of its own for each waiter keeps them from trying in step.
	 * Held slots are checked without blocking, so a try costs n cheap
	 * calls, and the wait is the sum of the pauses.
	 */
	while ((got = hold_any(fds, n)) == -1 && *waited_ms < sl->wait_ms) {
		pause = POP3D_LOGIN_POLL_MS / 2 +
		    randombytes_uniform(POP3D_LOGIN_POLL_MS);
		if (pause > sl->wait_ms - *waited_ms)
			pause = sl->wait_ms - *waited_ms;
		poll(NULL, 0, (int)pause);
		*waited_ms += pause;
	}
	if (got >= 0) {
		sl->login_fd = fds[got];
		res = SLOTS_OK;
	} else if (got == -2)
		res = SLOTS_FAIL;
	for (k = 0; k < n; k++)
		if ((int)k != got)
			close_kept(fds[k]);
	return res;
}

void
slots_login_done(struct slots *sl)
{
	close_kept(sl->login_fd);
	sl->login_fd = -1;
}
