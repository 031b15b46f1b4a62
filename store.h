/*
 * store.h: one user's mailbox, a plain folder of message files or a
 * Maildir.  It lists messages, sends one in its CRLF form (stream.h),
 * with a byte the caller asks to be doubled where it begins a line and
 * cut at a number of body lines the caller gives, marks them and
 * removes them.  It knows no POP3 command, no user and no password.
 */
#ifndef POP3D_STORE_H
#define POP3D_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
	bool		 deleted;	/* marked, or removed */
	bool		 removed;	/* removed for good by store_remove or
					   store_commit: no mark undoes it */
	bool		 gone;		/* store_send found it changed or missing */
};

/*
 * Opens the mailbox folder dir (never following a symlink at its last
 * component), takes the exclusive session lock (STORE_BUSY when held),
 * finishes the journal of a commit that crashed, and lists the messages
 * once, in a stable order (by name, in version order), at most
 * POP3D_MSGS_MAX of them (store_cut).  A folder that
 * does not exist is an empty mailbox.  With read_only, or when the
 * folder or its lock file may not be written, it is opened read-only:
 * no lock, no journal, and nothing can be removed.  Run as root, it
 * refuses a folder another user owns (STORE_FAIL, errno EPERM), and
 * writes nothing there.
 */
enum store_res	 store_open(struct store **, const char *dir, bool read_only)
		    __attribute__((warn_unused_result));

/*
 * What store_open did with a journal it found, for the caller to log;
 * *removed counts the messages it removed.
 */
enum store_journal store_journal(const struct store *, size_t *removed);

/*
 * How many files the last commit, or store_open's or store_wake's roll
 * forward, could not remove for good (an immutable file: EPERM, or
 * EACCES, EBUSY, ETXTBSY; *error says which, for the last of them).
 * They are left where they are, so no login is refused for them: the
 * rest of the journal is finished, and they are listed again.
 */
size_t		 store_stuck(const struct store *, int *error);

/* Releases the lock and frees the listing; removes nothing. */
void		 store_close(struct store *);

bool		 store_read_only(const struct store *);

/*
 * The mailbox folder, open, for confining the process to it (the store
 * keeps it); -1 when the folder does not exist.
 */
int		 store_dirfd(const struct store *);

size_t		 store_count(const struct store *);

/*
 * Whether the last listing (store_open, store_wake) found more than
 * POP3D_MSGS_MAX messages, and so holds only the first POP3D_MSGS_MAX
 * in its order: the same ones at every listing, until some are removed
 * and the next ones come in.  *found: the messages found.
 */
bool		 store_cut(const struct store *, size_t *found);
/*
 * 0, or the errno with which the last listing failed to keep the ids it
 * must keep in POP3D_UIDLS_NAME (a Maildir twin's digest): until one is
 * kept, deleting the twin that holds the base id would pass that id to
 * the other, which a client that saw it would never fetch.
 */
int		 store_ids_unsaved(const struct store *);
void		 store_info(const struct store *, size_t idx,
		    struct store_info *);
/*
 * The file name of message idx in its folder (a Maildir name whole,
 * with its flags), in buf: for tools that show a listing, never sent.
 */
void		 store_name(const struct store *, size_t idx,
		    char buf[NAME_MAX + 1]);

/*
 * Looks up a unique id, len octets of any bytes, in the listing (never
 * on disk): 0 with *idx, or -1 when no listed message has that id.
 * Deleted messages are found too.  Builds a sorted index on first use.
 */
int		 store_find_uid(struct store *, const char *uid, size_t len,
		    size_t *idx) __attribute__((warn_unused_result));

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
 * blank line and at most body_lines lines of the body.  stuff is a byte
 * (not CR or LF) sent twice where it begins a line, as POP3's
 * dot-stuffing wants ('.'), or -1.  When the message goes whole and its
 * file is known to be exactly what would be sent (CRLF already, no line
 * starting with stuff), put_file, if not NULL, is offered the file
 * instead: put_file(arg, fd, len) sends the next len octets of fd and
 * returns 0, or 1 when it cannot and sent nothing (then put is used),
 * or -1 to stop, fd's offset past what it sent.  *sent counts the
 * octets of the CRLF form sent, without those added by stuff.
 * STORE_OK, or STORE_ABORT when reading or sending failed or the file
 * turned out to differ from its listed size: the stream is then cut and
 * must not be terminated as if complete.
 */
enum store_res	 store_send(struct store *, long body_lines, int stuff,
		    int (*put)(void *, const char *, size_t),
		    int (*put_file)(void *, int, uint64_t), void *arg,
		    uint64_t *sent) __attribute__((warn_unused_result));

