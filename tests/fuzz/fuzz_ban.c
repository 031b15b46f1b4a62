/*
 * fuzz_ban.c: the brute-force state file, as anything could have left it.
 * The first input byte picks the client's key, success or failure, and
 * the limits; the second whether the file exists; the rest is the file.
 * ban_banned and ban_record must not crash; a failure must rewrite the
 * file well-formed (checked here by a parser of its own: the header,
 * then at most POP3D_BAN_ENTRIES lines of a canonical key and four
 * numbers in order), holding the key; a ban ban_record reports must be
 * in force at once, and a success must clear the key.
 */
#include <arpa/inet.h>
#include <sys/stat.h>

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

/* Checks the file; returns the failures recorded for key (0: none). */
static unsigned long long
well_formed(const char *path, const char *key, unsigned long long *until)
{
	static const char head[] = "pop3d failures 1\n";
	char *buf, *p, *end, *nl, k[BAN_KEY_MAX];
	unsigned long long v[4], found = 0;
	size_t lines = 0, len;
	struct stat sb;
	FILE *f;

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
		const char *q;
		size_t kl;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			fz_fail("ban: an unterminated line");
		if ((size_t)(nl - p) + 1 > POP3D_BAN_LINE_MAX)
			fz_fail("ban: a line of %zu octets", (size_t)(nl - p));
		if (++lines > POP3D_BAN_ENTRIES)
			fz_fail("ban: more than %d entries", POP3D_BAN_ENTRIES);
		q = memchr(p, ' ', (size_t)(nl - p));
		if (q == NULL || (kl = (size_t)(q - p)) >= sizeof(k))
			fz_fail("ban: a line without a key");
		memcpy(k, p, kl);
		k[kl] = '\0';
		if (!canonical_key(k))
			fz_fail("ban: a key that is no address: %s", k);
		q++;
		for (int i = 0; i < 4; i++) {
			if (!num(&q, nl, &v[i]) || (i < 3 && (q == nl ||
			    *q++ != ' ')))
				fz_fail("ban: a malformed line for %s", k);
		}
		if (q != nl)
			fz_fail("ban: trailing bytes for %s", k);
		if (v[0] < 1 || v[0] > UINT32_MAX || v[2] < v[1] ||
		    v[1] > INT64_MAX || v[2] > INT64_MAX || v[3] > INT64_MAX)
			fz_fail("ban: numbers out of order for %s", k);
		/* ban.c reads the first line of a key (a file edited by
		 * hand may hold two, and they are carried along). */
		if (strcmp(k, key) == 0 && !found) {
			found = v[0];
			*until = v[3];
		}
	}
	free(buf);
	return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *dir, *path;
	unsigned sel = size > 0 ? data[0] : 0;
	bool failed = !(sel & 4), exists = !(size > 1 && (data[1] & 1));
	struct ban_cfg cfg = { NULL, 1 + ((sel >> 3) & 3),
	    (sel & 32) ? 60 : 3600, (sel & 64) ? 1 : 3600, false };
	const char *key = keys[sel & 3];
	const char *allowed[] = { NULL, NULL };
	unsigned long long failures, until = 0;
	int banned, rec, after;

	if (dir == NULL) {
		dir = fz_join(fz_tmpdir(), "ban");
		path = fz_join(dir, "failures");
		if (mkdir(dir, 0700) == -1)
			fz_fail("mkdir %s: %s", dir, strerror(errno));
	}
	cfg.path = path;
	allowed[0] = dir;
	if (exists)
		fz_write(path, size > 2 ? data + 2 : data, size > 2 ?
		    size - 2 : 0);
	else if (unlink(path) == -1 && errno != ENOENT)
		fz_fail("unlink: %s", strerror(errno));

	fz_watch_begin(allowed);
	banned = ban_banned(&cfg, key, NOW);
	rec = ban_record(&cfg, key, failed, NOW);
	after = ban_banned(&cfg, key, NOW);
	fz_watch_end();

	if (banned < 0 || banned > 1 || rec < 0 || rec > 1 || after < 0 ||
	    after > 1)
		fz_fail("ban: banned %d, record %d, then %d (%s)", banned, rec,
		    after, strerror(errno));
	if (!failed) {
		if (rec != 0 || after != 0)
			fz_fail("ban: a success left %s banned", key);
		return 0;
	}
	failures = well_formed(path, key, &until);
	if (failures == 0)
		fz_fail("ban: the failure of %s was not recorded", key);
	if (rec == 1 && (after != 1 || until <= (unsigned long long)NOW))
		fz_fail("ban: a new ban is not in force");
	if (banned == 1 && after != 1)
		fz_fail("ban: a failure lifted a ban");
	if (failures >= cfg.after && after != 1)
		fz_fail("ban: %llu failures, limit %u, not banned", failures,
		    cfg.after);
	return 0;
}
