/*
 * oracle.h: what pop3d must send of a message file, computed octet by
 * octet for the tests and the fuzz targets to compare with: the CRLF
 * form (the sizes pop3d reports are its lengths), RETR's dot-stuffed
 * lines and TOP's cut.  Written apart from stream.c, whose line-end
 * scanners it judges, so it shares none of their technique.
 */
#ifndef POP3D_ORACLE_H
#define POP3D_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRLF form of a message file: each line ended by LF or by CRLF is
 * sent with CRLF; a last line without an ending gets one, a CR ending
 * the file being that ending; every other octet (a lone CR, NUL, 8-bit)
 * passes.  Returns a NUL-terminated copy (free() it) and its length in
 * *outlen; aborts when out of memory.
 */
char	*oracle_crlf(const void *data, size_t len, size_t *outlen);

/*
 * A CRLF text dot-stuffed as RETR and TOP send it: a line starting with
 * "." gets another; without the final ".\r\n", which the session adds.
 * NUL-terminated (free() it); aborts when out of memory.
 */
char	*oracle_stuffed(const char *crlf, size_t len, size_t *outlen);

/*
 * The length of what TOP sends of a CRLF form: the header, the blank
 * line ending it and then at most lines lines; all of it when it has
 * no blank line.
 */
size_t	 oracle_top_len(const char *crlf, size_t len, uint64_t lines);

#endif
