/*
 * confcheck.h: pop3d --check, the configuration check: everything a
 * session would need, looked at as the user the check runs as, each
 * problem named with its file or option, what is wrong and what to do.
 */
#ifndef POP3D_CONFCHECK_H
#define POP3D_CONFCHECK_H

#include <stdio.h>

/* What sessions would be given, as pop3d's options say. */
struct confcheck_cfg {
	const char	*users;		/* --users */
	const char	*mail_root;	/* --mail-root */
	const char	*ban;		/* --ban-file, or NULL when no limit
					   keeps one */
	const char	*cert;		/* --tls-cert, or NULL: no TLS */
	const char	*key;		/* --tls-key, or NULL: in cert */
	const char	*user;		/* --user: one account end to end, or
					   NULL: every account's mailbox */
};

/*
 * Prints to out a line for each problem ("problem: ..."), lines that say
 * what was found ("user NAME: ...", "confinement: ...") and notes that
 * are no problem ("note: ..."), then returns the number of problems.
 * Reads only: no file is made, changed or removed (store_peek,
 * users_lint), and no lock is taken.  Untrusted bytes (names from the
 * users file) appear %XX-escaped outside printable ASCII.
 */
unsigned long	confcheck_run(const struct confcheck_cfg *, FILE *out);

/*
 * The octets this process could still get for a hash's memory under its
 * limits (RLIMIT_AS and RLIMIT_DATA less what it uses now, its cgroup's
 * memory.max less POP3D_MEM_BASE_KIB), or 0 when none applies.
 */
unsigned long long confcheck_mem_max(void);

#endif
