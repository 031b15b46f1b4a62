/*
 * fuzz_sasl.c: AUTH PLAIN and AUTH LOGIN exchanges.  The first input byte
 * picks the mechanism, whether the first response rides on the command
 * line (RFC 5034 s.4's initial response), whether the responses are sent
 * as base64 of the input (so the decoded bytes are fuzzed) or raw (so the
 * decoder is), and the mechanism name's case.  The rest is PLAIN's
 * message (authzid NUL authcid NUL password), or LOGIN's name and
 * password split at the first 0xFF.  Besides the session checks: with
 * base64, the login succeeds exactly when RFC 4616's rules and the users
 * file say it must, and never otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzzlib.h"
#include "params.h"

static bool
user_ok(const char *name, size_t len)
{
	static const char *const users[] = { "me", "md", "ro" };

	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (len == strlen(users[i]) && memcmp(name, users[i], len) == 0)
			return true;
	return false;
}

static bool
pass_ok(const char *p, size_t len)
{
	return len == strlen(FZ_PASS) && memcmp(p, FZ_PASS, len) == 0;
}

/*
 * Appends one response: base64 (an empty one as "=" when it is an
 * initial response) or the raw bytes up to any LF.  Returns whether a
 * line-length limit cut it off (then no login can happen).
 */
static bool
response(struct fz_buf *in, const char *p, size_t len, bool raw,
    bool initial, size_t room)
{
	size_t cap = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL) + 2;	/* room for "=" */
	char *b64 = malloc(cap);
	bool cut;

	if (b64 == NULL)
		fz_fail("out of memory");
	if (raw) {
		const char *nl = memchr(p, '\n', len);

		if (nl != NULL)
			len = (size_t)(nl - p);
		fz_put(in, p, len);
		cut = len + 2 > room;
	} else {
		sodium_bin2base64(b64, cap, (const unsigned char *)p, len,
		    sodium_base64_VARIANT_ORIGINAL);
		if (len == 0 && initial)
			strcpy(b64, "=");
		fz_puts(in, b64);
		cut = strlen(b64) + 2 > room;
	}
	fz_puts(in, "\r\n");
	free(b64);
	return cut;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_fixture *fx = fz_fixture();
	struct session_cfg cfg = { .users = fx->users, .mail_root = fx->root,
	    .peer = "local" };
	const char *allowed[] = { fx->users, fx->users_index, fx->me,
	    fx->maildir, NULL };
	unsigned sel = size > 0 ? data[0] : 0;
	bool plain = !(sel & 1), initial = sel & 2, raw = sel & 4;
	const char *p = size > 0 ? (const char *)data + 1 : "";
	size_t len = size > 0 ? size - 1 : 0, outlen, prefix;
	struct fz_buf in = { 0 };
	enum session_end end;
	bool cut = false, want = false;
	const char *mech = plain ? ((sel & 8) ? "plain" : "PLAIN") :
	    ((sel & 8) ? "Login" : "LOGIN");
	char *out;

	fz_printf(&in, "AUTH %s", mech);
	prefix = in.len + 1;
	if (plain) {
		const char *z1 = memchr(p, '\0', len), *z2;

		fz_puts(&in, initial ? " " : "\r\n");
		cut = response(&in, p, len, raw, initial, initial ?
		    POP3D_LINE_MAX - prefix : POP3D_SASL_LINE_MAX);
		if (z1 != NULL && (z2 = memchr(z1 + 1, '\0',
		    len - (size_t)(z1 + 1 - p))) != NULL) {
			size_t zlen = (size_t)(z1 - p);
			size_t clen = (size_t)(z2 - z1 - 1);

			want = (zlen == 0 || (zlen == clen &&
			    memcmp(p, z1 + 1, zlen) == 0)) &&
			    user_ok(z1 + 1, clen) &&
			    pass_ok(z2 + 1, len - (size_t)(z2 + 1 - p));
		}
	} else {
		const char *ff = memchr(p, 0xff, len);
		size_t ulen = ff != NULL ? (size_t)(ff - p) : len;
		const char *pw = ff != NULL ? ff + 1 : p + len;
		size_t plen = (size_t)(p + len - pw);

		fz_puts(&in, initial ? " " : "\r\n");
		cut = response(&in, p, ulen, raw, initial, initial ?
		    POP3D_LINE_MAX - prefix : POP3D_SASL_LINE_MAX);
		cut |= response(&in, pw, plen, raw, false,
		    POP3D_SASL_LINE_MAX);
		want = user_ok(p, ulen) && pass_ok(pw, plen);
	}
	fz_puts(&in, "STAT\r\nQUIT\r\n");

	out = fz_session(&cfg, allowed, in.p, in.len, &outlen, &end);
	fz_check_session(in.p, in.len, out, outlen, fz_fixture_box());
	if (!raw && !cut && (memmem(out, outlen, "\r\n+OK maildrop has ", 19)
	    != NULL) != want)
		fz_fail("AUTH %s: the login %s", mech, want ? "failed" :
		    "succeeded");
	free(out);
	free(in.p);
	fz_fixture_reset();
	return 0;
}
