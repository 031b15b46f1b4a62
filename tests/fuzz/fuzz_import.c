/*
 * fuzz_import.c: what pop3d-import reads of an old server's files, as
 * bytes anyone who could write the mailbox (or the passwd-file) could
 * have put there; pop3d-import often runs as root.  The first byte picks
 * the reader, the rest is its input: a dovecot-uidlist line (rendered
 * with a format the second byte picks), a courierpop3dsizelist line, a
 * passwd-file line, a message header for X-UIDL, a whole mbox, or an
 * entry of the upgrade spool (rehash.h), which pop3d-passwd upgrade
 * reads as root from a folder pop3d's user writes.
 *
 * Checks: nothing is read past the input (ASan); a rendered UIDL fits
 * what it was given and is terminated; a record's fields point into the
 * line; an X-UIDL value lies within the header; mbox messages are in
 * order, within the input, and with what was skipped account for every
 * byte but the separators; a spool entry is taken only when it is one
 * that rehash_write writes back byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "files.h"
#include "import.h"
#include "legacy.h"
#include "mbox.h"
#include "rehash.h"

static const char *const formats[] = { "%08Xu%08Xv", "%v.%u", "%f", "%g",
    "%03u-%Lf", "%1.8f%Xu", "%Uf", "a%%b%u", "%0.99g" };

/* Whether p lies within [lo, lo + len]. */
static bool
within(const char *p, const char *lo, size_t len)
{
	return p >= lo && p <= lo + len;
}

static void
render(const char *fmt, uint32_t uidv, const struct import_record *r)
{
	char out[64];
	int n = import_format(out, sizeof(out), fmt, uidv, r);

	if (n >= (int)sizeof(out) || (n >= 0 && strlen(out) != (size_t)n))
		fz_fail("import_format: %d octets in a 64-octet buffer", n);
}

static void
uidlist(char *line, size_t len, unsigned pick)
{
	struct import_record r;
	uint32_t uidv;
	int version;

	if (import_uidlist_header(line, &version, &uidv) == 0 &&
	    version != 1 && version != 3)
		fz_fail("header of version %d", version);
	if (!import_uidlist_record(line, pick & 1 ? 1 : 3, &r))
		return;
	if (!within(r.name, line, len) || (r.pop3_uidl != NULL &&
	    !within(r.pop3_uidl, line, len)) || (r.guid != NULL &&
	    !within(r.guid, line, len)) || r.uid == 0)
		fz_fail("a record's fields outside its line");
	render(formats[pick % (sizeof(formats) / sizeof(formats[0]))],
	    (uint32_t)pick * 2654435761U, &r);
}

static void
courier(char *line, size_t len)
{
	struct import_courier r;
	char out[64];
	int n;

	(void)import_courier_header(line);
	if (!import_courier_record(line, &r))
		return;
	if (!within(r.name, line, len))
		fz_fail("courier name outside its line");
	n = import_courier_uidl(out, sizeof(out), r.name, r.n, r.uidv);
	if (n >= (int)sizeof(out) || (n >= 0 && strlen(out) != (size_t)n))
		fz_fail("import_courier_uidl: %d", n);
	for (int i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x21 ||
		    (unsigned char)out[i] > 0x7e)
			fz_fail("courier UIDL holds 0x%02x", out[i]);
}

static void
passwd(char *line, size_t len)
{
	struct import_passwd p;
	const char *what;

	if (import_passwd_line(line, &p) != 1)
		return;
	if (!within(p.name, line, len) || !within(p.hash, line, len) ||
	    (p.mail != NULL && !within(p.mail, line, len)) || *p.name == '\0')
		fz_fail("passwd fields outside the line");
	(void)import_hash_kind(p.scheme, p.hash, &what);
	if (what == NULL)
		fz_fail("a scheme without a name");
}

struct split {
	const char	*data;
	size_t		 len;
	const char	*last;		/* end of the previous message */
	size_t		 bytes;
};

static int
message(void *arg, const char *p, size_t len)
{
	struct split *s = arg;

	if (p < s->last || p + len > s->data + s->len)
		fz_fail("an mbox message out of order or outside the input");
	s->last = p + len;
	s->bytes += len;
	return 0;
}

static int
spooled(void *arg, const char *file, const struct rehash_entry *e)
{
	struct rehash_entry *out = arg;

	(void)file;
	if (e != NULL)
		*out = *e;
	else
		out->namelen = 0;
	return 0;
}

static void
spool(const char *data, size_t len)
{
	static char *dir, *again, *entry;
	struct rehash_entry e, back;

	if (dir == NULL) {
		dir = files_join(fz_tmpdir(), "spool");
		again = files_join(fz_tmpdir(), "again");
		entry = files_join(dir, "u0");
		files_mkdir(dir);
	}
	files_write(entry, data, len);
	memset(&e, 0, sizeof(e));
	if (rehash_each(dir, spooled, &e) != 0)
		fz_fail("rehash_each failed");
	if (e.namelen == 0)
		return;
	if (e.namelen > POP3D_NAME_MAX || !legacy_is(e.old) ||
	    strncmp(e.new, "$argon2id$", 10) != 0)
		fz_fail("a spool entry taken with bad fields");
	/* What was taken is what rehash_write writes, byte for byte. */
	if (rehash_write(again, &e) != 0)
		fz_fail("rehash_write failed");
	memset(&back, 0, sizeof(back));
	if (rehash_each(again, spooled, &back) != 0 || back.namelen !=
	    e.namelen || memcmp(back.name, e.name, e.namelen) != 0 ||
	    strcmp(back.old, e.old) != 0 || strcmp(back.new, e.new) != 0)
		fz_fail("a spool entry does not round-trip");
	files_rmrf(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct split s;
	const char *v;
	size_t vlen, skipped, len;
	char *line;

	if (size < 2)
		return 0;
	len = size - 2;
	/* A line as file_each_line hands it: NUL-terminated, no NUL. */
	if ((line = malloc(len + 1)) == NULL)
		fz_fail("malloc");
	memcpy(line, data + 2, len);
	line[len] = '\0';
	switch (data[0] % 6) {
	case 0:
		if (memchr(line, '\0', len) == NULL)
			uidlist(line, len, data[1]);
		break;
	case 1:
		if (memchr(line, '\0', len) == NULL)
			courier(line, len);
		break;
	case 2:
		if (memchr(line, '\0', len) == NULL)
			passwd(line, len);
		break;
	case 3:
		if (import_x_uidl(line, len, &v, &vlen) == 0 &&
		    (!within(v, line, len) || !within(v + vlen, line, len)))
			fz_fail("X-UIDL value outside the header");
		break;
	case 5:
		spool(line, len);
		break;
	default:
		s = (struct split){ .data = line, .len = len, .last = line };
		skipped = 0;
		if (mbox_split(line, len, message, &s, &skipped) != 0)
			fz_fail("mbox_split stopped by itself");
		if (skipped > len || s.bytes + skipped > len)
			fz_fail("mbox: more bytes than the input");
		break;
	}
	free(line);
	return 0;
}
