/*
 * auth.c: AUTHORIZATION: USER, PASS, SASL PLAIN and LOGIN, UTF8, STLS,
 * APOP's refusal, the login (users file, brute-force limits, a failure's
 * delay) and opening the mailbox after it.  Trusts no client byte: a
 * password is wiped on every path, a name is only compared, and failures
 * answer alike.  Never touches the file system: users, ban and store do.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "ban.h"
#include "log.h"
#include "params.h"
#include "session-int.h"
#include "store.h"
#include "rehash.h"
#include "users.h"

/* Logins refused while a password would cross the network in clear. */
bool
auth_login_refused(const struct session *s)
{
	return s->cfg->auth_needs_tls && io_is_plain(s->io);
}

/* The reply to a login refused by auth_login_refused; logged each time. */
static enum cmd_res
refuse_login(struct session *s)
{
	s->have_user = false;
	log_msg(LOG_NOTICE, "login result=refused reason=no-tls");
	s->reply = "[AUTH] no login without TLS: send STLS first";
	return CMD_BAD;
}

enum cmd_res
cmd_quit_auth(struct session *s, char *arg, size_t len)
{
	(void)len;
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	s->end = SESSION_QUIT;
	s->end_why = "quit";
	if (io_puts(s->io, "+OK bye\r\n") == -1)
		return CMD_ABORT;
	return CMD_QUIT;
}

