/*
 * fuzzlib.c: the fixture, the session runner and the output checks the
 * fuzz targets share (see fuzzlib.h).  Everything here is a test oracle,
 * written independently of the code under test: the line reader's
 * framing and the reply grammar; the CRLF form and TOP's cut are
 * oracle.c's, which the Check suites share.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "files.h"
#include "fuzzlib.h"
#include "io.h"
#include "oracle.h"
#include "params.h"

static void __attribute__((format(printf, 1, 0), noreturn))
vfail(const char *fmt, va_list ap)
{
	fz_watch_end();
	fputs("INVARIANT BROKEN: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(fmt, ap);
}

/* files.c's failures, too, are broken invariants. */
void
files_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(fmt, ap);
}

static void *
xalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		fz_fail("out of memory");
	return p;
}

void
fz_put(struct fz_buf *b, const void *p, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + len + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			fz_fail("out of memory");
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
fz_puts(struct fz_buf *b, const char *s)
{
	fz_put(b, s, strlen(s));
}

void
fz_printf(struct fz_buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		fz_fail("fz_printf: too long");
	fz_put(b, tmp, (size_t)n);
}

/* A readable excerpt of bytes for a report (four may be in use at once). */
static const char *
show(const char *p, size_t len)
{
	static char bufs[4][400];
	static unsigned next;
	char *buf = bufs[next++ % 4];
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < sizeof(bufs[0]); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof(bufs[0]) - o,
			    "\\x%02x", c);
	}
	if (o + 8 >= sizeof(bufs[0]))
		memcpy(buf + o, "...", 4);
	else
		buf[o] = '\0';
	return buf;
}

void
fz_expect(const char *what, const char *want, size_t wantlen, const char *got,
    size_t gotlen)
{
	size_t i, from;

	if (wantlen == gotlen && memcmp(want, got, gotlen) == 0)
		return;
	for (i = 0; i < wantlen && i < gotlen && want[i] == got[i]; i++)
		;
	from = i > 80 ? i - 80 : 0;
	fprintf(stderr, "%s: output differs at octet %zu\n", what, i);
	fprintf(stderr, "  want: %s\n", show(want + from,
	    wantlen - from < 240 ? wantlen - from : 240));
	fprintf(stderr, "  got:  %s\n", show(got + from,
	    gotlen - from < 240 ? gotlen - from : 240));
	fz_fail("%s: pop3d's output is not what it should be", what);
}

/* The temporary folder. */

static char *tmpdir;

static void
rm_tmpdir(void)
{
	if (tmpdir != NULL)
		files_rmrf(tmpdir);
}

