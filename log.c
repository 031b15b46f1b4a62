/*
 * log.c: syslog with a session tag.  Untrusted bytes reach a log line only
 * through log_esc and only as "%s" arguments.  Never writes to fd 1, and
 * to fd 2 only when it is a terminal: under inetd both are the client's
 * socket.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char log_tag[64];

void
log_open(const char *ident)
{
	/*
	 * A person testing by hand sees the lines too.  Never a socket or
	 * a pipe: under inetd fd 2 is the client's connection.
	 */
	openlog(ident, LOG_PID | LOG_NDELAY |
	    (isatty(STDERR_FILENO) ? LOG_PERROR : 0), LOG_MAIL);
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

/* ASCII kept as it is: printable, not a space, '%' or '"'. */
static bool
log_esc_byte(unsigned char b)
{
	return b < 0x21 || b > 0x7e || b == '%' || b == '"';
}

/*
 * Characters that are escaped although valid: those that hide, move or
 * split text on a terminal or in a grep (C1 controls, spaces and
 * separators, which would also end a \S+ in a fail2ban filter, bidi
 * embeddings, overrides, marks and isolates, zero-width and other
 * format characters, tags).  Sorted.
 */
static const struct {
	uint32_t	lo, hi;
} log_hidden[] = {
	{ 0x0080, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x0600, 0x0605 },
	{ 0x061c, 0x061c }, { 0x06dd, 0x06dd }, { 0x070f, 0x070f },
	{ 0x1680, 0x1680 }, { 0x180e, 0x180e }, { 0x2000, 0x200f },
	{ 0x2028, 0x202f }, { 0x205f, 0x206f }, { 0x3000, 0x3000 },
	{ 0xfdd0, 0xfdef }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
	{ 0xe0000, 0xe0fff },
};

static bool
log_shown(uint32_t c)
{
	size_t i;

	if ((c & 0xfffe) == 0xfffe)	/* noncharacters */
		return false;
	for (i = 0; i < sizeof(log_hidden) / sizeof(log_hidden[0]); i++)
		if (c >= log_hidden[i].lo && c <= log_hidden[i].hi)
			return false;
	return true;
}

/*
 * The length of the UTF-8 sequence at p (of n octets at most) when it is
 * valid (shortest form, no surrogate, at most U+10FFFF) and its character
 * is shown as it is; 0 when its octets are escaped one by one.
 */
static size_t
log_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	c = p[0] & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return log_shown(c) ? len : 0;
}

const char *
log_esc(char *buf, size_t cap, const void *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	size_t i = 0, o = 0, n;
	bool esc;

	if (cap < 4) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	while (i < len) {
		n = p[i] >= 0x80 ? log_utf8_len(p + i, len - i) : 0;
		esc = n == 0 && log_esc_byte(p[i]);
		/* Room for this, the "..." of a cut and the NUL. */
		if (o + (n > 0 ? n : esc ? 3 : 1) + 4 > cap) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		if (n > 0) {
			memcpy(buf + o, p + i, n);
			o += n;
			i += n;
		} else if (esc) {
			buf[o++] = '%';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i++] & 0xf];
		} else
			buf[o++] = (char)p[i++];
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