enum cmd_res
cmd_user(struct session *s, char *arg, size_t len)
{
	if (auth_login_refused(s))
		return refuse_login(s);
	s->have_user = false;
	if (arg == NULL || len == 0) {
		s->reply = "USER needs a name";
		return CMD_BAD;
	}
	if (len > POP3D_NAME_MAX) {
		s->reply = "name too long";
		return CMD_BAD;
	}
	memcpy(s->user, arg, len);
	s->user[len] = '\0';
	s->userlen = len;
	s->have_user = true;
	/* The same answer for every name: USER tells nothing (RFC 1939 s.13). */
	s->reply = "send PASS";
	return CMD_OK;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_until_ms(long long when)
{
	struct timespec ts;

	ts.tv_sec = when / 1000;
	ts.tv_nsec = (when % 1000) * 1000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/*
 * why (users_line_why's words, with the line's bytes %XX-escaped outside
 * 0x21..0x7E) into out for a quoted log value: '"', '\\' and '%' of the
 * line's own are %XX too.
 */
static const char *
quoted_why(const char *why, char *out, size_t cap)
{
	size_t n = 0;

	for (; *why != '\0' && n + 4 < cap; why++) {
		if (*why == '"' || *why == '\\')
			n += (size_t)snprintf(out + n, cap - n, "%%%02X",
			    (unsigned char)*why);
		else
			out[n++] = *why;
	}
	out[n] = '\0';
	return out;
}

/* Logs what the users file look-up noticed about the file itself. */
static void
log_users_note(struct session *s, const struct users_note *note)
{
	char esc[PATH_MAX], why[3 * sizeof(note->bad_why)];

	if (note->bad_line == 0 && !note->world_readable &&
	    note->index != USERS_NOTE_INDEX_STALE &&
	    note->index != USERS_NOTE_INDEX_BROKEN)
		return;
	log_esc(esc, sizeof(esc), s->cfg->users, strlen(s->cfg->users));
	if (note->index == USERS_NOTE_INDEX_STALE)
		log_msg(LOG_WARNING, "users file=%s index=stale result=scanned "
		    "fix=\"pop3d-passwd index --users %s\"", esc, esc);
	if (note->index == USERS_NOTE_INDEX_BROKEN)
		log_msg(LOG_WARNING, "users file=%s index=broken "
		    "error=\"%s\" result=scanned fix=\"pop3d-passwd index "
		    "--users %s\"", esc, note->index_why, esc);
	/* Every login says so, until the file is fixed: name the first. */
	/* The index keeps the first one's number, not why: lint says. */
	if (note->bad_line != 0 && note->bad_why[0] == '\0')
		log_msg(LOG_WARNING, "users file=%s line=%lu result=malformed "
		    "fix=\"pop3d-passwd lint says why\"", esc, note->bad_line);
	else if (note->bad_line != 0)
		log_msg(LOG_WARNING, "users file=%s line=%lu result=malformed "
		    "malformed-lines=%lu error=\"%s\" fix=\"pop3d-passwd lint "
		    "names each\"", esc, note->bad_line, note->bad_lines,
		    quoted_why(note->bad_why, why, sizeof(why)));
	if (note->world_readable)
		log_msg(LOG_WARNING, "users file=%s result=world-readable", esc);
}

/* Answers a failed login: late enough to tell nothing, alike for all. */
static enum cmd_res
login_failed(struct session *s, long long started, const char *reply)
{
	s->fails++;
	sleep_until_ms(started + s->cfg->fail_delay_ms);
	s->reply = reply;
	return CMD_ERR;
}

/*
 * LOGIN-DELAY (RFC 2449 s.6.5): refuses a login too soon after the last
 * one to this mailbox, and records this one.  Before the process is
 * confined, so that the client may still log in again on this
 * connection.  The store is closed when the login is refused.
 */
static enum cmd_res
login_delay(struct session *s, const char *esc, const struct users_login *li)
{
	unsigned wait;
	int r;

	/* The users file's value for this user, else pop3d's. */
	s->delay = li->has_login_delay ? li->login_delay :
	    s->cfg->login_delay;
	s->delay_kept = false;
	/* No folder or read-only: nowhere to record it, so no delay. */
	if (s->delay == 0 || store_read_only(s->store) ||
	    store_dirfd(s->store) == -1)
		return CMD_OK;
	r = store_login_delay(s->store, time(NULL), s->delay, &wait);
	if (r == 1) {
		log_msg(LOG_NOTICE, "login user=%s result=login-delay "
		    "wait=%u", esc, wait);
		store_close(s->store);
		s->store = NULL;
		s->fails++;
		s->reply = "[LOGIN-DELAY] too soon after the last login";
		return CMD_ERR;
	}
	if (r == -1) {
		/* Not the client's fault: serve, without claiming a delay. */
		log_msg(LOG_ERR, "login-delay user=%s mailbox=%s "
		    "result=unrecorded error=\"%s\"", esc, s->box,
		    strerror(errno));
		return CMD_OK;
	}
	s->delay_kept = true;
	return CMD_OK;
}

/*
 * EXPIRE (RFC 2449 s.6.7): removes the messages older than the policy,
 * through the journal, before any number is shown.  A failure is logged
 * and the session goes on with them.
 */
static void
expire(struct session *s, const char *esc)
{
	unsigned days = s->cfg->expire_days;
	enum store_res r;
	size_t removed;

	if (days == 0 || store_read_only(s->store))
		return;
	r = store_expire(s->store, time(NULL) - (time_t)days * 86400,
	    &removed);
	if (r == STORE_OK) {
		if (removed > 0)
			log_msg(LOG_INFO, "expire user=%s mailbox=%s days=%u "
			    "removed=%zu", esc, s->box, days, removed);
		return;
	}
	log_msg(LOG_ERR, "expire user=%s mailbox=%s days=%u result=%s "
	    "removed=%zu error=\"%s\"", esc, s->box, days,
	    r == STORE_PENDING ? "pending" : "fail", removed, strerror(errno));
}

/*
 * Logs the files a commit or a roll forward could not remove for good
 * (store_stuck), under event, for the user esc names (NULL: the
 * session's).  They stay and are listed again until an admin frees
 * them, so this is said at every try.
 */
void
auth_log_stuck(struct session *s, const char *event, const char *esc)
{
	size_t stuck;
	int error;

	if ((stuck = store_stuck(s->store, &error)) > 0)
		log_msg(LOG_ERR, "%s%s%s mailbox=%s result=stuck stuck=%zu "
		    "error=\"%s\" (files pop3d cannot remove stay in the "
		    "mailbox)", event, esc != NULL ? " user=" : "",
		    esc != NULL ? esc : "", s->box, stuck, strerror(error));
}

/*
 * Finishes or discards a journal a crashed commit left, and logs what
 * became of it; esc names the user at login (NULL at WAKE).
 */
void
auth_journal(struct session *s, const char *esc)
{
	const char *user = esc != NULL ? " user=" : "";
	size_t n;

	if (esc == NULL)
		esc = "";
	switch (store_journal(s->store, &n)) {
	case STORE_JOURNAL_FINISHED:
		log_msg(LOG_NOTICE, "journal%s%s mailbox=%s result=finished "
		    "removed=%zu", user, esc, s->box, n);
		break;
	case STORE_JOURNAL_DISCARDED:
		log_msg(LOG_WARNING, "journal%s%s mailbox=%s result=malformed "
		    "removed=0", user, esc, s->box);
		break;
	case STORE_JOURNAL_NONE:
		break;
	}
	auth_log_stuck(s, "journal", *esc != '\0' ? esc : NULL);
}

static enum cmd_res
open_mailbox(struct session *s, const char *esc, const struct users_login *li)
{
	const char *box = s->box;
	enum store_res sr;
	uint64_t octets;
	size_t n, found;
	int err;

	/* Every line about this mailbox names it, until the next login. */
	log_esc(s->box, sizeof(s->box), li->mailbox, strlen(li->mailbox));
	sr = store_open(&s->store, li->mailbox, li->read_only);
	if (sr == STORE_BUSY) {
		log_msg(LOG_NOTICE, "login user=%s result=in-use", esc);
		s->reply = "[IN-USE] mailbox in use by another session";
		return CMD_ERR;
	}
	if (sr != STORE_OK) {
		/* A symlink or a file where the folder should be won't heal. */
		bool perm = errno == ELOOP || errno == ENOTDIR ||
		    errno == ENAMETOOLONG || errno == EPERM;

		/* After QAUT: confined by the first login, as pop3d says. */
		bool reach = s->logins > 0 && errno == EACCES;

		if (errno == EPERM)	/* root, and another user's folder */
			log_msg(LOG_ERR, "login user=%s result=permfail "
			    "mailbox=%s reason=root error=\"pop3d runs as root "
			    "and the mailbox belongs to another user: run pop3d "
			    "as that user\"", esc, box);
		else
			log_msg(LOG_ERR, "login user=%s result=%s mailbox=%s "
			    "error=\"%s\"", esc, perm ? "permfail" : "tempfail",
			    box, strerror(errno));
		s->reply = perm ? "[SYS/PERM] mailbox unusable, tell the admin" :
		    reach ? OUT_OF_REACH :
		    "[SYS/TEMP] cannot open mailbox, try again later";
		return CMD_ERR;
	}
	if (login_delay(s, esc, li) != CMD_OK)
		return CMD_ERR;
	/* Never serve a mailbox unconfined where it could be confined. */
	if (s->cfg->confine != NULL && s->cfg->confine(store_dirfd(s->store),
	    store_read_only(s->store)) == -1) {
		log_msg(LOG_ERR, "login user=%s result=tempfail mailbox=%s "
		    "error=\"confine: %s\"", esc, box, strerror(errno));
		store_close(s->store);
		s->store = NULL;
		sess_finish(s, SESSION_TEMPFAIL, "confine-failed");
		s->reply = "[SYS/TEMP] cannot open mailbox, try again later";
		return CMD_ERR;
	}
	auth_journal(s, esc);
	if (store_cut(s->store, &found))
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s result=cut "
		    "listed=%zu found=%zu", esc, box, store_count(s->store),
		    found);
	if ((err = store_ids_unsaved(s->store)) != 0)
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s "
		    "result=ids-unsaved file=%s error=\"%s\"", esc, box,
		    POP3D_UIDLS_NAME, strerror(err));
	expire(s, esc);
	if (store_read_only(s->store) && !li->read_only)
		log_msg(LOG_WARNING, "mailbox user=%s mailbox=%s "
		    "result=read-only reason=not-writable", esc, box);
	trans_totals(s, &n, &octets);
	log_msg(LOG_INFO, "login user=%s result=ok msgs=%zu octets=%" PRIu64
	    "%s%s", esc, n, octets, store_read_only(s->store) ? " read-only=1" :
	    "", !li->legacy ? "" : li->rehash[0] != '\0' ?
	    " hash=legacy rehash=pending" : " hash=legacy");
	s->state = ST_TRANS;
	io_set_limit(s->io, 0);	/* the grace time is AUTHORIZATION's */
	s->logins++;
	snprintf(s->who, sizeof(s->who), "%s", esc);
	s->bad = 0;	/* each state has its own budget */
	s->reply = sess_text(s, "maildrop has %zu messages (%" PRIu64
	    " octets)", n, octets);
	return CMD_OK;
}