const char *
fz_tmpdir(void)
{
	const char *base = getenv("FUZZ_TMPDIR");

	if (tmpdir != NULL)
		return tmpdir;
	if (base == NULL || *base == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	tmpdir = files_tmpdir(base, "pop3d-fuzz");
	atexit(rm_tmpdir);
	return tmpdir;
}

/* RETR's and TOP's lines after the first: stuffed, then ".". */

void
fz_put_stuffed(struct fz_buf *b, const char *crlf, size_t len)
{
	size_t n;
	char *p = oracle_stuffed(crlf, len, &n);

	fz_put(b, p, n);
	fz_puts(b, ".\r\n");
	free(p);
}

/* The fixture. */

static const struct {
	const char	*name;		/* in me/ */
	const char	*maildir;	/* in maildir/ */
	const char	*data;
	size_t		 len;
} fixture_msgs[] = {
#define M(s)	s, sizeof(s) - 1
	{ "1", "new/1", M("Subject: one\n\n.dot\n..\n.\n. \nbody\n") },
	{ "2", "new/2:2,", M("Subject: two\r\n\r\nx") },
	{ "3", "cur/3:2,S", M("") },
	{ "4", "cur/4:2,RS", M("From: a@example.org\nSubject: no body") },
	{ "5", "new/5", M("Subject: bytes\n\nnul\0here\rlone cr\r\r\n"
	    "\xe9t\xc3\xa9\n\r\n.\r\nlast\r") },
	{ "6", "cur/6", M("Subject: six\n\nl1\nl2\n\nl4\r\nl5\n") },
#undef M
};
#define FIXTURE_MSGS	(sizeof(fixture_msgs) / sizeof(fixture_msgs[0]))

static const char canary_text[] = "canary: pop3d must never touch this\n";

static struct fz_fixture fx;
static struct fz_box fx_box;
static char *fx_paths[2][FIXTURE_MSGS];
static char *fx_canary, *fx_other;

const struct fz_fixture *
fz_fixture(void)
{
	const char *dir;
	char *p;

	if (fx.dir != NULL)
		return &fx;
	if (sodium_init() < 0)
		fz_fail("sodium_init");
	dir = fz_tmpdir();
	fx.dir = dir;
	fx.users = files_join(dir, "users");
	fx.users_index = files_join(dir, "users.cdb");
	fx.root = files_join(dir, "mail");
	fx.me = files_join(fx.root, "me");
	fx.maildir = files_join(fx.root, "maildir");
	fx.state = files_join(dir, "state");
	fx.ban = files_join(fx.state, "ban");
	files_mkdir(fx.state);
	files_user(fx.users, "me", FZ_PASS, "", false);
	files_user(fx.users, "md", FZ_PASS, "maildir", false);
	files_user(fx.users, "ro", FZ_PASS, "me", true);

	files_mkdir(fx.root);
	files_mkdir(fx.me);
	files_mkdir(fx.maildir);
	for (size_t i = 0; i < 3; i++) {
		static const char *const sub[] = { "new", "cur", "tmp" };

		p = files_join(fx.maildir, sub[i]);
		files_mkdir(p);
		free(p);
	}
	for (size_t i = 0; i < FIXTURE_MSGS; i++) {
		fx_paths[0][i] = files_join(fx.me, fixture_msgs[i].name);
		fx_paths[1][i] = files_join(fx.maildir,
		    fixture_msgs[i].maildir);
		fx_box.crlf[i] = oracle_crlf(fixture_msgs[i].data,
		    fixture_msgs[i].len, &fx_box.len[i]);
		fx_box.uid[i] = fixture_msgs[i].name;
	}
	fx_box.count = FIXTURE_MSGS;

	/* Canaries: outside every mailbox, and what points at them. */
	fx_canary = files_join(dir, "canary");
	files_write(fx_canary, canary_text, sizeof(canary_text) - 1);
	p = files_join(fx.root, "other");
	files_mkdir(p);
	fx_other = files_join(p, "1");
	free(p);
	files_write(fx_other, canary_text, sizeof(canary_text) - 1);
	p = files_join(fx.me, "link");
	if (symlink("../../canary", p) == -1)
		fz_fail("symlink: %s", strerror(errno));
	free(p);
	p = files_join(fx.me, "pipe");
	if (mkfifo(p, 0600) == -1)
		fz_fail("mkfifo: %s", strerror(errno));
	free(p);
	p = files_join(fx.me, ".hidden");
	files_write(p, canary_text, sizeof(canary_text) - 1);
	free(p);
	p = files_join(fx.me, "sub");
	files_mkdir(p);
	free(p);
	p = files_join(fx.maildir, "tmp/0.M0.host");
	files_write(p, canary_text, sizeof(canary_text) - 1);
	free(p);
	fz_fixture_reset();
	return &fx;
}

const struct fz_box *
fz_fixture_box(void)
{
	fz_fixture();
	return &fx_box;
}

static void
check_file(const char *path, const char *want, size_t len)
{
	size_t n;
	char *got = files_read(path, &n);

	if (got == NULL)
		fz_fail("canary %s is gone", path);
	if (n != len || memcmp(got, want, len) != 0)
		fz_fail("canary %s changed", path);
	free(got);
}

void
fz_check_canaries(void)
{
	struct stat sb;
	char *p;

	check_file(fx_canary, canary_text, sizeof(canary_text) - 1);
	check_file(fx_other, canary_text, sizeof(canary_text) - 1);
	p = files_join(fx.me, "link");
	if (lstat(p, &sb) == -1 || !S_ISLNK(sb.st_mode))
		fz_fail("the symlink in the mailbox is gone");
	free(p);
}

void
fz_fixture_reset(void)
{
	struct stat sb;

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < FIXTURE_MSGS; i++) {
			if (lstat(fx_paths[k][i], &sb) == 0 &&
			    S_ISREG(sb.st_mode) &&
			    (size_t)sb.st_size == fixture_msgs[i].len)
				continue;
			files_write(fx_paths[k][i], fixture_msgs[i].data,
			    fixture_msgs[i].len);
		}
	fz_check_canaries();
}

/* Running a session. */

