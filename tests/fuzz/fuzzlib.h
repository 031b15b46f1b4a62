/*
 * fuzzlib.h: what the fuzz targets share.  A fixture of users, mailboxes
 * and canaries in a temporary folder made once per process; a session run
 * over memory files; the checks every session's output must pass; and a
 * watch over the file-system calls and log lines pop3d makes
 * (fuzzwatch.c).  Every broken invariant ends in fz_fail, which aborts,
 * so that libFuzzer, AFL++ and the stdin driver all report it.
 */
#ifndef POP3D_FUZZLIB_H
#define POP3D_FUZZLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "files.h"
#include "session.h"

/* The fuzz entry point, as libFuzzer calls it (driver.c otherwise). */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken invariant on stderr and aborts. */
void	fz_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* The password of every fixture user. */
#define FZ_PASS		"passw0rd"
#define FZ_LOGIN	"USER me\r\nPASS " FZ_PASS "\r\n"

/* The most messages a checked mailbox may hold. */
#define FZ_MSGS_MAX	16

/*
 * A mailbox as the checks know it: each message's CRLF form (computed
 * by oracle_crlf, independently of the store) and its unique id.
 */
struct fz_box {
	size_t		 count;
	const char	*crlf[FZ_MSGS_MAX];
	size_t		 len[FZ_MSGS_MAX];
	const char	*uid[FZ_MSGS_MAX];
};

/*
 * The fixture, made on first use under $FUZZ_TMPDIR, else /dev/shm
 * (tmpfs: fsync is free), else /tmp, and removed at exit:
 *
 *	users		me, md (a Maildir), ro (me's folder, read-only),
 *			hashed at the cheapest argon2id cost; no index
 *			(users.cdb), which pop3d looks for
 *	mail/me/	the messages of fz_fixture_box(), named 1..6, and
 *			what is not mail: .hidden, sub/, a FIFO, a symlink
 *			to the canary
 *	mail/maildir/	the same messages as a Maildir
 *	mail/other/	another user's mailbox (a canary)
 *	canary		a file outside every mailbox
 *	state/ban	where a ban file may go (with its .tmp and .lock)
 */
struct fz_fixture {
	const char	*dir;
	const char	*users;
	const char	*users_index;	/* users.cdb: looked for, never made */
	const char	*root;
	const char	*me;
	const char	*maildir;
	const char	*state;
	const char	*ban;
};
const struct fz_fixture *fz_fixture(void);
const struct fz_box *fz_fixture_box(void);

/*
 * Puts back what a session changed (removed messages) and checks that
 * nothing outside the mailboxes changed.
 */
void	 fz_fixture_reset(void);
void	 fz_check_canaries(void);

/*
 * A temporary folder of the process's own, removed at exit.  The other
 * file helpers are files.h's, whose failures end in fz_fail's abort.
 */
const char *fz_tmpdir(void);

/*
 * Runs session_run with in as the client's bytes, on memory files, with
 * no fail delay; returns what the server wrote (free() it).  The watch
 * is on throughout: pop3d may open or remove only below the paths of
 * allowed (NULL-terminated), and each log line must be printable.
 */
char	*fz_session(const struct session_cfg *, const char *const *allowed,
	    const void *in, size_t inlen, size_t *outlen,
	    enum session_end *end);

/*
 * The checks of a whole session (see fuzzlib.c): the input as pop3d's
 * line reader splits it, against the output reply by reply.  With box,
 * listings, sizes, RETR and TOP are checked against its messages.
 */
void	 fz_check_session(const void *in, size_t inlen, const char *out,
	    size_t outlen, const struct fz_box *box);

/* fuzzwatch.c: the watch over file-system calls and syslog. */
void	 fz_watch_begin(const char *const *allowed);
void	 fz_watch_end(void);
unsigned long fz_watch_logs(void);

/* A growing buffer for building inputs and expected outputs. */
struct fz_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};
void	 fz_put(struct fz_buf *, const void *, size_t);
void	 fz_puts(struct fz_buf *, const char *);
void	 fz_printf(struct fz_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Appends a CRLF text dot-stuffed (oracle.c), then ".\r\n": RETR's body. */
void	 fz_put_stuffed(struct fz_buf *, const char *crlf, size_t len);

/* Compares what pop3d wrote with what it should have; fz_fail on a diff. */
void	 fz_expect(const char *what, const char *want, size_t wantlen,
	    const char *got, size_t gotlen);

#endif