/* Marks or unmarks a message for store_commit; a removed one stays. */
void		 store_mark(struct store *, size_t idx, bool deleted);

/*
 * Removes every marked message, all or none: a journal naming them is
 * made durable first, and a failure or crash after that point is
 * finished by the next store_open.  STORE_OK once they are gone and that
 * is durable; STORE_FAIL (errno kept) when nothing was removed and
 * nothing will be; STORE_PENDING (errno kept) when the journal is in
 * place but the removal failed: the next store_open finishes it.  Files that
 * replaced a listed one, and mail delivered since the listing, are never
 * removed.  *removed counts the files this call removed.  Past the commit
 * point the messages are removed for good (store_info), whatever comes
 * after.  An earlier commit of this store left pending is finished first;
 * when that fails, the result is STORE_FAIL.
 */
enum store_res	 store_commit(struct store *, size_t *removed)
		    __attribute__((warn_unused_result));

/*
 * Removes message idx now, alone, all or none as store_commit does;
 * other marks are left as they are.  The results are store_commit's.
 * On STORE_OK and STORE_PENDING the message stays in the listing,
 * deleted and removed, so that no number changes.  A commit that stopped
 * past its commit point is finished by the next commit of the session
 * (before anything else is journaled) or by the next store_open.
 */
enum store_res	 store_remove(struct store *, size_t idx, size_t *removed)
		    __attribute__((warn_unused_result));

/*
 * RFC 2449 s.6.7 EXPIRE: removes every listed message whose file's
 * status last changed (ctime, never earlier than its delivery) before
 * the time before, all or none as store_commit does, and drops the ones
 * removed from the listing.  Only right after store_open, before any
 * number is shown.  The results are store_commit's; on STORE_FAIL the
 * listing is unchanged.
 */
enum store_res	 store_expire(struct store *, time_t before, size_t *removed)
		    __attribute__((warn_unused_result));

/*
 * RFC 2449 s.6.5 LOGIN-DELAY: the time of the last login is kept in the
 * mailbox (POP3D_LOGIN_NAME), read and written only under the lock.
 * Returns 1 when it is less than delay seconds before now (*wait: the
 * seconds left), recording nothing; 0 when it is not, or there is no
 * usable record (none, malformed, or later than now), and now is
 * recorded; -1 on a system error (errno), or when the mailbox has no
 * lock to record under (read-only, or no folder: EROFS).
 */
int		 store_login_delay(struct store *, time_t now, unsigned delay,
		    unsigned *wait) __attribute__((warn_unused_result));

/*
 * SLEE: releases the lock, keeping the folder and the listing for
 * store_wake.  Commit first: marks that store_wake finds are forgotten.
 * Nothing may be opened, marked or committed until store_wake.
 */
void		 store_sleep(struct store *);

/*
 * WAKE: takes the lock again (STORE_BUSY when another session holds
 * it), finishes a crashed commit's journal (store_journal tells), and
 * lists the messages afresh: numbers index the new listing.  *news says
 * whether it holds an id the old one did not have.  STORE_FAIL (errno)
 * on a system error.  On any failure the store is still asleep and may
 * be woken again.
 */
enum store_res	 store_wake(struct store *, bool *news)
		    __attribute__((warn_unused_result));

/* Why a session asking to change a mailbox would get it read-only. */
enum store_ro {
	STORE_RO_NO,		/* it would not: it would lock and change it */
	STORE_RO_FOLDER,	/* the folder, new/ or cur/ is not writable */
	STORE_RO_LOCK		/* the lock file may not be written */
};

enum store_form {
	STORE_FORM_NONE,	/* no folder: an empty mailbox */
	STORE_FORM_PLAIN,	/* a folder of message files */
	STORE_FORM_MAILDIR	/* new/ and cur/ */
};

/*
 * Opens the mailbox as store_open does for a session that asks to
 * change it, but changes nothing on disk: no lock file is made or
 * taken, no journal finished, no size cache written (for pop3d
 * --check).  *ro says whether that session would have been served
 * read-only, and why.  With list, the messages are listed as a
 * read-only session lists them (a journal left unfinished is not
 * applied); without, the listing is empty.  STORE_OK, or STORE_FAIL
 * (errno) where store_open would fail.
 */
enum store_res	 store_peek(struct store **, const char *dir, bool list,
		    enum store_ro *ro) __attribute__((warn_unused_result));

enum store_form	 store_form(const struct store *);

#endif