/*
 * Logs a failure-state file that pop3d did not write (BAN_FOREIGN: never
 * written over) or could not update (BAN_FAIL): the session goes on
 * without limits.
 */
static void
log_ban_trouble(const struct session *s, enum ban_res r)
{
	char file[PATH_MAX];
	int saved;

	if (r == BAN_FOREIGN) {
		log_esc(file, sizeof(file), s->cfg->ban->path,
		    strlen(s->cfg->ban->path));
		log_msg(LOG_ERR, "ban file=%s result=foreign", file);
	} else if (r == BAN_FAIL) {
		saved = errno;
		log_esc(file, sizeof(file), s->cfg->ban->path,
		    strlen(s->cfg->ban->path));
		log_msg(LOG_ERR, "ban file=%s result=unwritable error=\"%s\"",
		    file, strerror(saved));
	}
}

/*
 * The brute-force limits' verdict on an attempt to log in as name, the
 * attempt counted before any hash runs: BAN_ADDR or BAN_USER when it is
 * refused, else BAN_OK.  *limited stays true only while there is state
 * to settle.
 */
static enum ban_res
ban_check(struct session *s, const char *key, const char *name,
    size_t namelen, bool *limited, unsigned *started)
{
	const struct ban_cfg *ban = s->cfg->ban;
	enum ban_res r;

	*started = 0;
	if (!*limited)
		return BAN_OK;
	switch ((r = ban_attempt(ban, key, name, namelen, time(NULL),
	    started))) {
	case BAN_OK:
		return BAN_OK;
	case BAN_ADDR:
	case BAN_USER:
		*limited = false;
		return r;
	case BAN_FOREIGN:	/* a typo naming another file */
	case BAN_FAIL:
		log_ban_trouble(s, r);
		break;
	}
	*limited = false;
	return BAN_OK;
}

