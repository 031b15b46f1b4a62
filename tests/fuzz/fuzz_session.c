/*
 * fuzz_session.c: client bytes against the fixture mailboxes, through
 * session_run with a real store, users file and ban file.  Checks every
 * reply's grammar and length, every listing, size, RETR and TOP against
 * the fixture's messages, that pop3d opens and removes nothing outside
 * the mailboxes, the users file and the ban file's folder, logs nothing
 * raw, and leaves the canaries alone.
 */
#include <stdlib.h>

#include "ban.h"
#include "fuzzlib.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_fixture *fx = fz_fixture();
	/* Limits on, but never reached: a ban would hide the rest. */
	struct ban_cfg ban = { fx->ban, 1000000, 3600, 3600, false, 0,
	    3600 };
	struct session_cfg cfg = { .users = fx->users, .mail_root = fx->root,
	    .peer = "192.0.2.1", .ban = &ban, .qaut = true };
	const char *allowed[] = { fx->users, fx->users_index, fx->me,
	    fx->maildir, fx->state, NULL };
	enum session_end end;
	size_t outlen;
	char *out;

	out = fz_session(&cfg, allowed, data, size, &outlen, &end);
	fz_check_session(data, size, out, outlen, fz_fixture_box());
	free(out);
	fz_fixture_reset();
	return 0;
}
