/*
 * oracle.c: the reference CRLF form, dot-stuffing and TOP's cut (see
 * oracle.h).  Deliberately plain: one octet at a time, one state flag,
 * nothing shared with stream.c.  Trusts its input to be any bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "oracle.h"

static char *
alloc(size_t n)
{
	char *p = malloc(n);

	if (p == NULL) {
		fputs("oracle: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *
oracle_crlf(const void *data, size_t len, size_t *outlen)
{
	const unsigned char *p = data;
	char *out = alloc(2 * len + 3);
	size_t o = 0;
	bool cr = false;	/* a CR seen, its meaning not yet known */

	for (size_t i = 0; i < len; i++) {
		if (cr && p[i] != '\n')
			out[o++] = '\r';	/* a lone CR passes */
		cr = p[i] == '\r';
		if (cr)
			continue;
		if (p[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else
			out[o++] = (char)p[i];
	}
	if (cr || (len > 0 && p[len - 1] != '\n')) {
		out[o++] = '\r';	/* the last line's ending */
		out[o++] = '\n';
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

char *
oracle_stuffed(const char *crlf, size_t len, size_t *outlen)
{
	char *out = alloc(2 * len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (crlf[i] == '.' && (i == 0 || crlf[i - 1] == '\n'))
			out[o++] = '.';
		out[o++] = crlf[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

size_t
oracle_top_len(const char *crlf, size_t len, uint64_t lines)
{
	size_t start = 0;	/* where the current line starts */
	bool body = false;

	for (size_t i = 0; i < len; i++) {
		if (crlf[i] != '\n')
			continue;
		if (!body) {
			if (i - start == 1) {	/* "\r\n": the blank line */
				body = true;
				if (lines == 0)
					return i + 1;
			}
		} else if (--lines == 0)
			return i + 1;
		start = i + 1;
	}
	return len;
}
