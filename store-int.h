/*
 * store-int.h: what the store's own files share, and no one else may
 * include: store.c (the mailbox's lifetime, lock, sending, marks and
 * commits), listing.c (making the listing) and msg.c (a listed
 * message's name, id, order and identity).  The session and the tests
 * use store.h.
 */
#ifndef POP3D_STORE_INT_H
#define POP3D_STORE_INT_H

#include <sys/stat.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "store.h"
#include "stream.h"

/* The folders of a mailbox: a plain folder, or a Maildir's new/ and cur/. */
enum { SUB_ROOT, SUB_NEW, SUB_CUR, SUB_COUNT };

/*
 * A listed message.  Kept to 40 octets, since mailboxes hold hundreds of
 * thousands: the name lives in st->names (see msg_base), the id is the
 * name's or a digest kept after it, and the identity is what msg_same_file
 * compares.
 */
struct msg {
	uint64_t	 size;		/* octets of the CRLF form */
	uint64_t	 ino;		/* identity at listing time: inode, */
	int64_t		 fsize;		/* the file's size, */
	int64_t		 mtime;		/* its mtime (journal_nsec) */
	uint32_t	 name;		/* offset in st->names */
	unsigned	 sub:2;		/* which folder: SUB_* */
	bool		 deleted:1;
	bool		 removed:1;	/* past a commit point: gone for good */
	bool		 sel:1;		/* chosen for the commit under way */
	bool		 gone:1;	/* found changed or missing */
	bool		 colon:1;	/* Maildir: the name's first ':' is kept
					   as a NUL, so the base stands alone */
	bool		 digest:1;	/* the id is a digest, kept after the name */
	bool		 dots:1;	/* a line of the CRLF form starts with '.' */
	bool		 unchecked:1;	/* identity from the cache, not a stat */
	bool		 used:1;	/* while listing: found in the folder */
	bool		 imported:1;	/* the id is the old server's
					   (imported.c) */
	bool		 twin:1;	/* a digest id to keep: a Maildir
					   twin's (msg_dedupe_uids), or one
					   that lost an imported id (settle) */
	bool		 linked:1;	/* in cur/, and new/ holds this file
					   under its base too (msg_fold_links) */
};

/*
 * One mailbox.  What lasts from store_open to store_close; what is only
 * needed while a listing is made is listing.c's (struct lister).
 */
struct store {
	char		*path;		/* the folder, to open when it appears */
	int		 dirfd;
	int		 subfd[SUB_COUNT];	/* -1 where absent */
	int		 lockfd;
	int		 msgfd;		/* from store_open_msg */
	size_t		 msgidx;
	bool		 read_only;	/* no lock, no journal, no removal */
	bool		 ro_asked;	/* read-only by the caller's wish */
	bool		 asleep;	/* store_sleep: no lock, no access */
	bool		 pending;	/* a commit stopped past its commit
					   point: its journal is still there */
	enum store_journal journal;	/* what store_open found */
	size_t		 journal_removed;
	size_t		 stuck;		/* files the last commit or roll
					   forward could not remove */
	int		 stuck_errno;	/* why, for the last of them */
	struct msg	*msgs;
	size_t		 count;
	size_t		 cap;
	char		*names;		/* every msg's name and digest id */
	size_t		 names_len;
	size_t		 names_cap;
	uint32_t	*byuid;		/* msgs sorted by uid, built on demand */
	bool		 byuid_failed;	/* no memory for it: scan instead */
	bool		 uidls_stale;	/* POP3D_UIDLS_NAME has an entry
					   that named no listed file */
	int		 ids_unsaved;	/* errno of the last listing's
					   failed imported_record, or 0 */
	bool		 cut;		/* the listing holds only the first
					   POP3D_MSGS_MAX (store_cut) */
	size_t		 found;		/* the messages the folders held,
					   when a cut was looked for */
	char		 rbuf[STREAM_RBUF_SIZE];	/* for stream_file */
	char		 obuf[POP3D_OUTCHUNK];
};