/* Takes back a counted attempt that was no failed guess (ban_settle). */
static void
ban_done(struct session *s, const char *key, const char *name,
    size_t namelen, bool proven)
{
	log_ban_trouble(s, ban_settle(s->cfg->ban, key, name, namelen,
	    proven, time(NULL)));
}

/*
 * Logs a login that failed for want of the users file or of memory, not
 * for the password: the file is named, since it is what to fix.  error
 * is users_check's errno: EPERM for a file others may write, ENOMEM for
 * a hash that needs more memory than the process may have, and for a
 * permanent failure otherwise a name that fits no folder.
 */
static void
log_users_failure(const struct session *s, const char *esc,
    enum users_res ur, int error)
{
	const char *result = ur == USERS_PERMFAIL ? "permfail" : "tempfail";
	char file[PATH_MAX];

	log_esc(file, sizeof(file), s->cfg->users, strlen(s->cfg->users));
	if (error == ENOMEM)
		log_msg(LOG_ERR, "login user=%s result=%s error=\"%s: the "
		    "hash needs more memory than the process limit allows\"",
		    esc, result, strerror(error));
	else if (ur == USERS_PERMFAIL && error == EPERM)
		log_msg(LOG_ERR, "login user=%s result=%s users=%s "
		    "error=\"others may write the users file: refused\"", esc,
		    result, file);
	else if (ur == USERS_PERMFAIL)
		log_msg(LOG_ERR, "login user=%s result=%s error=\"%s: the "
		    "name fits no folder; give it one (pop3d-passwd "
		    "--folder)\"", esc, result, strerror(error));
	else
		log_msg(LOG_ERR, "login user=%s result=%s users=%s "
		    "error=\"%s\"", esc, result, file, strerror(error));
}

