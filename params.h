/*
 * params.h: every limit and protocol constant pop3d uses, each with the
 * reason it has the value it has.  Code only; no logic lives here.
 */
#ifndef POP3D_PARAMS_H
#define POP3D_PARAMS_H

/* RFC 2449 s.4: command lines may be 255 octets including CRLF. */
#define POP3D_LINE_MAX		255

/* RFC 2449 s.4: the first line of a response stays within 512 octets. */
#define POP3D_REPLY_MAX		512

/*
 * Input buffer: one full command line plus room for pipelined ones, so a
 * client that sends many commands in one write costs few read(2) calls.
 */
#define POP3D_INBUF		4096

/* Output buffer: large enough that RETR writes in big, cheap chunks. */
#define POP3D_OUTBUF		65536

/*
 * Streaming or measuring a message file: reads of POP3D_READBUF, and the
 * CRLF form handed on in pieces of up to POP3D_OUTCHUNK (runs of lines
 * that need no change go on as they were read).  As large as cat(1)'s
 * reads, so that a big message costs few system calls; the pages are
 * touched only by a session that streams.
 */
#define POP3D_READBUF		131072
#define POP3D_OUTCHUNK		131072

/*
 * A message of POP3D_MAP_MIN octets or more is read through read-only
 * maps of POP3D_MAPWIN octets at a time (fmap.h), straight from the page
 * cache, instead of copied by read(2) into a buffer first; a window
 * bounds the address space a session holds for a message of any size.
 */
#define POP3D_MAP_MIN		(256 * 1024)
#define POP3D_MAPWIN		(4 * 1024 * 1024)

/*
 * AUTHORIZATION as a whole (OpenSSH's LoginGraceTime): the idle timeout
 * alone lets a client that never logs in, but sends CAPA every few
 * minutes, hold a connection slot for hours.  A client logs in within
 * seconds (three failed tries take some 3 s with their delays); a
 * person typing at telnet, within a minute.  --login-grace changes it.
 */
#define POP3D_LOGIN_GRACE	60
#define POP3D_LOGIN_GRACE_MIN	1
#define POP3D_LOGIN_GRACE_MAX	86400

/* RFC 1939 s.3: an autologout timer, if any, is at least 10 minutes. */
#define POP3D_IDLE_TIMEOUT	600
#define POP3D_IDLE_TIMEOUT_MIN	1
#define POP3D_IDLE_TIMEOUT_MAX	86400

/*
 * Budgets (popa3d, Dovecot): bad commands before and after login, and
 * failed logins before the connection is closed.
 */
#define POP3D_BAD_CMDS_AUTH	3
#define POP3D_BAD_CMDS_TRANS	20
#define POP3D_AUTH_FAILS	3

/*
 * A failed login is answered no sooner than this after PASS arrived, so
 * the reply's timing says nothing about why it failed (OpenSSH's
 * ensure_minimum_time_since).
 */
#define POP3D_FAIL_DELAY_MS	1000

/*
 * User names: NAME_MAX, so that every name that is a usable path
 * component can be its own mailbox folder.
 */
#define POP3D_NAME_MAX		255

/* RFC 1939 s.3 lets passwords be any length; keep them within one line. */
#define POP3D_PASS_MAX		(POP3D_LINE_MAX - 7)

/*
 * RFC 4616 s.2: PLAIN's authorization identity, authentication identity
 * and password may each be 255 octets, with two NULs between; a
 * continuation line holds their base64 (RFC 5034 s.4: whatever the
 * mechanism can produce, past POP3D_LINE_MAX) and CRLF.
 */
#define POP3D_SASL_MAX		(3 * 255 + 2)
#define POP3D_SASL_LINE_MAX	((POP3D_SASL_MAX + 2) / 3 * 4 + 2)

/*
 * A users-file line: a name and a folder, each %XX-escaped at worst
 * (3 octets a byte), and the hash string.
 */
#define POP3D_USERS_LINE_MAX	16384

/* RFC 1939 s.7: unique ids are 1 to 70 octets in 0x21..0x7E. */
#define POP3D_UID_MAX		70