/*
 * Names.  st->names holds, for each msg, its name and a NUL; for a
 * Maildir name with a ':' (colon), the ':' is a NUL too, so the base
 * before it (what orders the listing and usually is the id) stands
 * alone; then, when the id is a digest, the id and a NUL.
 */
static inline const char *
msg_base(const struct store *st, const struct msg *m)
{
	return st->names + m->name;
}

/* The whole name, in buf when it must be put together. */
const char	*msg_name(const struct store *, const struct msg *,
		    char buf[NAME_MAX + 1]);
/* The whole name, always in buf. */
void		 msg_name_in(const struct store *, const struct msg *,
		    char buf[NAME_MAX + 1]);
/* The id of m; msg_uid_in: of m whose name is in names. */
const char	*msg_uid(const struct store *, const struct msg *);
const char	*msg_uid_in(const char *names, const struct msg *);
/* Whether m's name is name. */
bool		 msg_name_is(const struct store *, const struct msg *,
		    const char *name);
/* The base of a name in folder sub: a Maildir name's part before ':'. */
size_t		 msg_base_len(int sub, const char *name, size_t len);
/* Octets of m's name in st->names, before any digest id. */
size_t		 msg_name_size(const struct store *, const struct msg *);

/* Makes room for need more octets in st->names; 0, or -1 (errno). */
int		 msg_names_room(struct store *, size_t need);
/*
 * Keeps name (len octets) as m's, with its id (see msg.c); with salt, a
 * digest of salt and the whole name.  0, or -1 when memory runs out.
 */
int		 msg_set_name(struct store *, struct msg *, const char *name,
		    size_t len, const char *salt);
/*
 * Gives the messages that share an id (Maildir twins) ids of their own,
 * in a sorted listing; 0, or -1 when memory runs out.
 */
int		 msg_dedupe_uids(struct store *);
/*
 * Lists once a file that a Maildir holds under two names, new/BASE and
 * cur/BASE:FLAGS (a move by link and unlink, caught half-way): the cur/
 * name stays, linked, and the commit removes both.
 */
void		 msg_fold_links(struct store *);
/* Moves the names of msgs[0..count) together, in place; 0 or -1. */
int		 msg_squeeze_names(struct store *);

/*
 * Listing order: by base name in version order, then folder, then full
 * name (msg_order for names as st->names keeps them).
 */
int		 msg_order(const char *a, unsigned asub, bool acolon,
		    const char *b, unsigned bsub, bool bcolon);
int		 msg_cmp(const struct store *, const struct msg *,
		    const struct msg *);

/* Whether sb is still the file m was listed as. */
bool		 msg_same_file(const struct msg *, const struct stat *sb);

/*
 * The same of id, as journal_ident_at read it (the listing keeps no
 * birth time).
 */
struct journal_ident;
bool		 msg_same_ident(const struct msg *,
		    const struct journal_ident *id);
/* Opens a message file by its listed name, never following a symlink. */
int		 msg_open(const struct store *, const char *name, int sub);

/*
 * Lists the mailbox's messages afresh into st->msgs (listing.c), using
 * and updating the size cache; sets st->cut and st->found.  0, or -1
 * (errno) with the listing partial, for the caller to drop.
 */
int		 listing_make(struct store *);

/*
 * Gives the listed messages the ids the mailbox's POP3D_UIDLS_NAME file
 * kept from an old server, each only for the file it names, keeping
 * every id unique (imported.c).  0, or -1 (errno) when memory runs out.
 */
int		 imported_apply(struct store *);

/*
 * After imported_apply, in a writable mailbox whose listing holds every
 * message: rewrites POP3D_UIDLS_NAME when a Maildir twin's digest id is
 * not kept there yet, or when an entry names no listed file (imported.c).
 * Best effort: the listing's ids are right either way.
 */
void		 imported_record(struct store *);

#endif