char *
fz_session(const struct session_cfg *cfg, const char *const *allowed,
    const void *in, size_t inlen, size_t *outlen, enum session_end *end)
{
	struct session_cfg c = *cfg;
	struct io *io;
	struct stat sb;
	char *out;
	int ifd, ofd;

	c.fail_delay_ms = 0;
	ifd = memfd_create("pop3d-fuzz-in", MFD_CLOEXEC);
	ofd = memfd_create("pop3d-fuzz-out", MFD_CLOEXEC);
	if (ifd == -1 || ofd == -1)
		fz_fail("memfd_create: %s", strerror(errno));
	if ((inlen > 0 && write(ifd, in, inlen) != (ssize_t)inlen) ||
	    lseek(ifd, 0, SEEK_SET) != 0)
		fz_fail("memfd write: %s", strerror(errno));
	if ((io = io_new(ifd, ofd, 5)) == NULL)
		fz_fail("io_new: %s", strerror(errno));
	fz_watch_begin(allowed);
	*end = session_run(io, &c);
	fz_watch_end();
	io_free(io);
	if (fstat(ofd, &sb) == -1)
		fz_fail("fstat: %s", strerror(errno));
	out = xalloc((size_t)sb.st_size + 1);
	if (pread(ofd, out, (size_t)sb.st_size, 0) != sb.st_size)
		fz_fail("pread: %s", strerror(errno));
	out[sb.st_size] = '\0';
	*outlen = (size_t)sb.st_size;
	close(ifd);
	close(ofd);
	return out;
}

/*
 * The session checks.  The input is split as io_getline splits it: a
 * line ends at LF; one CR before the LF is dropped; a line whose length
 * with its LF exceeds the limit is one over-long line; bytes after the
 * last LF are never a command.  The output is split at CRLF (a bare LF
 * in it is a fault).  Each reply must start with "+OK" or "-ERR" (alone
 * or before a space), or be a SASL challenge "+ " to an AUTH; the first
 * line of a reply stays within POP3D_REPLY_MAX.  A "+OK" to the commands
 * of multiline[] (those without an argument where marked) opens a
 * multi-line answer that ends with ".", whose other lines are
 * dot-stuffed; listings keep within POP3D_REPLY_MAX too.
 */
static const struct {
	const char	*verb;
	bool		 only_bare;	/* multi-line without an argument */
	bool		 message;	/* the lines are a message */
} multiline[] = {
	{ "CAPA", false, false },
	{ "LIST", true, false },
	{ "UIDL", true, false },
	{ "AUTH", true, false },
	{ "RETR", false, true },
	{ "TOP", false, true },
};