/*
 * Memory, measured by tests/limits (x86-64, glibc) and held to these
 * there.  A session needs at most POP3D_MEM_BASE_KIB (2.3 MiB in fact)
 * beside the argon2id hash's memory (POP3D_PWHASH_MEM at pop3d-passwd's
 * cost, freed before the mailbox is listed) and, while it sends a large
 * message, the window of it mapped (POP3D_MAPWIN of resident page cache,
 * shared with every reader of the file, let go when the window moves on;
 * it shows in the RSS), and for each listed
 * message its name's octets and POP3D_MEM_MSG more: its 40-octet entry,
 * the NUL after its name (and its id, when that is a digest: 34
 * octets), and while listing a slot of the table of names, in a folder
 * whose files are each stat'ed the entry that orders them by inode (16
 * octets, twice while sorted), then the sort's index.  That is about 50
 * octets beside the name, 32 more while a folder's inodes are sorted:
 * 55 (87) in all for tests/limits' short names, 90 for a Maildir's
 * (some 45 octets), and 340 (372) for a name of NAME_MAX octets, whose
 * id is a digest.  The names are what may grow large (64 MiB for POP3D_MSGS_MAX
 * names of NAME_MAX octets), so they are counted as they are, not
 * within a guess.
 * Nothing else grows with what a client or a folder holds: a line of
 * any length, any number of pipelined commands and a message of any
 * size go through fixed buffers.
 */
#define POP3D_MEM_BASE_KIB	8192
#define POP3D_MEM_MSG		160

/*
 * A mailbox listing holds at most this many messages (2^18), and its
 * size cache as many entries: some 17 MiB of memory for tests/limits'
 * names and 89 MiB for names of NAME_MAX octets, within the units'
 * MemoryMax=128M and xinetd's rlimit_as = 128M (tests/limits lists this
 * many under that rlimit_as).  Real mailboxes hold hundreds of
 * thousands.  A folder that holds more (a flood of mail) is served in
 * part, not refused: the first this many in listing order, the same at
 * every login, and removing some lets the next ones in.  Only
 * tests/check_flood.c sets another, small, to make a flood of a few
 * thousand files.
 */
#ifndef POP3D_MSGS_MAX
#define POP3D_MSGS_MAX		262144
#endif

/*
 * argon2id costs that pop3d-passwd hashes with (libsodium's
 * "interactive" limits: 2 passes over 64 MiB).
 */
#define POP3D_PWHASH_OPS	2ULL
#define POP3D_PWHASH_MEM	(64ULL * 1024 * 1024)

/*
 * The most an unknown user's dummy verification may cost, whatever the
 * users file's hashes ask for (libsodium's "sensitive" limits).
 */
#define POP3D_PWHASH_OPS_MAX	4ULL
#define POP3D_PWHASH_MEM_MAX	(1024ULL * 1024 * 1024)

/*
 * An unknown user is verified against this hash, made with the limits
 * above, so it costs what a real user's verification costs.  Nobody
 * knows its password (32 random bytes, thrown away).  check_users.c
 * checks that it matches POP3D_PWHASH_OPS and POP3D_PWHASH_MEM.  Its
 * salt and hash also stand behind the cost of a users file's hashes.
 */
#define POP3D_DUMMY_COST	"$argon2id$v=19$m=65536,t=2,p=1$"
#define POP3D_DUMMY_TAIL \
	"1usnyoWq9VSQrLFIiXX7bg$EdNqfUX4+PQGkk1wBPfWkI4cGKJdHmhelJtLCt+pp78"
#define POP3D_DUMMY_HASH	POP3D_DUMMY_COST POP3D_DUMMY_TAIL

/*
 * Legacy hashes (legacy.h): the costs an unknown user may be verified
 * at, as the users' own.  Past them a user still logs in, but costs no
 * unknown name as much (as argon2id past POP3D_PWHASH_*_MAX).  yescrypt:
 * its memory, within POP3D_PWHASH_MEM_MAX (libxcrypt's default "j9T" takes
 * 16 MiB); sha512-crypt: rounds= (default 5000; a million take about a
 * second); bcrypt: the log2 cost (mkpasswd's default 5; 14 takes about
 * a second).
 */
#define POP3D_LEGACY_SHA512_MAX		1000000
#define POP3D_LEGACY_BCRYPT_MAX		14

/*
 * An unknown name is verified at the cost of a users-file line it picks
 * (users.c), among at most this many different costs: pop3d-passwd
 * makes one by default and a few with --ops, --mem and --level.
 */
#define POP3D_USERS_COSTS_MAX	16

/*
 * Files pop3d keeps in a mailbox: hidden, so never taken for mail, and
 * never removed through a journal (whose names never start with '.').
 */
#define POP3D_LOCK_NAME		".pop3d.lock"
#define POP3D_JOURNAL_NAME	".pop3d.journal"
#define POP3D_JOURNAL_TMP	".pop3d.journal.tmp"
#define POP3D_LOGIN_NAME	".pop3d.login"

/*
 * RFC 2449 s.6.5: LOGIN-DELAY, the least time between two logins to one
 * mailbox (--login-delay); a day is more than any client polls apart.
 */
