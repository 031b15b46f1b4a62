/*
 * uidls.h: the file of unique ids a mailbox kept from the server it was
 * moved from, written by pop3d-import and read by the store's listing,
 * which also keeps the ids of Maildir twins there (imported_record).
 * One file per mailbox, POP3D_UIDLS_NAME:
 *
 *	pop3d uidls 1
 *	<inode> <size> <uid> <name>
 *	end
 *
 * An entry says: the file whose base name (a Maildir name's part before
 * ':') is name, whose inode is inode and whose size is size, had the
 * unique id uid (1..POP3D_UID_MAX octets in 0x21..0x7E, RFC 1939 s.7).
 * name is %XX-escaped as in journals.  This module only reads and writes
 * the file: the store decides which file an entry names (imported.c).
 * Every line is parsed strictly and a malformed one is skipped; a file
 * without the header is ignored whole, and one past POP3D_UIDLS_SIZE_MAX
 * octets too.  Lines after the first POP3D_MSGS_MAX entries are not read.
 */
#ifndef POP3D_UIDLS_H
#define POP3D_UIDLS_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uidls_entry {
	uint64_t	 ino;
	uint64_t	 fsize;		/* the file's own size */
	const char	*uid;		/* 1..POP3D_UID_MAX in 0x21..0x7E */
	size_t		 uidlen;
	const char	*name;		/* 1..NAME_MAX octets, no NUL, no '/',
					   not starting with '.' */
	size_t		 namelen;
};

/* Whether uid (len octets) may be a POP3 unique id: RFC 1939 s.7. */
bool		 uidls_uid_ok(const char *uid, size_t len);

/*
 * Calls fn for each well-formed entry of the file in dirfd, in file
 * order, with strings only valid during the call.  A missing,
 * unreadable, over-large or foreign file has none.  fn returns 0 to go
 * on, or -1 to stop, and then so does uidls_load (errno is fn's); 0
 * otherwise.
 */
int		 uidls_load(int dirfd,
		    int (*fn)(void *, const struct uidls_entry *), void *arg);

/*
 * Parses one entry line of len octets (no newline); 1 with *e filled
 * (its strings in line or in buf), 0 when it is malformed.
 */
int		 uidls_parse(const char *line, size_t len,
		    char buf[NAME_MAX + 1], struct uidls_entry *e);

/*
 * Replaces the file in dirfd (temporary file, fsync, rename, fsync of
 * the folder) with the entries next hands out, one per call: it fills
 * *e and returns 1, or returns 0 at the end.  The file is made with
 * mode 0600 and given to owner (when owner is not (uid_t)-1).  An entry
 * that cannot be written (a bad name or id) is EINVAL.  0, or -1 with
 * errno; on failure the old file, if any, is left as it was.
 */
int		 uidls_save(int dirfd, uid_t owner, gid_t group,
		    int (*next)(void *, struct uidls_entry *), void *arg)
		    __attribute__((warn_unused_result));

#endif
