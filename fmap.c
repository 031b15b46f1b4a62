/*
 * fmap.c: read-only windows of message files (fmap.h).  A mail file is
 * untrusted and may be truncated while mapped (a delivery agent, an
 * editor, a plain folder rewritten in place); reading a page past its
 * new end raises SIGBUS.  While a window is open, a handler puts zero
 * pages over the rest of the window and notes the failure, so the
 * reader goes on to a check instead of dying; a SIGBUS anywhere else
 * keeps its default action.  The only state is the open window's, which
 * the handler must see.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fmap.h"

static char *volatile		 win;		/* NULL: none open */
static volatile size_t		 win_len;
static volatile sig_atomic_t	 win_failed;
static uintptr_t		 page_mask;	/* sysconf is not for a handler */
static struct sigaction		 old_bus;

/*
 * A fault in the window: anonymous zero pages from the faulting page to
 * the window's end (mmap is a bare system call here, safe in a handler),
 * and the instruction that faulted reads them when the handler returns.
 * Anything else: the default action, which the same fault then takes.
 */
static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	char *a = si->si_addr, *w = win, *pg;
	struct sigaction dfl;

	(void)ctx;
	/* si_code > 0: the kernel's, for an access; not kill(2)'s. */
	if (si->si_code > 0 && w != NULL && a >= w && a < w + win_len) {
		pg = (char *)((uintptr_t)a & ~page_mask);
		if (mmap(pg, (size_t)(w + win_len - pg), PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    MAP_FAILED) {
			win_failed = 1;
			return;
		}
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(sig, &dfl, NULL);
}

const char *
fmap_open(int fd, uint64_t off, size_t len)
{
	struct sigaction sa;
	void *p;

	if (win != NULL) {
		errno = EBUSY;	/* NEVER: one reader at a time */
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
	    (off_t)off);
	if (p == MAP_FAILED)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
	win_failed = 0;
	win_len = len;
	win = p;
	if (sigaction(SIGBUS, &sa, &old_bus) == -1) {
		win = NULL;
		(void)munmap(p, len);
		return NULL;
	}
	return p;
}

bool
fmap_failed(void)
{
	return win_failed != 0;
}

void
fmap_close(void)
{
	char *w = win;

	if (w == NULL)
		return;
	(void)sigaction(SIGBUS, &old_bus, NULL);
	win = NULL;
	(void)munmap(w, win_len);
}
