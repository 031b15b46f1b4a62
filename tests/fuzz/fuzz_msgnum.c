/*
 * fuzz_msgnum.c: message numbers and other arguments, after login.  Each
 * input line becomes one command: its first byte picks the verb (bits
 * 0-3), whether an argument follows (bit 4) and the case of the verb's
 * first letters (bits 5-7); the rest of the line is the argument, any
 * bytes.  A model written from RFC 1939, RFC 2449's UID-PARAM ("UID:"
 * and an id) and DESIGN.md ("Identity of a message": a message number is
 * 1-10 digits within 1..count, not deleted; each failure its own reply;
 * 20 bad commands) predicts every octet of the answer, listings and
 * messages included, and the session's output must be exactly that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzzlib.h"
#include "oracle.h"
#include "params.h"

static const char *const verbs[] = {
	"LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP", "RSET", "STAT", "DELI"
};
#define VERBS	(sizeof(verbs) / sizeof(verbs[0]))

enum res { R_OK, R_ERR, R_BAD };

struct model {
	const struct fz_box	*box;
	bool			 deleted[FZ_MSGS_MAX];
	bool			 removed[FZ_MSGS_MAX];	/* by DELI */
	unsigned		 bad;
	const char		*text;		/* the reply's text */
	char			 buf[128];
	struct fz_buf		*out;
};

static void
counts(const struct model *m, size_t *n, size_t *octets)
{
	*n = *octets = 0;
	for (size_t i = 0; i < m->box->count; i++)
		if (!m->deleted[i]) {
			(*n)++;
			*octets += m->box->len[i];
		}
}

static enum res
msgnum(struct model *m, const char *a, size_t len, size_t *idx)
{
	unsigned long long v = 0;

	if (len >= 4 && strncasecmp(a, "UID:", 4) == 0) {
		/* UID-PARAM: an id is looked up, deleted or not. */
		for (v = 0; v < m->box->count; v++)
			if (len - 4 == strlen(m->box->uid[v]) &&
			    memcmp(a + 4, m->box->uid[v], len - 4) == 0)
				break;
		if (v == m->box->count) {
			m->text = "[UID/NOT-FOUND] no such message";
			return R_ERR;
		}
		*idx = (size_t)v;
		if (m->deleted[*idx]) {
			m->text = "[UID/NOT-FOUND] message is deleted";
			return R_ERR;
		}
		return R_OK;
	}
	if (len == 0 || len > 10) {
		m->text = "invalid message number";
		return R_BAD;
	}
	for (size_t i = 0; i < len; i++) {
		if (a[i] < '0' || a[i] > '9') {
			m->text = "invalid message number";
			return R_BAD;
		}
		v = v * 10 + (unsigned long long)(a[i] - '0');
	}
	if (v == 0 || v > m->box->count) {
		m->text = "no such message";
		return R_ERR;
	}
	*idx = (size_t)v - 1;
	if (m->deleted[*idx]) {
		m->text = "message is deleted";
		return R_ERR;
	}
	return R_OK;
}

/*
 * The answer to verb [arg]: R_OK with m->text NULL when the model wrote
 * the whole answer itself.
 */
