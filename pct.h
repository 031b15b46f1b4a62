/*
 * pct.h: %XX escapes, the one way pop3d writes untrusted bytes into its
 * own text formats (the users file, folder names, journals, logs).
 */
#ifndef POP3D_PCT_H
#define POP3D_PCT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes len bytes of data into out, each byte b at index i for which
 * esc(b, i) is true as %XX (upper-case hex), and terminates it.  Returns
 * the length, or -1 when it does not fit cap; out then holds the longest
 * prefix of whole escapes that fits (terminated, if cap > 0).
 */
int	pct_encode(char *out, size_t cap, const void *data, size_t len,
	    bool (*esc)(unsigned char b, size_t i))
	    __attribute__((warn_unused_result));

/*
 * Decodes s into out (terminated).  Every raw byte must pass raw_ok and
 * not be '%'; "%XX" takes either case.  Returns the decoded length, or
 * -1 for a bad escape, a refused byte, or a result that does not fit.
 */
int	pct_decode(char *out, size_t cap, const char *s, size_t len,
	    bool (*raw_ok)(unsigned char b))
	    __attribute__((warn_unused_result));

/*
 * File names in pop3d's own files (journals, the size cache): printable
 * ASCII stays, '%' and every other byte is escaped.
 */
bool	pct_name_raw_ok(unsigned char b);
bool	pct_name_esc(unsigned char b, size_t i);

/*
 * A decimal field of pop3d's own files, from p up to a space before
 * end: 1 to 20 digits, no sign, no overflow.  *v and the byte after the
 * space, or NULL.
 */
const char *pct_num(const char *p, const char *end, uint64_t *v);

/*
 * A name field of pop3d's own files, p[0..len) as pct_name_esc wrote
 * it: it must decode to a plain, visible file name (1..NAME_MAX octets,
 * no NUL, no '/', not starting with '.'), never a path.  Its length,
 * with *name pointing to it (into p when it has no escape, else into
 * out), or -1.
 */
int	pct_name_field(const char *p, size_t len, char out[NAME_MAX + 1],
	    const char **name);

#endif