#define POP3D_LOGIN_DELAY_MAX	86400

/*
 * RFC 2449 s.6.7: EXPIRE, the days a message is kept at least
 * (--expire); ten years is as good as never.  Not 0: "EXPIRE 0" would
 * remove mail before the client saw it.
 */
#define POP3D_EXPIRE_DAYS_MAX	3650
#define POP3D_SIZES_NAME	".pop3d.sizes"
#define POP3D_SIZES_TMP		".pop3d.sizes.tmp"

/*
 * The unique ids a mailbox kept from the server it was moved from
 * (uidls.h), written by pop3d-import and only read by pop3d.  At most
 * one entry line per message a listing holds, each at most a journal
 * line: a bigger file is not one pop3d-import wrote, and is ignored.
 */
#define POP3D_UIDLS_NAME	".pop3d.uidls"
#define POP3D_UIDLS_TMP		".pop3d.uidls.tmp"
#define POP3D_UIDLS_SIZE_MAX	\
	((long long)POP3D_MSGS_MAX * POP3D_JOURNAL_LINE_MAX)

/*
 * A journal line: folder letter, inode number, and a name of NAME_MAX
 * octets %XX-escaped at worst.
 */
#define POP3D_JOURNAL_LINE_MAX	1024

/* DESIGN.md: the defaults of the command line. */
#define POP3D_USERS_PATH	"/etc/pop3d/users"
#define POP3D_MAIL_ROOT		"/var/mail/pop3d"

/*
 * Brute-force limits across connections (billpg's ban): after
 * POP3D_BAN_AFTER failed logins from one address (an IPv6 /64) within
 * POP3D_BAN_WINDOW seconds, that address is refused for POP3D_BAN_TIME
 * seconds without an argon2id verification.  A success takes back only
 * that name's failures from that address, so that one account's logins
 * never clear guesses at another.
 */
#define POP3D_BAN_PATH		"/var/lib/pop3d/failures"

/*
 * The upgrade spool (rehash.h): argon2id hashes made at legacy users'
 * logins, in pop3d's state folder, for "pop3d-passwd upgrade".
 */
#define POP3D_REHASH_PATH	"/var/lib/pop3d/rehash"
#define POP3D_BAN_AFTER		3
#define POP3D_BAN_WINDOW	3600
#define POP3D_BAN_TIME		3600
#define POP3D_BAN_SECONDS_MAX	(366 * 86400)

/*
 * Per name, from any address (Stalwart bans by login name too): after
 * POP3D_BAN_USER_AFTER failures at one name within POP3D_BAN_WINDOW, the
 * name is locked for POP3D_BAN_USER_TIME, and then again at each further
 * failure within the window: a guess every 15 minutes however many
 * addresses a distributed attack has.  Short, and never for an address
 * the name logged in from within POP3D_BAN_KNOWN_TIME (a month, longer
 * than anyone is away from their mail client), so that an attacker
 * cannot lock a user out of their usual place.  Ten: more than a user's
 * own typos from a new place.
 */
#define POP3D_BAN_USER_AFTER	10
#define POP3D_BAN_USER_TIME	900
#define POP3D_BAN_KNOWN_TIME	(31LL * 86400)

/*
 * A time in the failure-state file is at most this (2^40 s, the year
 * 36812): a larger one is no time pop3d wrote, and keeping times this
 * small keeps "time + POP3D_BAN_SECONDS_MAX" far from int64 overflow.
 */
#define POP3D_BAN_TIME_MAX	(1LL << 40)

/*
 * The failure-state file holds at most this many lines (those seen
 * least recently go first), of at most POP3D_BAN_LINE_MAX octets.  A
 * failure may add three (address, name, both), and each user's address
 * stays known for a month: 16384 lines (under 2 MiB, read and written
 * at each login, and some 2.3 MiB of memory freed before the hash runs)
 * hold a few thousand users and the failures of as many addresses.
 */
#define POP3D_BAN_ENTRIES	16384
#define POP3D_BAN_LINE_MAX	128

/*
 * PROXY protocol (HAProxy's proxy-protocol.txt).  A v2 header states
 * its length: addresses take at most 216 octets (AF_UNIX, s.2.2), and
 * TLVs the rest (SSL, ALPN, authority, a unique id of up to 128 octets:
 * together far below a page).  A longer one is refused, not read.  A
 * proxy sends its header as it connects: one that takes longer than
 * POP3D_PROXY_TIMEOUT_MS is not a proxy at work.  At most
 * POP3D_PROXY_FROM_MAX --proxy-from networks.
 */