static enum res
answer(struct model *m, int verb, const char *arg, size_t alen)
{
	const char *sp, *a2;
	size_t idx, n, octets, l1, l2;
	unsigned long long lines = 0;
	enum res r;

	m->text = NULL;
	switch (verb) {
	case 5:	/* NOOP */
	case 6:	/* RSET */
	case 7:	/* STAT */
		if (arg != NULL) {
			m->text = "no argument expected";
			return R_BAD;
		}
		/* RSET: what DELI removed stays deleted. */
		if (verb == 6)
			memcpy(m->deleted, m->removed, sizeof(m->deleted));
		counts(m, &n, &octets);
		if (verb == 6)
			snprintf(m->buf, sizeof(m->buf), "maildrop has %zu "
			    "messages (%zu octets)", n, octets);
		else if (verb == 7)
			snprintf(m->buf, sizeof(m->buf), "%zu %zu", n, octets);
		if (verb != 5)
			m->text = m->buf;
		return R_OK;
	case 0:	/* LIST */
	case 1:	/* UIDL */
		if (arg == NULL) {
			counts(m, &n, &octets);
			if (verb == 0)
				fz_printf(m->out, "+OK %zu messages (%zu "
				    "octets)\r\n", n, octets);
			else
				fz_puts(m->out, "+OK unique-id listing "
				    "follows\r\n");
			for (size_t i = 0; i < m->box->count; i++) {
				if (m->deleted[i])
					continue;
				if (verb == 0)
					fz_printf(m->out, "%zu %zu\r\n", i + 1,
					    m->box->len[i]);
				else
					fz_printf(m->out, "%zu %s\r\n", i + 1,
					    m->box->uid[i]);
			}
			fz_puts(m->out, ".\r\n");
			return R_OK;
		}
		if ((r = msgnum(m, arg, alen, &idx)) != R_OK)
			return r;
		if (verb == 0)
			snprintf(m->buf, sizeof(m->buf), "%zu %zu", idx + 1,
			    m->box->len[idx]);
		else
			snprintf(m->buf, sizeof(m->buf), "%zu %s", idx + 1,
			    m->box->uid[idx]);
		m->text = m->buf;
		return R_OK;
	case 2:	/* RETR */
		if (arg == NULL) {
			m->text = "RETR needs a message number";
			return R_BAD;
		}
		if ((r = msgnum(m, arg, alen, &idx)) != R_OK)
			return r;
		fz_printf(m->out, "+OK %zu octets\r\n", m->box->len[idx]);
		fz_put_stuffed(m->out, m->box->crlf[idx], m->box->len[idx]);
		return R_OK;
	case 3:	/* TOP */
		if (arg == NULL || (sp = memchr(arg, ' ', alen)) == NULL ||
		    sp == arg || sp + 1 == arg + alen || memchr(sp + 1, ' ',
		    alen - (size_t)(sp + 1 - arg)) != NULL) {
			m->text = "TOP needs a message number and a line count";
			return R_BAD;
		}
		l1 = (size_t)(sp - arg);
		a2 = sp + 1;
		l2 = alen - l1 - 1;
		if ((r = msgnum(m, arg, l1, &idx)) != R_OK)
			return r;
		if (l2 > 10) {
			m->text = "invalid line count";
			return R_BAD;
		}
		for (size_t i = 0; i < l2; i++) {
			if (a2[i] < '0' || a2[i] > '9') {
				m->text = "invalid line count";
				return R_BAD;
			}
			lines = lines * 10 + (unsigned long long)(a2[i] - '0');
		}
		fz_puts(m->out, "+OK top of message follows\r\n");
		fz_put_stuffed(m->out, m->box->crlf[idx],
		    oracle_top_len(m->box->crlf[idx],
		    m->box->len[idx], lines));
		return R_OK;
	case 4:	/* DELE */
	case 8:	/* DELI: removed at once */
		if (arg == NULL) {
			m->text = verb == 4 ? "DELE needs a message number" :
			    "DELI needs a message number";
			return R_BAD;
		}
		if ((r = msgnum(m, arg, alen, &idx)) != R_OK)
			return r;
		m->deleted[idx] = true;
		m->removed[idx] = verb == 8 || m->removed[idx];
		m->text = "message deleted";
		return R_OK;
	}
	fz_fail("no verb %d", verb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_fixture *fx = fz_fixture();
	struct session_cfg cfg = { .users = fx->users, .mail_root = fx->root,
	    .peer = "local" };
	const char *allowed[] = { fx->users, fx->users_index, fx->me,
	    fx->maildir, NULL };
	struct fz_buf in = { 0 }, want = { 0 };
	struct model m = { .box = fz_fixture_box(), .out = &want };
	const char *p = (const char *)data, *end = p + size, *nl, *arg;
	bool maildir = size > 0 && (data[0] & 1), stop = false;
	size_t n, alen, octets, marked, cmds = 0;
	enum session_end got_end;
	char verb[5], *out;
	size_t outlen;
	enum res r;

	counts(&m, &n, &octets);
	fz_printf(&in, "USER %s\r\nPASS " FZ_PASS "\r\n",
	    maildir ? "md" : "me");
	fz_printf(&want, "+OK pop3d ready\r\n+OK send PASS\r\n+OK maildrop "
	    "has %zu messages (%zu octets)\r\n", n, octets);
	if (size > 0)
		p++;
	while (p < end && !stop && cmds++ < 256) {
		unsigned sel = (unsigned char)*p;
		int v = (int)((sel & 15) % VERBS);

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n == 0) {
			p++;	/* an empty line: no selector byte */
			continue;
		}
		arg = (sel & 16) ? p + 1 : NULL;
		alen = arg != NULL ? n - 1 : 0;
		p += n + (nl != NULL);

		/* Bits 5-7 lower-case the verb's letters: case is no matter. */
		snprintf(verb, sizeof(verb), "%s", verbs[v]);
		for (size_t i = 0; verb[i] != '\0' && i < 3; i++)
			if (sel & (32u << i))
				verb[i] = (char)(verb[i] - 'A' + 'a');
		fz_puts(&in, verb);
		if (arg != NULL) {
			fz_put(&in, " ", 1);
			fz_put(&in, arg, alen);
		}
		fz_puts(&in, "\r\n");

		/* The line reader first: too long, then a NUL. */
		n = strlen(verb) + (arg != NULL ? 1 + alen : 0) + 1;
		if (n + 1 > POP3D_LINE_MAX) {
			m.text = "line too long";
			r = R_BAD;
		} else if (arg != NULL && memchr(arg, '\0', alen) != NULL) {
			m.text = "invalid character in command";
			r = R_BAD;
		} else
			r = answer(&m, v, arg, alen);
		if (r == R_BAD && ++m.bad >= POP3D_BAD_CMDS_TRANS) {
			m.text = "too many bad commands, closing";
			stop = true;
		}
		if (r == R_OK && m.text == NULL && v != 5)
			continue;	/* the model wrote it all */
		fz_puts(&want, r == R_OK ? "+OK" : "-ERR");
		if (m.text != NULL)
			fz_printf(&want, " %s", m.text);
		fz_puts(&want, "\r\n");
	}
	if (!stop) {
		marked = 0;
		for (size_t i = 0; i < m.box->count; i++)
			marked += m.deleted[i] && !m.removed[i];
		fz_puts(&in, "QUIT\r\n");
		fz_printf(&want, "+OK bye, %zu messages deleted\r\n", marked);
	}

	out = fz_session(&cfg, allowed, in.p, in.len, &outlen, &got_end);
	fz_check_session(in.p, in.len, out, outlen, m.box);
	fz_expect("msgnum", want.p, want.len, out, outlen);
	if (got_end != (stop ? SESSION_ABORT : SESSION_QUIT))
		fz_fail("the session ended as %d", (int)got_end);
	free(out);
	free(in.p);
	free(want.p);
	fz_fixture_reset();
	return 0;
}
