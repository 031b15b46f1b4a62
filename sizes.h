/*
 * sizes.h: the store's cache of message sizes, so that a login does not
 * read every message again.  One file per mailbox, POP3D_SIZES_NAME:
 *
 *	pop3d sizes 1
 *	<folder> <inode> <size> <mtime-s> <mtime-ns> <crlf-size> <name>
 *
 * folder is the store's folder number, name %XX-escaped as in journals.
 * An entry is trusted only while the file's identity (folder, name,
 * inode, size, mtime) is the same; a malformed line is ignored; the file
 * is replaced whole.  It never decides an id, and deleting it changes
 * nothing a client sees.
 */
#ifndef POP3D_SIZES_H
#define POP3D_SIZES_H

#include <sys/stat.h>

#include <stdbool.h>
#include <stdint.h>

struct sizes;

/* Reads the cache in dirfd; an unreadable or foreign one is empty.
 * NULL only when memory runs out. */
struct sizes	*sizes_load(int dirfd);

/* The CRLF size cached for this file, when its identity still holds. */
bool		 sizes_get(struct sizes *, int folder, const char *name,
		    const struct stat *sb, uint64_t *size);

/* Records a size measured now; 0, or -1 when memory runs out. */
int		 sizes_put(struct sizes *, int folder, const char *name,
		    const struct stat *sb, uint64_t size);

/*
 * Writes the entries got or put since the load, when they differ from
 * what was loaded (temporary file, rename); 0, or -1 with errno.
 */
int		 sizes_save(struct sizes *, int dirfd);

void		 sizes_free(struct sizes *);

#endif
