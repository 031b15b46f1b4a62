/*
 * journal.h: the format of the store's journal, POP3D_JOURNAL_NAME, the
 * list of what a commit will remove, and the identity of a file that a
 * line of it carries:
 *
 *	pop3d journal 2
 *	<folder> <inode> <size> <mtime> <born> <name>	one line a message
 *	end
 *
 * folder is 'r' (a plain folder), 'n' (new/) or 'c' (cur/); size is the
 * file's, mtime in nanoseconds since 1970 (journal_nsec); born is 'b'
 * and the file's birth time in nanoseconds, or 'c' and its ctime where
 * the file system keeps no birth time; name has '%' and every byte
 * outside 0x21..0x7E written as %XX.  Version 1 lines ("<folder>
 * <inode> <name>") are still read: see journal_same_ident.
 *
 * This module only writes the lines to a file the store made and reads
 * a journal back, as untrusted data, strictly: the store decides what
 * is journaled, when it is durable, what is removed and when (store.c:
 * commit, roll_forward).  The identity rule, journal_same_ident, is
 * here so that the commit and the roll forward apply the same one.
 */
#ifndef POP3D_JOURNAL_H
#define POP3D_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Folders a line may name: 0 'r', 1 'n', 2 'c' (the store's numbers). */
#define JOURNAL_FOLDERS	3

/*
 * A file's identity: what the store's msg_same_file compares, and when
 * this inode was given to this file.  The birth time is the kernel's and
 * nobody can set it: a file made later in a freed inode, even with the
 * same size and a forged mtime, has another.  Where the file system
 * keeps none, the ctime stands in, which nobody can set either, but
 * which a new link or a chmod also moves: such a file is then kept.
 */
struct journal_ident {
	bool		 reg;
	uint64_t	 ino;
	int64_t		 size;
	int64_t		 mtime;		/* journal_nsec */
	char		 born;		/* 'b' birth time, 'c' ctime */
	int64_t		 btime;		/* journal_nsec of that time */
};

/* One line: to write, or read back. */
struct journal_entry {
	int			 folder;	/* 0..JOURNAL_FOLDERS-1 */
	bool			 v1;		/* a version 1 line: the inode
						   alone */
	int64_t			 written;	/* read back: the journal's
						   mtime (journal_nsec) */
	struct journal_ident	 id;
	char			 name[NAME_MAX + 1];
};

/*
 * A time in nanoseconds since 1970, clamped to -INT64_MAX..INT64_MAX
 * (the years 1678 to 2262; symmetric, so that a journal line can always
 * say it): a file edited in place gets the current time, which is never
 * clamped, so the clamping never hides a change.  The one form of a
 * time in an identity, the store's listing included.
 */
static inline int64_t
journal_nsec(int64_t s, long ns)
{
	if (s > INT64_MAX / 1000000000 - 1)
		return INT64_MAX;
	if (s < INT64_MIN / 1000000000 + 1)
		return -INT64_MAX;
	return s * 1000000000 + ns;
}

/* The identity of name in dirfd, never following a symlink; 0 or -1. */
int		 journal_ident_at(int dirfd, const char *name,
		    struct journal_ident *id)
		    __attribute__((warn_unused_result));

/*
 * The identity rule, the one the commit and the roll forward both apply:
 * the file at a journal line's name may be removed only when it is a
 * regular file with every field of the line (id: journal_ident_at of
 * it).  A version 1 journal named the inode alone, which a file made
 * after the commit began may have been given again; its file must also
 * have been born (or, without birth times, last changed) before the
 * journal was written, strictly, so that a tick of the file system's
 * clock shared with the journal keeps the file.
 */
bool		 journal_same_ident(const struct journal_entry *e,
		    const struct journal_ident *id);

/*
 * Writes a whole journal to fd (a file the caller created and will
 * fsync and close): the header, a line for each entry next hands out
 * (it fills e's folder, id and name and returns 1, returns 0 at the
 * end, or -1 to stop, errno its own), and "end".  Writes go in pieces
 * of up to cap octets of buf (at least POP3D_JOURNAL_LINE_MAX).  0, or
 * -1 (errno; ENAMETOOLONG for a name no line can hold).
 */
int		 journal_write(int fd, char *buf, size_t cap,
		    int (*next)(void *, struct journal_entry *), void *arg)
		    __attribute__((warn_unused_result));

/*
 * Reads the journal on fd from its start: 0 when it is whole and
 * well-formed (a known header, every line well-formed for its version,
 * "end" last, a final newline), 1 when it is not, -1 on a read error
 * (errno).  When fn is not NULL it is called for each well-formed line
 * in order, up to the first that is not, with a name that decodes to a
 * plain, visible file name (never a path); it returns 0 to go on, or -1
 * to stop, and then so does journal_read (errno fn's).
 */
int		 journal_read(int fd,
		    int (*fn)(void *, const struct journal_entry *), void *arg)
		    __attribute__((warn_unused_result));

#endif
