/*
 * sizes.h: the file of the store's size cache, so that a login does not
 * read every message again.  One file per mailbox, POP3D_SIZES_NAME:
 *
 *	pop3d sizes 2
 *	folder <folder> <inode> <mtime-s> <mtime-ns> <entries>
 *	<folder> <inode> <size> <mtime-s> <mtime-ns> <crlf-size> <dots> <name>
 *	end
 *
 * folder is the store's folder number, dots is "." when a line of the
 * CRLF form starts with '.' and "-" when none does, and name is
 * %XX-escaped as in journals.  A "folder" line, when there is one, says
 * what a folder was when all its entries were listed (see "The size
 * cache" in listing.c).  The store writes the entries in listing order,
 * so that a next login finds them sorted.  This module only reads and
 * writes the file: the store decides what may be trusted.  Every line
 * is parsed strictly; a malformed one is skipped, a file without the
 * header is ignored whole, one without "end" last was cut, and the file
 * is replaced whole, never edited.  It never decides an id, and deleting
 * it changes nothing a client sees.
 */
#ifndef POP3D_SIZES_H
#define POP3D_SIZES_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sizes_entry {
	int		 folder;	/* 0..9 */
	uint64_t	 ino;
	uint64_t	 fsize;		/* the file's own size */
	int64_t		 mtime_s;
	long		 mtime_ns;	/* 0..999999999 */
	uint64_t	 size;		/* octets of its CRLF form */
	bool		 dots;		/* a line of that form starts with '.' */
	const char	*name;		/* 1..NAME_MAX octets, no NUL, no '/' */
	size_t		 namelen;
};

struct sizes_folder {
	int		 folder;	/* 0..9 */
	uint64_t	 ino;
	int64_t		 mtime_s;
	long		 mtime_ns;	/* 0..999999999 */
	uint64_t	 entries;	/* the entry lines of that folder */
};

/*
 * Calls fn for each well-formed entry of the cache in dirfd, in file
 * order, with a name that is only valid during the call, and folder for
 * each well-formed folder line; a missing, unreadable or foreign cache
 * has none.  *whole tells whether the file ended with its "end" line.
 * fn returns 0 to go on, or -1 to stop, and then so does sizes_load
 * (errno is fn's); 0 otherwise.
 */
int		 sizes_load(int dirfd,
		    int (*fn)(void *, const struct sizes_entry *),
		    void (*folder)(void *, const struct sizes_folder *),
		    void *arg, bool *whole);

/*
 * Replaces the cache in dirfd (temporary file, rename) with the folder
 * lines folders[0..nfolders) and the entries next hands out, one per
 * call: it fills *e and returns 1, or returns 0 at the end.  An entry
 * that cannot be written (a name of more than NAME_MAX octets) is left
 * out.  0, or -1 with errno.
 */
int		 sizes_save(int dirfd, const struct sizes_folder *folders,
		    size_t nfolders, int (*next)(void *, struct sizes_entry *),
		    void *arg) __attribute__((warn_unused_result));

#endif
