/*
 * memtls.c: an io transport over memory standing in for TLS (see
 * memtls.h).  Test code: reads end at the input's end, writes grow a
 * buffer; it encrypts nothing and trusts its caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtls.h"

static ssize_t
memtls_read(void *arg, void *buf, size_t len, short *ev)
{
	struct memtls *m = arg;
	size_t n = m->inlen - m->inoff;

	(void)ev;
	if (n > len)
		n = len;
	if (n > 0)
		memcpy(buf, (const char *)m->in + m->inoff, n);
	m->inoff += n;
	return (ssize_t)n;
}

static ssize_t
memtls_write(void *arg, const void *buf, size_t len, short *ev)
{
	struct memtls *m = arg;

	(void)ev;
	if (m->outlen + len + 1 > m->outcap) {
		size_t cap = m->outcap ? m->outcap : 256;

		while (cap < m->outlen + len + 1)
			cap *= 2;
		if ((m->out = realloc(m->out, cap)) == NULL) {
			fputs("memtls: out of memory\n", stderr);
			abort();
		}
		m->outcap = cap;
	}
	memcpy(m->out + m->outlen, buf, len);
	m->outlen += len;
	m->out[m->outlen] = '\0';
	return (ssize_t)len;
}

struct io_transport
memtls_transport(struct memtls *m)
{
	struct io_transport t = { .read = memtls_read, .write = memtls_write,
	    .arg = m };

	return t;
}
