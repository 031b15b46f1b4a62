/*
 * import.h: reading what an old POP3 server left in a mailbox, for
 * pop3d-import: Dovecot's dovecot-uidlist and pop3_uidl_format, an
 * X-UIDL header.  Everything read is the old server's (or anyone's who
 * could write the mailbox): lines are bounded and parsed strictly.
 * Knows nothing of pop3d's own files (uidls.h) or of the listing.
 */
#ifndef POP3D_IMPORT_H
#define POP3D_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Checks a Dovecot pop3_uidl_format: %u (UID), %v (UIDVALIDITY), %f
 * (file name), %g (GUID) and %%, each with Dovecot's [offset.]width,
 * a leading 0 to pad, and the modifiers X (hex, of %u and %v), L and U.
 * 0, or -1 with *why saying what is not supported (%m: Dovecot keeps
 * no header MD5 for Maildir).
 */
int		 import_format_check(const char *fmt, const char **why);

/* One message as dovecot-uidlist records it. */
struct import_record {
	uint32_t	 uid;
	const char	*name;		/* the file name as recorded */
	const char	*pop3_uidl;	/* the P field (pop3_save_uidl), or NULL */
	const char	*guid;		/* the G field, or NULL */
};

/*
 * Writes the UIDL that Dovecot gives r under fmt (checked) into out
 * (terminated); a P field wins over fmt, as in Dovecot.  The length, or
 * -1 when it does not fit cap.
 */
int		 import_format(char *out, size_t cap, const char *fmt,
		    uint32_t uidvalidity, const struct import_record *r);

/*
 * The first line of a dovecot-uidlist (NUL-terminated, no newline):
 * version 1 or 3.  0 with *version and *uidvalidity, or -1.
 */
int		 import_uidlist_header(const char *line, int *version,
		    uint32_t *uidvalidity);

/*
 * A record line of a dovecot-uidlist of that version, NUL-terminated:
 * fields are cut in place (line is changed) and *r points into it.  1
 * when well-formed, 0 when not.
 */
int		 import_uidlist_record(char *line, int version,
		    struct import_record *r);

/* One message as Courier's courierpop3dsizelist records it. */
struct import_courier {
	const char	*name;		/* the file name as recorded */
	unsigned long	 n;		/* its UID number, or 0 */
	unsigned long	 uidv;		/* the UIDVALIDITY, or 0 */
};

/* The first line of a courierpop3dsizelist: "/2 ..." or "/3 ...": 0, -1. */
int		 import_courier_header(const char *line);

/*
 * A record line of a courierpop3dsizelist, NUL-terminated: "<name>
 * <size> <n>:<uidv>[:<utf8>]", cut in place.  1 when well-formed, 0 not.
 */
int		 import_courier_record(char *line, struct import_courier *r);

/*
 * The UIDL Courier gives: "UID<n>-<uidv>" ("UID<n>" without a uidv);
 * with n 0, or for a message no courierpop3dsizelist names (Courier
 * before it kept one), the name up to its ':' with each octet outside
 * 0x21..0x7E, '\'', '"' and '+' written "+XX".  The length written
 * into out (terminated), or -1 when it does not fit cap.
 */
int		 import_courier_uidl(char *out, size_t cap, const char *name,
		    unsigned long n, unsigned long uidv);

/* One line of a Dovecot passwd-file, cut in place. */
struct import_passwd {
	const char	*name;
	const char	*scheme;	/* "ARGON2ID", ...; "" without "{...}" */
	const char	*hash;		/* after the scheme */
	const char	*home;		/* "" when not given */
	const char	*mail;		/* userdb_mail= or mail=, or NULL */
};

/*
 * Parses "name:{SCHEME}hash:uid:gid:gecos:home:shell:extra" (fields
 * after the password may be missing; extra fields are blank-separated),
 * NUL-terminated.  1 with *p pointing into line, 0 for a comment or an
 * empty line, -1 when malformed.
 */
int		 import_passwd_line(char *line, struct import_passwd *p);

/*
 * The scheme and hash of a password, by what pop3d can do with it:
 * IMPORT_HASH_OK (argon2id, or a legacy scheme pop3d verifies: yescrypt,
 * sha512-crypt, bcrypt; kept as it is), IMPORT_HASH_WEAK (a scheme
 * an attacker with the file breaks fast: plain text, DES, MD5, SHA...),
 * IMPORT_HASH_UNSUPPORTED (strong, but not one pop3d verifies).  *what
 * names the scheme for a message (the scheme itself, or the crypt(3)
 * method its value shows).
 */
enum import_hash { IMPORT_HASH_OK, IMPORT_HASH_WEAK, IMPORT_HASH_UNSUPPORTED };
enum import_hash import_hash_kind(const char *scheme, const char *hash,
		    const char **what);

/*
 * The value of the first X-UIDL header field in a message's header,
 * head[0..len) (what was read of it): blanks before it cut, those after
 * kept (as Dovecot does), a CR before the newline dropped; not unfolded.
 * 0 with *v and *vlen pointing into head, or -1 when there is none.
 */
int		 import_x_uidl(const char *head, size_t len, const char **v,
		    size_t *vlen);

#endif
