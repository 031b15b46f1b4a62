/*
 * fuzz_stls.c: STLS with logins refused in the clear, as pop3d serves a
 * client that is not on this host when TLS is configured.  The input is
 * a flags octet, what the client sends in the clear, "\xff\xff", and
 * what it sends under TLS; a stand-in transport carries the latter (TLS
 * itself is OpenSSL's to fuzz).  Flag 1: the handshake fails.  Checks:
 *
 *  - in the clear no login gets anywhere: no "+OK send PASS", no SASL
 *    challenge, no "+OK maildrop", and CAPA lists neither USER nor SASL
 *    nor UTF8's USER argument (RFC 6856 s.2: it speaks of USER and PASS);
 *  - the handshake starts at most once, and "+OK begin TLS negotiation"
 *    is the last thing said in the clear, said exactly when it starts;
 *  - when it starts, io holds nothing sent in the clear (so nothing
 *    sent after STLS is ever read as if it came under TLS);
 *  - a failed handshake ends the session with nothing more said;
 *  - under TLS, every line ends in CRLF, every reply starts as a reply
 *    should, and STLS is never offered again.
 * And, as in every session target, pop3d opens and removes nothing
 * outside the mailboxes, the users file and the ban file's folder.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "memtls.h"

struct fake {
	struct memtls	 m;		/* TLS, as memtls.h stands it in */
	int		 starts;
	bool		 fail;
};

static int
fake_starttls(struct io *io, void *arg)
{
	struct fake *f = arg;
	struct io_transport t = memtls_transport(&f->m);

	if (++f->starts > 1)
		fz_fail("a second handshake");
	if (io_discard(io) != 0)
		fz_fail("bytes sent in the clear are still buffered at the "
		    "handshake");
	if (f->fail)
		return -1;
	if (io_set_transport(io, &t) != 0)
		fz_fail("io_set_transport refused: output pending");
	return 0;
}

/* Whether the CRLF-split text holds a line that starts with s. */
static bool
has_line(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, s, n) == 0)
			return true;
	return false;
}

static void
check_lines(const char *what, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			fz_fail("%s: a bare LF", what);
	if (len > 0 && p[len - 1] != '\n')
		fz_fail("%s: a line without its CRLF", what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char begin[] = "+OK begin TLS negotiation\r\n";
	const struct fz_fixture *fx = fz_fixture();
	const char *allowed[] = { fx->users, fx->users_index, fx->me,
	    fx->maildir, fx->state, NULL };
	struct fake f;
	struct session_cfg cfg = { .users = fx->users, .mail_root = fx->root,
	    .peer = "192.0.2.1", .starttls = fake_starttls,
	    .starttls_arg = &f, .auth_needs_tls = true };
	const uint8_t *sep;
	enum session_end end;
	size_t outlen, clear;
	char *out;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	f.fail = data[0] & 1;
	data++;
	size--;
	clear = size;
	sep = memmem(data, size, "\xff\xff", 2);
	if (sep != NULL) {
		clear = (size_t)(sep - data);
		f.m.in = sep + 2;
		f.m.inlen = size - clear - 2;
	}
	out = fz_session(&cfg, allowed, data, clear, &outlen, &end);

	check_lines("in the clear", out, outlen);
	if (strstr(out, "+OK send PASS") != NULL ||
	    strstr(out, "+OK maildrop") != NULL || has_line(out, outlen, "+ "))
		fz_fail("a login got somewhere in the clear");
	if (has_line(out, outlen, "USER\r") || has_line(out, outlen, "SASL") ||
	    has_line(out, outlen, "UTF8 USER\r"))
		fz_fail("CAPA offers a login in the clear");
	if (f.starts == 0 && strstr(out, begin) != NULL)
		fz_fail("\"+OK begin\" without a handshake");
	if (f.starts == 1 && (outlen < sizeof(begin) - 1 ||
	    memcmp(out + outlen - (sizeof(begin) - 1), begin,
	    sizeof(begin) - 1) != 0))
		fz_fail("something said in the clear after \"+OK begin\"");
	if (f.starts == 1 && f.fail && (f.m.outlen != 0 ||
	    end != SESSION_ABORT))
		fz_fail("the session went on after a failed handshake");

	check_lines("under TLS", f.m.out != NULL ? f.m.out : "", f.m.outlen);
	if (f.m.outlen > 0 && memcmp(f.m.out, "+OK", 3) != 0 &&
	    memcmp(f.m.out, "-ERR", 4) != 0 && memcmp(f.m.out, "+ ", 2) != 0)
		fz_fail("under TLS, the first reply is no reply");
	if (f.m.outlen > 0 && has_line(f.m.out, f.m.outlen, "STLS\r"))
		fz_fail("STLS offered under TLS");
	free(f.m.out);
	free(out);
	fz_fixture_reset();
	return 0;
}
