/*
 * pct.h: %XX escapes, the one way pop3d writes untrusted bytes into its
 * own text formats (the users file, folder names, journals, logs).
 */
#ifndef POP3D_PCT_H
#define POP3D_PCT_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
