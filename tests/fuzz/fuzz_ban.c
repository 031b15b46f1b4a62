/*
 * fuzz_ban.c: the brute-force state file, as anything could have left it.
 * The first input byte picks the client's key, a wrong or a right
 * password, and the limits; the second whether the file exists and the
 * name; the rest is the file.  ban_attempt and ban_settle must not
 * crash; a file whose first line is no header of pop3d's must be left
 * as it was; otherwise an attempt must rewrite the file well-formed
 * (checked here by a parser of its own: the header, then at most
 * POP3D_BAN_ENTRIES lines of a kind, a canonical key or a digest, and
 * numbers in order), counting the attempt; a ban it reports must be in
 * force at once, a refusal must lift nothing, and a right password must
 * leave the name no failures from the key, and the key known for it.
 */
#include <arpa/inet.h>
#include <sys/stat.h>

#include <sodium.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ban.h"
#include "fuzzlib.h"
#include "params.h"

#define NOW	((time_t)1764201600)

static const char *const keys[] = {
	"192.0.2.1", "2001:db8:1:2::/64", "198.51.100.77", "::/64"
};

static bool
canonical_key(const char *k)
{
	char buf[BAN_KEY_MAX], addr[BAN_KEY_MAX];
	unsigned char a[16];
	size_t n = strlen(k);

	if (inet_pton(AF_INET, k, a) == 1)
		return inet_ntop(AF_INET, a, buf, sizeof(buf)) != NULL &&
		    strcmp(buf, k) == 0;
	if (n < 4 || n >= sizeof(addr) || strcmp(k + n - 3, "/64") != 0)
		return false;
	memcpy(addr, k, n - 3);
	addr[n - 3] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1 ||
	    inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL ||
	    strcmp(buf, addr) != 0)
		return false;
	for (int i = 8; i < 16; i++)
		if (a[i] != 0)
			return false;
	return true;
}

/* A number as ban.c writes one: decimal, no sign, no leading zero. */
static bool
num(const char **p, const char *end, unsigned long long *v)
{
	const char *s = *p;

	*v = 0;
	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end &&
	    s[1] >= '0' && s[1] <= '9'))
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (unsigned long long)(*s - '0');
	}
	*p = s;
	return true;
}

/* What the file says of the key and of the name from the key. */
struct seen {
	unsigned long long	a_failures, a_until;
	bool			p_found;
	unsigned long long	p_failures, p_known;
};

/* Checks the file, and fills *sn for key and name. */
static void
well_formed(const char *path, const char *key, const char *name,
    struct seen *sn)
{
	static const char head[] = "pop3d failures 2\n";
	char *buf, *p, *end, *nl, k[BAN_KEY_MAX], n[40];
	unsigned long long v[4];
	size_t lines = 0, len;
	struct stat sb;
	FILE *f;

	memset(sn, 0, sizeof(*sn));
	if ((f = fopen(path, "rb")) == NULL)
		fz_fail("ban: the file is gone: %s", strerror(errno));
	if (fstat(fileno(f), &sb) == -1 || (buf = malloc((size_t)sb.st_size
	    + 1)) == NULL)
		fz_fail("ban: fstat");
	len = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (len < sizeof(head) - 1 || memcmp(buf, head, sizeof(head) - 1))
		fz_fail("ban: no header");
	p = buf + sizeof(head) - 1;
	end = buf + len;
	for (; p < end; p = nl + 1) {
		const char *q, *sp;
		char kind;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			fz_fail("ban: an unterminated line");
		if ((size_t)(nl - p) + 1 > POP3D_BAN_LINE_MAX)
			fz_fail("ban: a line of %zu octets", (size_t)(nl - p));
		if (++lines > POP3D_BAN_ENTRIES)
			fz_fail("ban: more than %d entries", POP3D_BAN_ENTRIES);
		if (nl - p < 2 || (p[0] != 'a' && p[0] != 'u' &&
		    p[0] != 'p') || p[1] != ' ')
			fz_fail("ban: a line of no kind");
		kind = p[0];
		q = p + 2;
		k[0] = n[0] = '\0';
		for (int field = 0; field < (kind == 'p' ? 2 : 1); field++) {
			bool is_key = kind != 'u' && field == 0;
			size_t fl;

			sp = memchr(q, ' ', (size_t)(nl - q));
			if (sp == NULL || (fl = (size_t)(sp - q)) >=
			    (is_key ? sizeof(k) : sizeof(n)))
				fz_fail("ban: a line without its fields");
			memcpy(is_key ? k : n, q, fl);
			(is_key ? k : n)[fl] = '\0';
			q = sp + 1;
		}
		if (kind != 'u' && !canonical_key(k))
			fz_fail("ban: a key that is no address: %s", k);
		if (kind != 'a' && strlen(n) != 32)
			fz_fail("ban: a name that is no digest: %s", n);
		for (size_t i = 0; kind != 'a' && i < 32; i++)
			if (!((n[i] >= '0' && n[i] <= '9') ||
			    (n[i] >= 'a' && n[i] <= 'f')))
				fz_fail("ban: a name that is no digest: %s", n);
		for (int i = 0; i < 4; i++) {
			if (!num(&q, nl, &v[i]) || (i < 3 && (q == nl ||
			    *q++ != ' ')))
				fz_fail("ban: a malformed line for %s", k);
		}
		if (q != nl)
			fz_fail("ban: trailing bytes for %s", k);
		if ((kind != 'p' && v[0] < 1) || v[0] > UINT32_MAX ||
		    v[2] < v[1] || v[3] > INT64_MAX ||
		    (kind == 'p' && v[0] == 0 && (v[1] != 0 || v[2] != 0 ||
		    v[3] == 0)))
			fz_fail("ban: numbers out of order for %s", k);
		/* ban.c reads the first line of a key (a file edited by
		 * hand may hold two, and they are carried along). */
		if (kind == 'a' && strcmp(k, key) == 0 && sn->a_failures == 0) {
			sn->a_failures = v[0];
			sn->a_until = v[3];
		}
		if (kind == 'p' && strcmp(k, key) == 0 &&
		    strcmp(n, name) == 0 && !sn->p_found) {
			sn->p_found = true;
			sn->p_failures = v[0];
			sn->p_known = v[3];
		}
	}
	free(buf);
}