struct in_rd {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

struct cmd {
	const char	*line;
	size_t		 len;
	bool		 lng;		/* over-long: an "-ERR" */
	bool		 nul;
	char		 verb[8];	/* upper case; "" when longer */
	const char	*arg;		/* NULL: no space after verb */
	size_t		 alen;
};

static bool
in_line(struct in_rd *r, size_t max, struct cmd *c)
{
	const char *s = r->p + r->off, *nl, *sp;
	size_t n, vlen;

	nl = memchr(s, '\n', r->len - r->off);
	if (nl == NULL)
		return false;
	n = (size_t)(nl - s);
	r->off += n + 1;
	memset(c, 0, sizeof(*c));
	c->lng = n + 1 > max;
	if (!c->lng && n > 0 && s[n - 1] == '\r')
		n--;
	c->line = s;
	c->len = n;
	c->nul = memchr(s, '\0', n) != NULL;
	sp = memchr(s, ' ', n);
	vlen = sp != NULL ? (size_t)(sp - s) : n;
	/* pop3d dispatches neither an over-long line nor one with a NUL. */
	if (vlen < sizeof(c->verb) && !c->lng && !c->nul)
		for (size_t i = 0; i < vlen; i++)
			c->verb[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ?
			    s[i] - 'a' + 'A' : s[i]);
	if (sp != NULL) {
		c->arg = sp + 1;
		c->alen = n - vlen - 1;
	}
	return true;
}

static bool
in_more(const struct in_rd *r)
{
	return memchr(r->p + r->off, '\n', r->len - r->off) != NULL;
}

struct out_rd {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

static bool
out_line(struct out_rd *o, const char **line, size_t *len)
{
	const char *s = o->p + o->off, *nl;
	size_t n;

	if (o->off == o->len)
		return false;
	if ((nl = memchr(s, '\n', o->len - o->off)) == NULL)
		fz_fail("output ends inside a line: %s",
		    show(s, o->len - o->off));
	n = (size_t)(nl - s);
	if (n == 0 || s[n - 1] != '\r')
		fz_fail("a bare LF in the output at octet %zu", o->off + n);
	*line = s;
	*len = n - 1;
	o->off += n + 1;
	return true;
}

static bool
is(const char *l, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(l, s, n) == 0;
}

static bool
starts(const char *l, size_t n, const char *s)
{
	return n >= strlen(s) && memcmp(l, s, strlen(s)) == 0;
}

/* A message number or count as pop3d must parse it: 1..10 digits. */
static bool
number(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 10)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/*
 * What the session has listed: positions (message number - 1) map to
 * the box's messages.  DELE marks; DELI marks and removes at once; SLEE
 * removes what is marked and sleeps; WAKE lists afresh what is left, so
 * numbers change (POP3 Listener's SLEE-WAKE).  QAUT removes what is
 * marked and goes back to AUTHORIZATION; the next login may be anyone's
 * (every fixture box holds the same messages, but each its own files),
 * so from there on only the grammar and the counts of replies are
 * checked (box NULL).
 */
enum mstate { M_AUTH, M_TRANS, M_SLEEP };

struct model {
	const struct fz_box	*box;
	enum mstate		 state;
	size_t			 count;
	size_t			 map[FZ_MSGS_MAX];
	bool			 deleted[FZ_MSGS_MAX];	/* by number */
	bool			 removed[FZ_MSGS_MAX];	/* by file */
	unsigned		 fails;
};

static void
relist(struct model *m)
{
	m->count = 0;
	for (size_t i = 0; i < m->box->count; i++)
		if (!m->removed[i])
			m->map[m->count++] = i;
	memset(m->deleted, 0, sizeof(m->deleted));
}

static size_t
msg_len(const struct model *m, size_t pos)
{
	return m->box->len[m->map[pos]];
}

static void
totals(const struct model *m, size_t *n, uint64_t *octets)
{
	*n = 0;
	*octets = 0;
	for (size_t i = 0; i < m->count; i++)
		if (!m->deleted[i]) {
			(*n)++;
			*octets += msg_len(m, i);
		}
}

static void
expect_line(const char *what, const char *l, size_t n, const char *want)
{
	if (!is(l, n, want))
		fz_fail("%s: got \"%s\", want \"%s\"", what, show(l, n), want);
}

/*
 * The position a command that got "+OK" names: a message number, or
 * "UID:" and a listed unique id (UID-PARAM).  It must be valid and not
 * deleted.
 */
static size_t
ok_msgnum(const struct model *m, const struct cmd *c, size_t alen)
{
	uint64_t v;

	if (alen >= 4 && strncasecmp(c->arg, "UID:", 4) == 0) {
		for (v = 0; v < m->count; v++)
			if (is(c->arg + 4, alen - 4, m->box->uid[m->map[v]]))
				break;
		v++;
	} else if (!number(c->arg, alen, &v))
		v = 0;
	if (v == 0 || v > m->count)
		fz_fail("+OK to an invalid message number: %s",
		    show(c->line, c->len));
	if (m->deleted[v - 1])
		fz_fail("+OK for a deleted message: %s", show(c->line, c->len));
	return (size_t)v - 1;
}

/* Reads a multi-line answer's lines up to "."; unstuffed into body. */
static void
read_multi(struct out_rd *o, bool message, struct fz_buf *body)
{
	const char *l;
	size_t n;

	for (;;) {
		if (!out_line(o, &l, &n))
			fz_fail("a multi-line answer without its \".\"");
		if (is(l, n, "."))
			return;
		if (n > 0 && l[0] == '.') {
			if (n < 2 || l[1] != '.')
				fz_fail("a line starting with '.' not "
				    "dot-stuffed: %s", show(l, n));
			l++;
			n--;
		}
		if (!message && n + 2 > POP3D_REPLY_MAX)
			fz_fail("a listing line of %zu octets", n + 2);
		fz_put(body, l, n);
		fz_put(body, "\r\n", 2);
	}
}

static void
check_listing(const struct model *m, const char *verb, const char *body,
    size_t len)
{
	struct fz_buf want = { 0 };

	for (size_t i = 0; i < m->count; i++) {
		if (m->deleted[i])
			continue;
		if (strcmp(verb, "LIST") == 0)
			fz_printf(&want, "%zu %zu\r\n", i + 1, msg_len(m, i));
		else
			fz_printf(&want, "%zu %s\r\n", i + 1,
			    m->box->uid[m->map[i]]);
	}
	fz_expect(verb, want.p == NULL ? "" : want.p, want.len, body, len);
	free(want.p);
}

/* Checks what a "+OK" in TRANSACTION says, against the box. */
static void
check_trans(struct model *m, const struct cmd *c, const char *l, size_t n,
    const char *body, size_t blen)
{
	char want[POP3D_REPLY_MAX];
	uint64_t octets, v;
	size_t pos, cnt;
	const char *sp;

	totals(m, &cnt, &octets);
	if (strcmp(c->verb, "STAT") == 0) {
		snprintf(want, sizeof(want), "+OK %zu %ju", cnt,
		    (uintmax_t)octets);
		expect_line("STAT", l, n, want);
	} else if (strcmp(c->verb, "RSET") == 0) {
		for (size_t i = 0; i < m->count; i++)
			m->deleted[i] = m->removed[m->map[i]];
		totals(m, &cnt, &octets);
		snprintf(want, sizeof(want), "+OK maildrop has %zu messages "
		    "(%ju octets)", cnt, (uintmax_t)octets);
		expect_line("RSET", l, n, want);
	} else if ((strcmp(c->verb, "LIST") == 0 ||
	    strcmp(c->verb, "UIDL") == 0) && c->arg == NULL) {
		if (strcmp(c->verb, "LIST") == 0) {
			snprintf(want, sizeof(want), "+OK %zu messages (%ju "
			    "octets)", cnt, (uintmax_t)octets);
			expect_line("LIST", l, n, want);
		}
		check_listing(m, c->verb, body, blen);
	} else if (strcmp(c->verb, "LIST") == 0 ||
	    strcmp(c->verb, "UIDL") == 0) {
		pos = ok_msgnum(m, c, c->alen);
		if (strcmp(c->verb, "LIST") == 0)
			snprintf(want, sizeof(want), "+OK %zu %zu", pos + 1,
			    msg_len(m, pos));
		else
			snprintf(want, sizeof(want), "+OK %zu %s", pos + 1,
			    m->box->uid[m->map[pos]]);
		expect_line(c->verb, l, n, want);
	} else if (strcmp(c->verb, "RETR") == 0) {
		pos = ok_msgnum(m, c, c->alen);
		snprintf(want, sizeof(want), "+OK %zu octets", msg_len(m, pos));
		expect_line("RETR", l, n, want);
		fz_expect("RETR", m->box->crlf[m->map[pos]], msg_len(m, pos),
		    body, blen);
	} else if (strcmp(c->verb, "TOP") == 0) {
		if ((sp = memchr(c->arg, ' ', c->alen)) == NULL ||
		    !number(sp + 1, c->alen - (size_t)(sp - c->arg) - 1, &v))
			fz_fail("+OK to a bad TOP: %s", show(c->line, c->len));
		pos = ok_msgnum(m, c, (size_t)(sp - c->arg));
		fz_expect("TOP", m->box->crlf[m->map[pos]], oracle_top_len(
		    m->box->crlf[m->map[pos]], msg_len(m, pos), v), body, blen);
	} else if (strcmp(c->verb, "DELE") == 0 ||
	    strcmp(c->verb, "DELI") == 0) {
		pos = ok_msgnum(m, c, c->alen);
		m->deleted[pos] = true;
		if (strcmp(c->verb, "DELI") == 0)
			m->removed[m->map[pos]] = true;
	} else if (strcmp(c->verb, "SLEE") == 0) {
		for (size_t i = 0; i < m->count; i++)
			if (m->deleted[i])
				m->removed[m->map[i]] = true;
		m->state = M_SLEEP;
	} else if (strcmp(c->verb, "QAUT") == 0) {
		m->state = M_AUTH;
		m->box = NULL;
	}
}

/* Checks the answer to c, whose first line is l; reads the rest. */
static void
check_answer(struct model *m, const struct cmd *c, const char *l, size_t n,
    struct out_rd *o)
{
	bool ok = starts(l, n, "+OK") && (n == 3 || l[3] == ' ');
	bool multi = false, message = false;
	struct fz_buf body = { 0 };
	char want[POP3D_REPLY_MAX];
	uint64_t octets;
	size_t cnt;