#define POP3D_PROXY_V1_MAX	107	/* s.2.1: the longest, with CRLF */
#define POP3D_PROXY_V2_LEN_MAX	4096
#define POP3D_PROXY_TIMEOUT_MS	10000
#define POP3D_PROXY_FROM_MAX	64

/*
 * s.2.2.6: the TLS version and cipher a v2 header's PP2_TYPE_SSL may
 * name, for the log: US-ASCII names such as "TLSv1.3" and IANA's
 * longest cipher suite names (some 45 octets).  Longer is no such name.
 */
#define POP3D_PROXY_TLS_TEXT_MAX	64

/*
 * A PEM file given to --tls-cert or --tls-key: a key, a certificate and
 * a chain of intermediates take a few KiB; anything near this is no
 * such file.
 */
#define POP3D_TLS_PEM_MAX	(1024 * 1024)

/*
 * OpenSSL's security level 2 (112-bit security: RSA and DH of 2048 bits
 * or more, no SHA-1 signatures), Debian's default since Debian 10: the
 * least a TLS context gets, whatever a configuration file says.
 */
#define POP3D_TLS_SECLEVEL	2

/*
 * RFC 8446 s.5.1 (and RFC 5246 s.6.2.1): a TLS record carries at most
 * 2^14 octets of data, and OpenSSL makes one record of each write up to
 * that.  io hands a transport whole multiples of it where it can, so a
 * message's records are full and none goes out with a few octets alone.
 */
#define POP3D_TLS_RECORD	16384

/*
 * pop3d --check names a users file of this many users or more that has
 * no index (FILE.cdb): without one, each login reads the whole file,
 * some 0.45 ms of CPU more per 1,000 users (bench/RESULTS.md, users).
 */
#define POP3D_USERS_INDEX_ADVISED	1000

/*
 * Host-wide slots (slots.h), in a runtime folder the units make
 * (RuntimeDirectory=pop3d; tmpfiles.d for xinetd).
 *
 * A login's argon2id verification needs its hash's memory (64 MiB at
 * pop3d-passwd's cost) for some 0.1 s; a connection that has not logged
 * in, some 2 MiB.  So the memory of verifications is bounded apart from
 * the connections: at most POP3D_AUTH_MEMORY_MIB (--auth-memory) of
 * hashes at once, i.e. that over the users file's costliest hash
 * (--login-slots sets the count itself).  1 GiB: 16 verifications at
 * the default cost, more than a small server's cores can run at once,
 * so the cores, not this, are what a flood of passwords meets first.
 * At most POP3D_LOGIN_SLOTS_MAX: a login opens that many files.
 * --auth-memory takes up to POP3D_AUTH_MEMORY_MIB_MAX (1 TiB): more
 * than any host has, and far from overflowing in bytes.
 */
#define POP3D_RUNTIME_DIR	"/run/pop3d"
#define POP3D_AUTH_MEMORY_MIB	1024
#define POP3D_AUTH_MEMORY_MIB_MAX (1024 * 1024)
#define POP3D_LOGIN_SLOTS_MAX	256

/*
 * A login waits at most this long for a slot, then gets -ERR [SYS/TEMP]:
 * 16 slots turn over some 100 times in 10 s, and clients wait 30 s or
 * more for an answer.  Waiters try again every POP3D_LOGIN_POLL_MS on
 * average (flock(2) has no timeout), each after a random pause so that
 * they do not try in step.
 */
#define POP3D_LOGIN_WAIT_MS	10000
#define POP3D_LOGIN_POLL_MS	20

/*
 * Early drop (OpenSSH's MaxStartups start:rate:full, --startups): when
 * POP3D_STARTUPS_START sessions on the host are still in AUTHORIZATION,
 * a new one is answered -ERR [SYS/TEMP] and closed with a chance of
 * POP3D_STARTUPS_RATE %, rising linearly to all of them at
 * POP3D_STARTUPS_FULL.  64: a dozen addresses at the units' 4
 * connections each hold 48, and never make a client who logs in wait;
 * a larger flood is thinned before it takes the activator's last
 * connections.  192: 64 of pop3d.socket's 256 connections stay for
 * sessions that have logged in, which are not counted.  30 %:
 * OpenSSH's.  POP3D_STARTUPS_MAX bounds the files a session scans.
 */
#define POP3D_STARTUPS_START	64
#define POP3D_STARTUPS_RATE	30
#define POP3D_STARTUPS_FULL	192
#define POP3D_STARTUPS_MAX	4096

/* Exit codes (the checkpassword/skarnet convention). */
#define POP3D_EXIT_QUIT		0
#define POP3D_EXIT_ABORT	1
#define POP3D_EXIT_USAGE	100
#define POP3D_EXIT_TEMP		111

#endif
