/*
 * log.c: syslog with a session tag.  Untrusted bytes reach a log line only
 * through log_esc and only as "%s" arguments.  Never writes to fd 1 or 2:
 * under inetd both are the client's socket.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pct.h"

static char log_tag[64];

void
log_open(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

static void	vlog(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
vlog(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_tag[0] != '\0')
		syslog(prio, "session=%s %s", log_tag, msg);
	else
		syslog(prio, "%s", msg);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

static bool
log_esc_byte(unsigned char b, size_t i)
{
	(void)i;
	return b < 0x21 || b > 0x7e || b == '%' || b == '"';
}

const char *
log_esc(char *buf, size_t cap, const void *data, size_t len)
{
	size_t o;

	if (cap < 4) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	if (pct_encode(buf, cap - 3, data, len, log_esc_byte) == -1) {
		o = strlen(buf);
		memcpy(buf + o, "...", 4);
	}
	return buf;
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(code);
}
