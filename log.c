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

const char *
log_esc(char *buf, size_t cap, const void *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	size_t i, o = 0;
	bool esc;

	if (cap == 0)
		return buf;
	for (i = 0; i < len; i++) {
		esc = p[i] < 0x21 || p[i] > 0x7e || p[i] == '%' || p[i] == '"';
		if (o + (esc ? 3 : 1) + 4 > cap) {
			if (o + 4 <= cap)
				memcpy(buf + o, "...", 3), o += 3;
			break;
		}
		if (esc) {
			buf[o++] = '%';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i] & 0xf];
		} else
			buf[o++] = (char)p[i];
	}
	buf[o] = '\0';
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
