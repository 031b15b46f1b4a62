/*
 * log.h: syslog (facility mail) with a session tag; never stdout, and
 * stderr only when it is a terminal.
 */
#ifndef POP3D_LOG_H
#define POP3D_LOG_H

#include <stddef.h>
#include <syslog.h>

/*
 * Opens the log (LOG_NDELAY, so it works after confinement); when
 * stderr is a terminal, every line is also written there.
 */
void	 log_open(const char *ident);

/* The session tag: "session=<tag>" is put before every message. */
void	 log_set_tag(const char *tag);

void	 log_msg(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Escapes untrusted bytes for a log value: printable ASCII other than
 * '%' and '"' stays, and so does valid UTF-8 whose characters print
 * (so that grep finds josé); every other byte becomes %XX: controls,
 * spaces, invalid or overlong UTF-8, and the characters that hide or
 * move text (C1, Unicode spaces and separators, bidi controls,
 * zero-width and format characters).  The result is cut to fit cap,
 * never inside a character or an escape (always terminated), and a cut
 * is marked with a trailing "...".  Returns buf.
 */
const char *log_esc(char *buf, size_t cap, const void *data, size_t len);

/* Startup failures and broken invariants only: log and exit. */
void	 fatal(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
