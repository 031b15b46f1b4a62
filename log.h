/* log.h: syslog (facility mail) with a session tag; never stdout/stderr. */
#ifndef POP3D_LOG_H
#define POP3D_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Opens the log (LOG_NDELAY, so it works after confinement). */
void	 log_open(const char *ident);

/* The session tag: "session=<tag>" is put before every message. */
void	 log_set_tag(const char *tag);

void	 log_msg(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Escapes untrusted bytes for a log value: bytes outside 0x21..0x7E, '%'
 * and '"' become %XX; the result is cut to fit cap (always terminated)
 * and a cut is marked with a trailing "...".  Returns buf.
 */
const char *log_esc(char *buf, size_t cap, const void *data, size_t len);

/* Startup failures and broken invariants only: log and exit. */
void	 fatal(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
