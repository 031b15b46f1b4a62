/*
 * mbox.c: an mbox file's messages (see mbox.h).  Reads only the bytes
 * it is given and never looks past them; trusts nothing in them.
 */
#include <string.h>

#include "mbox.h"

/* Where the next separator ("\n\nFrom ") starts at or after p, or end. */
static const char *
next_sep(const char *p, const char *end)
{
	const char *q = memmem(p, (size_t)(end - p), "\n\nFrom ", 7);

	return q != NULL ? q : end;
}

int
mbox_split(const char *data, size_t len,
    int (*fn)(void *, const char *, size_t), void *arg, size_t *skipped)
{
	const char *end = data + len, *p, *nl, *sep, *stop;
	int r;

	/* The first "From " line, blank line before it or not. */
	if (len >= 5 && memcmp(data, "From ", 5) == 0)
		p = data;
	else if ((p = memmem(data, len, "\nFrom ", 6)) != NULL)
		p++;
	else
		p = end;
	*skipped = (size_t)(p - data);
	while (p < end) {
		/* p is at a "From " line: the message follows it. */
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;	/* a From line and nothing else */
		sep = next_sep(nl, end);
		/* The message keeps its last newline, not the empty line. */
		stop = sep;
		if (sep != end)
			stop = sep + 1;
		else if (end - nl >= 2 && end[-1] == '\n' && end[-2] == '\n')
			stop = end - 1;
		if ((r = fn(arg, nl + 1, (size_t)(stop - (nl + 1)))) != 0)
			return r;
		p = sep == end ? end : sep + 2;
	}
	return 0;
}