/* Whether the input file is one ban.c takes for its own. */
static bool
ours(const uint8_t *data, size_t size)
{
	static const char *const heads[] = {
		"pop3d failures 1\n", "pop3d failures 2\n"
	};

	for (int i = 0; i < 2; i++) {
		size_t n = strlen(heads[i]);

		/* The header alone, without its newline, is one too. */
		if ((size >= n && memcmp(data, heads[i], n) == 0) ||
		    (size == n - 1 && memcmp(data, heads[i], n - 1) == 0))
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *dir, *path;
	unsigned sel = size > 0 ? data[0] : 0;
	unsigned sel2 = size > 1 ? data[1] : 0;
	bool right = sel & 4, exists = !(sel2 & 1);
	struct ban_cfg cfg = { NULL, 1 + ((sel >> 3) & 3),
	    (sel & 32) ? 60 : 3600, (sel & 64) ? 1 : 3600, false,
	    (sel & 128) ? 2 : 0, 900 };
	const char *key = keys[sel & 3];
	const char *name = (sel2 & 2) ? "you" : "me";
	const char *allowed[] = { NULL, NULL };
	const uint8_t *file = size > 2 ? data + 2 : data;
	size_t filelen = size > 2 ? size - 2 : 0;
	unsigned char d[16];
	char digest[33];
	unsigned started, started2;
	enum ban_res first, settle = BAN_OK, then;
	struct seen sn;

	if (dir == NULL) {
		dir = files_join(fz_tmpdir(), "ban");
		path = files_join(dir, "failures");
		if (mkdir(dir, 0700) == -1)
			fz_fail("mkdir %s: %s", dir, strerror(errno));
	}
	cfg.path = path;
	allowed[0] = dir;
	if (exists)
		files_write(path, file, filelen);
	else if (unlink(path) == -1 && errno != ENOENT)
		fz_fail("unlink: %s", strerror(errno));
	crypto_generichash(d, sizeof(d), (const unsigned char *)name,
	    strlen(name), NULL, 0);
	sodium_bin2hex(digest, sizeof(digest), d, sizeof(d));

	fz_watch_begin(allowed);
	first = ban_attempt(&cfg, key, name, strlen(name), NOW, &started);
	if (first == BAN_OK && right)
		settle = ban_settle(&cfg, key, name, strlen(name), true, NOW);
	then = ban_attempt(&cfg, key, name, strlen(name), NOW, &started2);
	fz_watch_end();

	if (exists && !ours(file, filelen)) {
		FILE *f;
		char *back;
		size_t n;

		if (first != BAN_FOREIGN || then != BAN_FOREIGN)
			fz_fail("ban: a foreign file taken for ours: %d %d",
			    first, then);
		if ((f = fopen(path, "rb")) == NULL ||
		    (back = malloc(filelen + 1)) == NULL)
			fz_fail("ban: the foreign file is gone");
		n = fread(back, 1, filelen + 1, f);
		fclose(f);
		if (n != filelen || memcmp(back, file, n) != 0)
			fz_fail("ban: a foreign file was written over");
		free(back);
		return 0;
	}
	if ((first != BAN_OK && first != BAN_ADDR && first != BAN_USER) ||
	    (then != BAN_OK && then != BAN_ADDR && then != BAN_USER) ||
	    settle != BAN_OK)
		fz_fail("ban: attempt %d, settle %d, then %d (%s)", first,
		    settle, then, strerror(errno));
	if (first == BAN_ADDR && then != BAN_ADDR)
		fz_fail("ban: a refused attempt lifted a ban");
	/* A refusal writes nothing: the file is as it was given. */
	if (first != BAN_OK && then != BAN_OK)
		return 0;
	well_formed(path, key, digest, &sn);
	if (first == BAN_OK && !right && (started & BAN_STARTED_ADDR) &&
	    then != BAN_ADDR)
		fz_fail("ban: a new ban is not in force");
	/* ... except where the name logged in lately. */
	if (first == BAN_OK && !right && (started & BAN_STARTED_USER) &&
	    then != BAN_USER && then != BAN_ADDR && (sn.p_known == 0 ||
	    sn.p_known + POP3D_BAN_KNOWN_TIME <= (unsigned long long)NOW))
		fz_fail("ban: a new lock is not in force");
	if (then == BAN_OK && sn.a_failures == 0)
		fz_fail("ban: the attempt at %s was not counted", key);
	if (then == BAN_OK && sn.a_failures >= cfg.after &&
	    sn.a_until <= (unsigned long long)NOW)
		fz_fail("ban: %llu failures, limit %u, not banned",
		    sn.a_failures, cfg.after);
	if (first == BAN_OK && right) {
		/* The second attempt is the one failure left. */
		if (!sn.p_found || sn.p_known != (unsigned long long)NOW ||
		    sn.p_failures != (then == BAN_OK))
			fz_fail("ban: a success left %llu failures (%d)",
			    sn.p_failures, sn.p_found);
		if (then == BAN_USER)
			fz_fail("ban: a name locked where it logged in");
	}
	return 0;
}