/*
 * Logs why a login was refused, for the admin only: the client's answer
 * is the same whatever the reason.  A banned address or locked name, a
 * SASL identity pop3d will not act for, or what the users file said.
 */
static void
log_denied(const char *esc, enum ban_res verdict, bool refuse,
    const struct users_note *note)
{
	if (verdict == BAN_ADDR || verdict == BAN_USER)
		log_msg(LOG_NOTICE, "login user=%s result=%s", esc,
		    verdict == BAN_ADDR ? "banned" : "locked");
	else if (refuse)
		log_msg(LOG_NOTICE, "login user=%s result=deny reason=authzid",
		    esc);
	else if (note->known)
		log_msg(LOG_NOTICE, "login user=%s result=deny "
		    "reason=wrong-password", esc);
	else if (note->user_bad_line != 0)
		log_msg(LOG_NOTICE, "login user=%s result=deny "
		    "reason=malformed-line line=%lu", esc, note->user_bad_line);
	else
		log_msg(LOG_NOTICE, "login user=%s result=deny "
		    "reason=unknown-user", esc);
}

/*
 * A login on a legacy hash: its argon2id successor goes to the upgrade
 * spool for pop3d-passwd upgrade (pop3d never writes the users file).
 * A failure costs the user nothing: the next login tries again.
 */
static void
spool_rehash(struct session *s, const char *esc, const char *name,
    size_t namelen, struct users_login *li)
{
	struct rehash_entry e;

	if (s->cfg->rehash_dir == NULL || li->rehash[0] == '\0') {
		li->rehash[0] = '\0';
		return;
	}
	memset(&e, 0, sizeof(e));
	memcpy(e.name, name, namelen);
	e.namelen = namelen;
	memcpy(e.old, li->old, sizeof(e.old));
	memcpy(e.new, li->rehash, sizeof(e.new));
	if (rehash_write(s->cfg->rehash_dir, &e) == -1) {
		log_msg(LOG_ERR, "rehash user=%s result=failed error=\"%s\"",
		    esc, strerror(errno));
		li->rehash[0] = '\0';
	}
	sodium_memzero(&e, sizeof(e));
}

/* What a login's gate learns and holds (take_slot). */
struct slot_gate {
	struct slots	*sl;
	const char	*esc;
	bool		 held;
	bool		 busy;
};

/*
 * users_check's gate: takes one of the login slots the users file's
 * costliest hash sizes.  A login that gets none in time is logged here
 * and not verified.  A slot folder that cannot be used is logged, and
 * the hash verified without a slot: a broken folder must not lock
 * everyone out.
 */
static bool
take_slot(void *arg, uint64_t hash_mem)
{
	struct slot_gate *g = arg;
	unsigned n = slots_login_count(g->sl, hash_mem), waited = 0;

	switch (slots_login_take(g->sl, n, &waited)) {
	case SLOTS_OK:
		g->held = true;
		return true;
	case SLOTS_BUSY:
		log_msg(LOG_WARNING, "login user=%s result=tempfail "
		    "reason=slots slots=%u waited_ms=%u", g->esc, n, waited);
		g->busy = true;
		return false;
	case SLOTS_FAIL:
		log_msg(LOG_ERR, "slots result=fail dir=%s error=\"%s\"",
		    g->sl->dir, strerror(errno));
		break;
	}
	return true;
}

