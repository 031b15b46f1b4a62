/*
 * store.h: one user's mailbox, a plain folder of message files or a
 * Maildir.  Knows nothing about POP3: it lists messages, sends them with
 * CRLF line endings, marks and removes them.
 */
#ifndef POP3D_STORE_H
#define POP3D_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_res {
	STORE_OK,
	STORE_BUSY,	/* another session holds the mailbox lock */
	STORE_GONE,	/* the message left or changed since the listing */
	STORE_FAIL,	/* a system error before anything was sent; errno */
	STORE_ABORT,	/* failed after output began: the stream is cut */
	STORE_PENDING	/* a commit passed its commit point, then failed:
			   the next store_open finishes it */
};

enum store_journal {
	STORE_JOURNAL_NONE,		/* the last commit had finished */
	STORE_JOURNAL_FINISHED,		/* a crashed commit was rolled forward */
	STORE_JOURNAL_DISCARDED		/* a malformed journal was dropped */
};

struct store_info {
	uint64_t	 size;		/* octets as sent, CRLF, unstuffed */
	const char	*uid;		/* 1..70 octets in 0x21..0x7E */
	bool		 deleted;
	bool		 gone;		/* store_send found it changed or missing */
};

/*
 * Opens the mailbox folder dir (never following a symlink at its last
 * component), takes the exclusive session lock (STORE_BUSY when held),
 * finishes the journal of a commit that crashed, and lists the messages
 * once, in a stable order (by name, in version order).  A folder that
 * does not exist is an empty mailbox.  With read_only, or when the
 * folder or its lock file may not be written, it is opened read-only:
 * no lock, no journal, and nothing can be removed.
 */
enum store_res	 store_open(struct store **, const char *dir, bool read_only)
		    __attribute__((warn_unused_result));

/*
 * What store_open did with a journal it found, for the caller to log;
 * *removed counts the messages it removed.
 */
enum store_journal store_journal(const struct store *, size_t *removed);

/* Releases the lock and frees the listing; removes nothing. */
void		 store_close(struct store *);

bool		 store_read_only(const struct store *);
size_t		 store_count(const struct store *);
void		 store_info(const struct store *, size_t idx,
		    struct store_info *);

/*
 * Opens message idx for store_send: STORE_GONE when its file left or
 * changed since the listing (it is then marked gone), STORE_FAIL on a
 * system error (errno).
 */
enum store_res	 store_open_msg(struct store *, size_t idx)
		    __attribute__((warn_unused_result));

/*
 * Sends the message store_open_msg opened, with CRLF line endings,
 * through put in pieces of any size, then closes it.  put returns 0, or
 * -1 to stop.  body_lines < 0 sends it whole; otherwise the header, the
 * blank line and at most body_lines lines of the body.  *sent counts
 * the octets sent.  STORE_OK, or STORE_ABORT when reading or put failed
 * or the file turned out to differ from its listed size: the stream is
 * then cut and must not be terminated as if complete.
 */
enum store_res	 store_send(struct store *, long body_lines,
		    int (*put)(void *, const char *, size_t), void *arg,
		    uint64_t *sent) __attribute__((warn_unused_result));

void		 store_mark(struct store *, size_t idx, bool deleted);

/*
 * Removes every marked message, all or none: a journal naming them is
 * made durable first, and a failure or crash after that point is
 * finished by the next store_open.  STORE_OK once they are gone and that
 * is durable; STORE_FAIL (errno kept) when nothing was removed and
 * nothing will be; STORE_PENDING (errno kept) when the journal is in
 * place but the removal failed: the next store_open finishes it.  Files that
 * replaced a listed one, and mail delivered since the listing, are never
 * removed.  *removed counts the files this call removed.
 */
enum store_res	 store_commit(struct store *, size_t *removed)
		    __attribute__((warn_unused_result));

#endif
