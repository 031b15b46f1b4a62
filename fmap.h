/*
 * fmap.h: a window of a file, mapped read-only, read while the file may
 * shrink under it.  A page of the window past the file's new end reads
 * as zeros instead of raising SIGBUS, and the window remembers that it
 * happened, so that its reader can throw away what it read and say the
 * file ended early.  One window at a time in a process.
 */
#ifndef POP3D_FMAP_H
#define POP3D_FMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Maps len octets (> 0) of fd from off (a multiple of the page size),
 * read-only, and watches them until fmap_close.  The window, or NULL
 * (errno: mmap's, ENOMEM under RLIMIT_AS; EBUSY when a window is open):
 * the caller then reads the file with read(2).
 */
const char	*fmap_open(int fd, uint64_t off, size_t len)
		    __attribute__((warn_unused_result));

/*
 * Whether a page of the open window has read as zeros because the file
 * no longer reached it (or could not be read there): what was read from
 * the window since fmap_open is then not the file's.
 */
bool		 fmap_failed(void);

/* Unmaps the open window and stops watching it; nothing when none is. */
void		 fmap_close(void);

#endif
