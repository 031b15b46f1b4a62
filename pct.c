/*
 * pct.c: %XX encoding and decoding.  Trusts nothing it decodes: every
 * escape is checked and the output is bounded.
 */
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