/*
 * users_check in a login slot (slots.h), so that no more hashes are
 * verified on the host at once than its memory budget holds, a known
 * name's and an unknown one's alike; the slots are counted from the
 * same read of the users file that finds the user.  A login that gets
 * no slot in time is USERS_TEMPFAIL with *busy set, logged by the gate,
 * its password wiped unverified and nothing noted.
 */
static enum users_res
verify(struct session *s, const char *esc, const char *name, size_t namelen,
    char *pass, size_t passlen, struct users_login *li,
    struct users_note *note, bool *busy)
{
	struct slot_gate g = { .sl = s->cfg->slots, .esc = esc };
	enum users_res ur;

	ur = users_check(s->cfg->users, s->cfg->mail_root, name, namelen,
	    pass, passlen, li, note, g.sl != NULL ? take_slot : NULL, &g);
	if (g.held) {
		int saved = errno;

		slots_login_done(g.sl);
		errno = saved;
	}
	if (g.busy)
		memset(note, 0, sizeof(*note));
	*busy = g.busy;
	return ur;
}

/*
 * Checks a name and password, then opens the mailbox.  The password is
 * wiped on every path.  With refuse (a SASL identity pop3d will not act
 * for), for a banned address and for a locked name, no hash is
 * verified, but the answer is the same and comes no sooner than for a
 * wrong password.
 */
static enum cmd_res
login(struct session *s, const char *name, size_t namelen, char *pass,
    size_t passlen, bool refuse)
{
	char esc[POP3D_NAME_MAX * 3 + 4], key[BAN_KEY_MAX];
	long long started = now_ms();
	struct users_note note = { 0 };
	struct users_login li;
	const struct ban_cfg *ban = s->cfg->ban;
	enum users_res ur = USERS_DENY;
	enum ban_res verdict;
	unsigned begun;
	bool limited, banned, busy = false;
	int saved;

	log_esc(esc, sizeof(esc), name, namelen);
	s->have_user = false;
	limited = ban_key(ban, s->cfg->peer, key) == 1;
	/* Counted before the hash runs, so parallel tries never outrun it. */
	verdict = ban_check(s, key, name, namelen, &limited, &begun);
	banned = verdict != BAN_OK;
	if (banned || refuse)
		sodium_memzero(pass, passlen);
	else {
		ur = verify(s, esc, name, namelen, pass, passlen, &li, &note,
		    &busy);
		log_users_note(s, &note);
	}
	saved = errno;
	switch (ur) {
	case USERS_OK:
		if (limited)
			ban_done(s, key, name, namelen, true);
		if (li.legacy)
			spool_rehash(s, esc, name, namelen, &li);
		if (s->cfg->slots != NULL)
			slots_authorized(s->cfg->slots);
		return open_mailbox(s, esc, &li);
	case USERS_DENY:
		log_denied(esc, verdict, refuse, &note);
		if (limited && (begun & BAN_STARTED_ADDR))
			log_msg(LOG_WARNING, "ban addr=%s failures=%u "
			    "seconds=%u", key, ban->after, ban->duration);
		if (limited && (begun & BAN_STARTED_USER))
			log_msg(LOG_WARNING, "ban user=%s failures=%u "
			    "seconds=%u", esc, ban->user_after,
			    ban->user_duration);
		return login_failed(s, started,
		    "[AUTH] authentication failed");
	case USERS_PERMFAIL:
		/* No guess was judged: it does not count. */
		if (limited)
			ban_done(s, key, name, namelen, false);
		log_users_failure(s, esc, ur, saved);
		return login_failed(s, started,
		    "[SYS/PERM] login impossible, tell the admin");
	case USERS_TEMPFAIL:
		break;
	}
	if (limited)
		ban_done(s, key, name, namelen, false);
	/* verify logged a login that found no slot: not the file's fault. */
	if (!busy)
		log_users_failure(s, esc, ur, saved);
	return login_failed(s, started, "[SYS/TEMP] try again later");
}

