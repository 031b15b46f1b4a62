/*
 * users-index.h: the index beside the users file, FILE.cdb, a constant
 * database (tinycdb) that lets a login find a name's line without
 * reading the whole file.  The text file stays the truth: the index
 * only says where a name's first line is, and every answer is checked
 * against the line it names, read from the file.  Its records:
 *
 *	"\0pop3d-users-index-1"	the header (below); no name holds a NUL
 *	name (the decoded bytes)	offset and length of the line (u64 each)
 *
 * The header, every integer little-endian: the users file's st_dev,
 * st_ino and st_size (u64 each), st_mtim and st_ctim (seconds i64,
 * nanoseconds i64 each); the number of its first malformed line (u64,
 * 0 for none); the offset and length (u64 each) of a user's line that
 * is read and checked in place of an unknown name's (length 0 when the
 * file holds no user); then what picks an unknown name's cost
 * (users-int.h): the lines counted (u64), the key (32 bytes), the
 * number of costs (u64), and for each its prefix (48 bytes, NUL-padded)
 * and its count (u64).
 */
#ifndef POP3D_USERS_INDEX_H
#define POP3D_USERS_INDEX_H

#include <sys/stat.h>

#include <stddef.h>

#include "users-int.h"
#include "users.h"

#define USERS_INDEX_SUFFIX	".cdb"

enum users_index_res {
	USERS_INDEX_FOUND,	/* *e holds the name's line, read and checked */
	USERS_INDEX_NOT_FOUND,	/* no such user */
	USERS_INDEX_ABSENT,	/* there is no index */
	USERS_INDEX_STALE,	/* made for another version of the file */
	USERS_INDEX_BROKEN	/* unusable, or disagreeing with the file */
};

/* path + USERS_INDEX_SUFFIX into out; 0, or -1 (ENAMETOOLONG). */
int	users_index_path(const char *users, char *out, size_t cap)
	    __attribute__((warn_unused_result));

/*
 * Looks name up in the index of the users file at users, open on ufd
 * with *usb its fstat.  The index is used only when it was made from
 * that very file (device, inode, size, mtime and ctime to the
 * nanosecond).  On FOUND and NOT_FOUND, *costs (final) and *bad_line
 * are what a scan of the file would have found, and on NOT_FOUND
 * *user_bad_line (when not NULL) the first malformed line that spells
 * name (users_bad_line_name), or 0; a NOT_FOUND reads and
 * checks a user's line too, so that it costs what a FOUND does.  On
 * BROKEN, *why says what is wrong (a constant); on every other answer
 * nothing but *why is touched.  Every offset in the index is checked,
 * and a record that does not name its user's line is BROKEN, never
 * another user.
 */
enum users_index_res users_index_find(const char *users, int ufd,
	    const struct stat *usb, const char *name, size_t namelen,
	    struct users_entry *e, struct users_costs *costs,
	    unsigned long *bad_line, unsigned long *user_bad_line,
	    const char **why)
	    __attribute__((warn_unused_result));

/* What users_index_make saw in the users file. */
struct users_index_made {
	unsigned long	users;		/* names indexed */
	unsigned long	bad_line;	/* first malformed line, or 0 */
	unsigned long	too_long;	/* a line over POP3D_USERS_LINE_MAX */
};

/*
 * Makes the index of the users file at users, and puts it in place
 * atomically (a temporary file, fsync, rename, fsync of the folder),
 * with the users file's owner and mode.  The caller holds the users
 * file's lock, if any.  Memory: about 16 bytes per user (tinycdb's
 * record list) and one line.  Returns 0, or -1 with errno: EAGAIN when
 * the file changed while it was read, EFBIG with made->too_long set
 * for a line too long to index, or what a system call said.
 */
int	users_index_make(const char *users, struct users_index_made *made)
	    __attribute__((warn_unused_result));

#endif