	if (!ok && !(starts(l, n, "-ERR") && (n == 4 || l[4] == ' ')))
		fz_fail("a reply that is neither +OK nor -ERR: \"%s\" to "
		    "\"%s\"", show(l, n), show(c->line, c->len));
	if (ok && (c->lng || c->nul))
		fz_fail("+OK to a line that is too long or holds a NUL");
	for (size_t i = 0; ok && i < sizeof(multiline) / sizeof(multiline[0]);
	    i++)
		if (strcmp(c->verb, multiline[i].verb) == 0 &&
		    (!multiline[i].only_bare || c->arg == NULL)) {
			multi = true;
			message = multiline[i].message;
		}
	if (multi)
		read_multi(o, message, &body);

	switch (m->state) {
	case M_AUTH:
		if (ok && (strcmp(c->verb, "PASS") == 0 ||
		    strcmp(c->verb, "AUTH") == 0) && c->arg != NULL) {
			m->state = M_TRANS;
			if (m->box == NULL)
				break;
			memset(m->removed, 0, sizeof(m->removed));
			relist(m);
			totals(m, &cnt, &octets);
			snprintf(want, sizeof(want), "+OK maildrop has %zu "
			    "messages (%ju octets)", cnt, (uintmax_t)octets);
			expect_line("login", l, n, want);
		} else if (!ok && (is(l, n, "-ERR [AUTH] authentication "
		    "failed") || starts(l, n, "-ERR [SYS/PERM] login ") ||
		    is(l, n, "-ERR [SYS/TEMP] try again later")))
			m->fails++;
		break;
	case M_TRANS:
		if (ok && m->box != NULL)
			check_trans(m, c, l, n, body.p == NULL ? "" : body.p,
			    body.len);
		else if (ok && strcmp(c->verb, "SLEE") == 0)
			m->state = M_SLEEP;
		else if (ok && strcmp(c->verb, "QAUT") == 0)
			m->state = M_AUTH;
		break;
	case M_SLEEP:
		if (!ok || strcmp(c->verb, "WAKE") != 0)
			break;
		m->state = M_TRANS;
		if (m->box == NULL)
			break;
		relist(m);
		totals(m, &cnt, &octets);
		snprintf(want, sizeof(want), "+OK [ACTIVITY/NONE] maildrop "
		    "has %zu messages (%ju octets)", cnt, (uintmax_t)octets);
		expect_line("WAKE", l, n, want);
		break;
	}
	free(body.p);
}

void
fz_check_session(const void *in, size_t inlen, const char *out,
    size_t outlen, const struct fz_box *box)
{
	struct in_rd r = { in, inlen, 0 };
	struct out_rd o = { out, outlen, 0 };
	struct model m = { .box = box, .state = M_AUTH };
	struct cmd c;
	bool have = false, ended = false, sasl_eof = false;
	const char *l;
	size_t n;

	if (!out_line(&o, &l, &n) || !starts(l, n, "+OK"))
		fz_fail("no greeting");
	while (out_line(&o, &l, &n)) {
		if (ended)
			fz_fail("output after the session's end: %s",
			    show(l, n));
		if (sasl_eof)
			fz_fail("a reply after the client's EOF: %s",
			    show(l, n));
		if (n + 2 > POP3D_REPLY_MAX)
			fz_fail("a reply of %zu octets", n + 2);
		if (!have) {
			if (!in_line(&r, POP3D_LINE_MAX, &c))
				fz_fail("a reply no command asked for: %s",
				    show(l, n));
			have = true;
		}
		if (starts(l, n, "+ ")) {
			/* A SASL challenge: the next line is its response. */
			struct cmd resp;

			if (strcmp(c.verb, "AUTH") != 0 || c.arg == NULL ||
			    m.state != M_AUTH)
				fz_fail("a SASL challenge to \"%s\"",
				    show(c.line, c.len));
			if (!in_line(&r, POP3D_SASL_LINE_MAX, &resp))
				sasl_eof = true;
			continue;
		}
		check_answer(&m, &c, l, n, &o);
		have = false;
		if (strcmp(c.verb, "QUIT") == 0 && c.arg == NULL)
			ended = true;
		if (is(l, n, "-ERR too many bad commands, closing"))
			ended = true;
		if (m.state == M_AUTH && m.fails >= POP3D_AUTH_FAILS)
			ended = true;
	}
	if (have && !sasl_eof)
		fz_fail("no reply to \"%s\"", show(c.line, c.len));
	if (!ended && !sasl_eof && in_more(&r))
		fz_fail("pop3d stopped answering before the client's EOF");
}