enum cmd_res
cmd_pass(struct session *s, char *arg, size_t len)
{
	if (auth_login_refused(s))
		return refuse_login(s);
	if (!s->have_user) {
		s->reply = "USER first";
		return CMD_BAD;
	}
	if (arg == NULL) {
		s->have_user = false;
		s->reply = "PASS needs a password";
		return CMD_BAD;
	}
	/* The password is the rest of the line, spaces and all. */
	return login(s, s->user, s->userlen, arg, len, false);
}

/*
 * Reads a SASL client response (RFC 5034 s.4): base64, "=" for an empty
 * one, "*" to cancel.  Decodes it into out (cap bytes, wiped by the
 * caller).  CMD_OK, or the result to return with its reply set.
 */
static enum cmd_res
sasl_response(struct session *s, const char *challenge, const char *initial,
    size_t ilen, char *out, size_t cap, size_t *outlen)
{
	const char *b64 = initial, *end;
	size_t len = ilen;
	enum io_res ir;
	char *ln;
	bool nul;

	if (b64 == NULL) {
		if (sess_line(s, "+ %s", challenge) == -1)
			return CMD_ABORT;
		ir = io_getline(s->io, POP3D_SASL_LINE_MAX, &ln, &len, &nul);
		if (ir == IO_LONG) {
			s->reply = "[AUTH] response too long";
			return CMD_BAD;
		}
		if (ir != IO_OK) {
			sess_finish(s, SESSION_ABORT, ir == IO_EOF ? "eof" :
			    ir == IO_TIMEOUT ? sess_timeout_why(s) :
			    sess_read_error_why(s));
			return CMD_ABORT;
		}
		if (nul) {
			s->reply = "invalid base64";
			return CMD_BAD;
		}
		b64 = ln;
	}
	if (len == 1 && b64[0] == '*') {
		s->reply = "authentication cancelled";
		return CMD_ERR;
	}
	*outlen = 0;
	/* "=" answers with nothing at once; so does an empty continuation. */
	if ((len == 1 && b64[0] == '=') || (initial == NULL && len == 0))
		return CMD_OK;
	if (sodium_base642bin((unsigned char *)out, cap, b64, len, NULL,
	    outlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len || len == 0) {
		s->reply = "invalid base64";
		return CMD_BAD;
	}
	return CMD_OK;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static enum cmd_res
sasl_plain(struct session *s, const char *initial, size_t ilen)
{
	char msg[POP3D_SASL_MAX + 1], *authcid, *pass, *nul;
	size_t len, zlen, clen;
	enum cmd_res r;

	r = sasl_response(s, "", initial, ilen, msg, sizeof(msg), &len);
	if (r != CMD_OK)
		goto done;
	if ((nul = memchr(msg, '\0', len)) == NULL ||
	    (pass = memchr(nul + 1, '\0', len - (size_t)(nul + 1 - msg))) ==
	    NULL) {
		s->reply = "[AUTH] malformed PLAIN response";
		r = CMD_BAD;
		goto done;
	}
	authcid = nul + 1;
	zlen = (size_t)(nul - msg);
	clen = (size_t)(pass - authcid);
	pass++;
	/* Acting for another identity is never allowed; one's own is. */
	r = login(s, authcid, clen, pass, len - (size_t)(pass - msg),
	    zlen != 0 && (zlen != clen || memcmp(msg, authcid, zlen) != 0));
done:
	sodium_memzero(msg, sizeof(msg));
	return r;
}

/*
 * The LOGIN mechanism (draft-murchison-sasl-login): the name, then the
 * password, each asked for with the challenges its clients expect
 * ("Username:", "Password:").
 */
static enum cmd_res
sasl_login(struct session *s, const char *initial, size_t ilen)
{
	char user[POP3D_SASL_MAX + 1], pass[POP3D_SASL_MAX + 1];
	size_t ulen, plen;
	enum cmd_res r;

	r = sasl_response(s, "VXNlcm5hbWU6", initial, ilen, user, sizeof(user),
	    &ulen);
	if (r == CMD_OK)
		r = sasl_response(s, "UGFzc3dvcmQ6", NULL, 0, pass, sizeof(pass),
		    &plen);
	if (r == CMD_OK)
		r = login(s, user, ulen, pass, plen, false);
	sodium_memzero(user, sizeof(user));
	sodium_memzero(pass, sizeof(pass));
	return r;
}

enum cmd_res
cmd_auth(struct session *s, char *arg, size_t len)
{
	static const struct {
		const char	*name;
		enum cmd_res	(*fn)(struct session *, const char *, size_t);
	} mechs[] = {
		{ "PLAIN", sasl_plain },
		{ "LOGIN", sasl_login },
	};
	char *initial = NULL;
	size_t mlen = len, ilen = 0;
	char *sp;

	if (auth_login_refused(s))
		return refuse_login(s);
	s->have_user = false;
	if (arg == NULL) {
		/* What Outlook and others send to learn the mechanisms. */
		if (io_puts(s->io, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n") == -1)
			return CMD_ABORT;
		return CMD_SENT;
	}
	if ((sp = memchr(arg, ' ', len)) != NULL) {
		mlen = (size_t)(sp - arg);
		initial = sp + 1;
		ilen = len - mlen - 1;
	}
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == mlen &&
		    strncasecmp(mechs[i].name, arg, mlen) == 0)
			return mechs[i].fn(s, initial, ilen);
	s->reply = "unsupported authentication mechanism";
	return CMD_ERR;
}

/* RFC 6856: names may be UTF-8 anyway; they are compared byte for byte. */
enum cmd_res
cmd_utf8(struct session *s, char *arg, size_t len)
{
	(void)len;
	if (arg != NULL) {
		s->reply = "UTF8 takes no argument";
		return CMD_BAD;
	}
	s->reply = "UTF8 enabled";
	return CMD_OK;
}

/*
 * STLS (RFC 2595 s.4): "+OK" in the clear, then the handshake.  What
 * the client sent after STLS came before TLS, so it is dropped, never
 * run as if it had come under TLS (CVE-2011-0411); so is the name a
 * USER gave.
 */
enum cmd_res
cmd_stls(struct session *s, char *arg, size_t len)
{
	size_t dropped;

	(void)len;
	if (s->cfg->starttls == NULL) {
		s->reply = "not supported";
		return CMD_ERR;
	}
	if (!io_is_plain(s->io)) {
		s->reply = "TLS is active already";
		return CMD_ERR;
	}
	if (sess_noarg(s, arg) != CMD_OK)
		return CMD_BAD;
	s->have_user = false;
	if (io_puts(s->io, "+OK begin TLS negotiation\r\n") == -1 ||
	    io_flush(s->io) == -1)
		return CMD_ABORT;
	if ((dropped = io_discard(s->io)) > 0)
		log_msg(LOG_WARNING, "stls result=dropped octets=%zu "
		    "reason=sent-before-tls", dropped);
	if (s->cfg->starttls(s->io, s->cfg->starttls_arg) == -1) {
		sess_finish(s, SESSION_ABORT, "tls-failed");
		return CMD_QUIT;
	}
	return CMD_SENT;
}

enum cmd_res
cmd_unsupported(struct session *s, char *arg, size_t len)
{
	(void)arg;
	(void)len;
	s->reply = "not supported";
	return CMD_ERR;
}
