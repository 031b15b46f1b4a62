/*
 * pct.c: %XX encoding and decoding.  Trusts nothing it decodes: every
 * escape is checked and the output is bounded.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "pct.h"

static const char hexdig[] = "0123456789ABCDEF";

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
pct_encode(char *out, size_t cap, const void *data, size_t len,
    bool (*esc)(unsigned char, size_t))
{
	const unsigned char *p = data;
	size_t i, o = 0;
	bool e;

	if (cap == 0)
		return -1;
	for (i = 0; i < len; i++) {
		e = esc(p[i], i);
		if (o + (e ? 3 : 1) >= cap) {
			out[o] = '\0';
			return -1;
		}
		if (e) {
			out[o++] = '%';
			out[o++] = hexdig[p[i] >> 4];
			out[o++] = hexdig[p[i] & 0xf];
		} else
			out[o++] = (char)p[i];
	}
	out[o] = '\0';
	return (int)o;
}

int
pct_decode(char *out, size_t cap, const char *s, size_t len,
    bool (*raw_ok)(unsigned char))
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (o + 1 >= cap)
			return -1;
		if (p[i] != '%') {
			if (!raw_ok(p[i]))
				return -1;
			out[o++] = (char)p[i];
			continue;
		}
		if (len - i < 3)
			return -1;
		if ((hi = hexval(p[i + 1])) < 0 || (lo = hexval(p[i + 2])) < 0)
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

bool
pct_name_raw_ok(unsigned char b)
{
	return b >= 0x21 && b <= 0x7e;
}

bool
pct_name_esc(unsigned char b, size_t i)
{
	(void)i;
	return !pct_name_raw_ok(b) || b == '%';
}

const char *
pct_num(const char *p, const char *end, uint64_t *v)
{
	const char *start = p;
	uint64_t n = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return NULL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == start || p - start > 20 || p == end || *p != ' ')
		return NULL;
	*v = n;
	return p + 1;
}

int
pct_name_field(const char *p, size_t len, char out[NAME_MAX + 1],
    const char **name)
{
	size_t i;
	int n;

	/* pct_name_raw_ok, in line: this runs over every name. */
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e ||
		    p[i] == '%')
			break;
	if (i == len) {
		/* No escapes (the usual case): the field is the name. */
		if (len == 0 || len > NAME_MAX || p[0] == '.' ||
		    memchr(p, '/', len) != NULL)
			return -1;
		*name = p;
		return (int)len;
	}
	n = pct_decode(out, NAME_MAX + 1, p, len, pct_name_raw_ok);
	if (n <= 0 || memchr(out, '\0', (size_t)n) != NULL ||
	    out[0] == '.' || memchr(out, '/', (size_t)n) != NULL)
		return -1;
	*name = out;
	return n;
}
