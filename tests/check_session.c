/* check_session.c: the POP3 state machine, through session.h, driven
 * with client bytes against a real store and users file in a temporary
 * folder; every assertion is on the bytes the server wrote or on the
 * files left on disk. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "params.h"
#include "io.h"
#include "session.h"
#include "memtls.h"
#include "testlib.h"

static char *dir, *users, *root, *box;

#define LOGIN	"USER me\r\nPASS passw0rd\r\n"
#define GREET	"+OK pop3d ready\r\n"
#define LOGGED	GREET "+OK send PASS\r\n"

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	dir = tl_tmpdir();
	users = tl_path(dir, "users");
	root = tl_path(dir, "mail");
	box = tl_path(root, "me");
	tl_mkdir(dir, "mail");
	tl_mkdir(root, "me");
	tl_user(users, "me", "passw0rd", NULL);
	tl_write(box, "1", "Subject: one\n\n.dot\nbody\n", 24);
	tl_write(box, "2", "Subject: two\r\n\r\nx", 17);
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(box);
	free(root);
	free(users);
	free(dir);
}

/* Runs a session on input; checks the whole output and how it ended. */
static void
expect(const char *input, const char *want, enum session_end want_end)
{
	enum session_end end;
	size_t len;
	char *out = tl_session(users, root, input, strlen(input), &len, &end);

	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(end, want_end);
	free(out);
}

START_TEST(rfc1939_walkthrough)
{
	expect(LOGIN "STAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 2 47\r\n"
	    "+OK 2 messages (47 octets)\r\n1 28\r\n2 19\r\n.\r\n"
	    "+OK 28 octets\r\nSubject: one\r\n\r\n..dot\r\nbody\r\n.\r\n"
	    "+OK message deleted\r\n"
	    "+OK bye, 1 messages deleted\r\n", SESSION_QUIT);
	ck_assert(!tl_exists(box, "1"));
	ck_assert(tl_exists(box, "2"));
}
END_TEST

START_TEST(eof_deletes_nothing)
{
	expect(LOGIN "DELE 1\r\nDELE 2\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK message deleted\r\n+OK message deleted\r\n", SESSION_ABORT);
	ck_assert(tl_exists(box, "1"));
	ck_assert(tl_exists(box, "2"));
}
END_TEST

START_TEST(rset_unmarks)
{
	expect(LOGIN "DELE 2\r\nSTAT\r\nLIST 2\r\nRSET\r\nSTAT\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK message deleted\r\n"
	    "+OK 1 28\r\n"
	    "-ERR message is deleted\r\n"
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 2 47\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
	ck_assert(tl_exists(box, "2"));
}
END_TEST

START_TEST(message_without_final_newline_gets_one)
{
	expect(LOGIN "RETR 2\r\nTOP 2 0\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 19 octets\r\nSubject: two\r\n\r\nx\r\n.\r\n"
	    "+OK top of message follows\r\nSubject: two\r\n\r\n.\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(uidl_and_capa)
{
	expect(LOGIN "UIDL\r\nUIDL 2\r\nCAPA\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK unique-id listing follows\r\n1 1\r\n2 2\r\n.\r\n"
	    "+OK 2 2\r\n"
	    "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\n"
	    "SASL PLAIN LOGIN\r\nUTF8 USER\r\n"
	    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
	    "UID-PARAM\r\nDELI\r\nSLEE-WAKE\r\nEXPIRE NEVER\r\n"
	    "IMPLEMENTATION pop3d\r\n.\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(strict_message_numbers)
{
	expect(LOGIN "RETR 0\r\nRETR 3\r\nRETR -1\r\nRETR +1\r\nRETR 1x\r\n"
	    "RETR 99999999999999999999\r\nRETR 18446744073709551617\r\n"
	    "RETR  1\r\nRETR 1 \r\nRETR\r\nTOP 1\r\nTOP 1 -1\r\nTOP 1 1 1\r\n"
	    "DELE 1\r\nDELE 1\r\nRETR 1\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "-ERR no such message\r\n"
	    "-ERR no such message\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n"
	    "-ERR RETR needs a message number\r\n"
	    "-ERR TOP needs a message number and a line count\r\n"
	    "-ERR invalid line count\r\n"
	    "-ERR TOP needs a message number and a line count\r\n"
	    "+OK message deleted\r\n"
	    "-ERR message is deleted\r\n"
	    "-ERR message is deleted\r\n"
	    "+OK bye, 1 messages deleted\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(wrong_password_and_unknown_user_look_alike)
{
	expect("USER me\r\nPASS wrong\r\nUSER nobody\r\nPASS wrong\r\n"
	    "USER me\r\nPASS passw0rd\r\nQUIT\r\n",
	    GREET "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n"
	    "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n"
	    "+OK send PASS\r\n+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(three_failed_logins_end_the_session)
{
	expect("USER a\r\nPASS x\r\nUSER b\r\nPASS x\r\nUSER me\r\nPASS x\r\n"
	    "USER me\r\nPASS passw0rd\r\n",
	    GREET "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n"
	    "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n"
	    "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n",
	    SESSION_ABORT);
}
END_TEST

START_TEST(bad_command_budget_before_login)
{
	expect("FOO\r\nSTAT\r\nPASS x\r\nQUIT\r\n",
	    GREET "-ERR unknown command\r\n"
	    "-ERR command not valid in this state\r\n"
	    "-ERR too many bad commands, closing\r\n", SESSION_ABORT);
}
END_TEST

START_TEST(bad_command_budget_after_login)
{
	char in[2048] = LOGIN, want[4096] = LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n";

	for (int i = 0; i < POP3D_BAD_CMDS_TRANS; i++) {
		strcat(in, "XYZZY\r\n");
		strcat(want, i + 1 < POP3D_BAD_CMDS_TRANS ?
		    "-ERR unknown command\r\n" :
		    "-ERR too many bad commands, closing\r\n");
	}
	strcat(in, "QUIT\r\n");
	expect(in, want, SESSION_ABORT);
}
END_TEST

START_TEST(verbs_ignore_case_arguments_do_not)
{
	expect("user me\r\npAsS passw0rd\r\nsTaT\r\nuser me\r\nquit\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 2 47\r\n-ERR command not valid in this state\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
	expect("USER ME\r\nPASS passw0rd\r\nQUIT\r\n",
	    GREET "+OK send PASS\r\n-ERR [AUTH] authentication failed\r\n"
	    "+OK bye\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(pass_takes_the_rest_of_the_line)
{
	tl_user(users, "sp", " a  b ", NULL);
	expect("USER sp\r\nPASS  a  b \r\nQUIT\r\n",
	    GREET "+OK send PASS\r\n+OK maildrop has 0 messages (0 octets)\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(overlong_line_and_nul)
{
	char in[1024];

	memset(in, 'x', 600);
	memcpy(in + 600, "QUIT\r\nNO\0OP\r\nQUIT\r\n", 19);
	{
		enum session_end end;
		size_t len;
		char *out = tl_session(users, root, in, 600 + 6 + 7 + 6, &len,
		    &end);

		ck_assert_str_eq(out, GREET "-ERR line too long\r\n"
		    "-ERR invalid character in command\r\n+OK bye\r\n");
		ck_assert_int_eq(end, SESSION_QUIT);
		free(out);
	}
}
END_TEST

START_TEST(second_session_gets_in_use)
{
	char *lock = tl_path(box, POP3D_LOCK_NAME);
	int fd = open(lock, O_RDWR | O_CREAT, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	expect(LOGIN "STAT\r\nQUIT\r\n",
	    LOGGED "-ERR [IN-USE] mailbox in use by another session\r\n"
	    "-ERR command not valid in this state\r\n+OK bye\r\n",
	    SESSION_QUIT);
	close(fd);
	free(lock);
}
END_TEST

START_TEST(unreadable_users_file_is_a_temporary_failure)
{
	unlink(users);
	expect(LOGIN "QUIT\r\n",
	    GREET "+OK send PASS\r\n-ERR [SYS/TEMP] try again later\r\n"
	    "+OK bye\r\n", SESSION_QUIT);
}
END_TEST

/* Reads the server's output until it ends with want (or EOF). */
static void
read_until(int fd, char *buf, size_t cap, size_t *len, const char *want)
{
	size_t wl = strlen(want);
	ssize_t n;

	while (*len < wl || memcmp(buf + *len - wl, want, wl) != 0) {
		n = read(fd, buf + *len, cap - 1 - *len);
		ck_assert_int_gt(n, 0);
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

/*
 * A session in a child process, driven step by step over pipes, so the
 * test can change the mailbox between two commands.
 */
static pid_t
spawn(int *to, int *from)
{
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "local" };
	int in[2], out[2];
	struct io *io;
	pid_t pid;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	if ((pid = fork()) == 0) {
		close(in[1]);
		close(out[0]);
		enum session_end end;

		if ((io = io_new(in[0], out[1], 5)) == NULL)
			_exit(2);
		end = session_run(io, &cfg);
		io_free(io);	/* valgrind counts what _exit leaves */
		_exit(end == SESSION_QUIT ? 0 : 1);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

START_TEST(vanished_message)
{
	char out[4096], *p = tl_path(box, "1");
	const char *cmds = "RETR 1\r\nLIST\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n";
	size_t len = 0;
	int to, from, status;
	pid_t pid = spawn(&to, &from);

	ck_assert_int_eq(write(to, LOGIN, strlen(LOGIN)), strlen(LOGIN));
	read_until(from, out, sizeof(out), &len, "(47 octets)\r\n");
	/* Removed behind the session's back, after the listing. */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(write(to, cmds, strlen(cmds)), strlen(cmds));
	read_until(from, out, sizeof(out), &len, "deleted\r\n");
	ck_assert_str_eq(out, LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "-ERR message is no longer available\r\n"
	    "+OK 2 messages (47 octets)\r\n1 28\r\n2 19\r\n.\r\n"
	    "-ERR message is no longer available\r\n"
	    "+OK 19 octets\r\nSubject: two\r\n\r\nx\r\n.\r\n"
	    "+OK bye, 0 messages deleted\r\n");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to);
	close(from);
	free(p);
}
END_TEST

START_TEST(mail_delivered_during_the_session_is_left_alone)
{
	char out[4096];
	const char *cmds = "STAT\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n";
	size_t len = 0;
	int to, from, status;
	pid_t pid = spawn(&to, &from);

	ck_assert_int_eq(write(to, LOGIN, strlen(LOGIN)), strlen(LOGIN));
	read_until(from, out, sizeof(out), &len, "(47 octets)\r\n");
	tl_write(box, "3", "Subject: new\n\nlate\n", 20);
	ck_assert_int_eq(write(to, cmds, strlen(cmds)), strlen(cmds));
	read_until(from, out, sizeof(out), &len, "deleted\r\n");
	ck_assert_str_eq(out, LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 2 47\r\n+OK message deleted\r\n+OK message deleted\r\n"
	    "+OK bye, 2 messages deleted\r\n");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(!tl_exists(box, "1"));
	ck_assert(!tl_exists(box, "2"));
	ck_assert(tl_exists(box, "3"));
	close(to);
	close(from);
}
END_TEST

START_TEST(idle_timeout_ends_without_reply_or_deletes)
{
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "local" };
	int in[2], out[2];
	char buf[4096];
	struct io *io;
	ssize_t n;
	size_t len = 0;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(write(in[1], LOGIN "DELE 1\r\n", strlen(LOGIN) + 8),
	    (ssize_t)strlen(LOGIN) + 8);
	/* in[1] stays open: the client is idle, not gone. */
	io = io_new(in[0], out[1], 1);
	ck_assert_int_eq(session_run(io, &cfg), SESSION_ABORT);
	io_free(io);
	close(out[1]);
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	ck_assert_str_eq(buf, LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK message deleted\r\n");
	ck_assert(tl_exists(box, "1"));
}
END_TEST

START_TEST(read_only_user_cannot_delete)
{
	char *text;
	size_t len;

	tl_write(dir, "users", "", 0);
	tl_user(users, "me", "passw0rd", NULL);
	text = tl_read(users, &len);
	/* The users file's "ro" flag: name:hash::ro */
	text[len - 1] = '\0';
	{
		char line[1024];
		int n = snprintf(line, sizeof(line), "%s::ro\n", text);

		tl_write(dir, "users", line, (size_t)n);
	}
	free(text);
	expect(LOGIN "DELE 1\r\nRETR 2\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "-ERR [READ-ONLY] this mailbox is read-only\r\n"
	    "+OK 19 octets\r\nSubject: two\r\n\r\nx\r\n.\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
	ck_assert(tl_exists(box, "1"));
	/* Served without a lock: none was created. */
	ck_assert(!tl_exists(box, POP3D_LOCK_NAME));
}
END_TEST

START_TEST(unwritable_mailbox_is_served_read_only)
{
	/*
	 * Root ignores permissions: drop to nobody (this test runs in its
	 * own process) so the folder's mode is what decides.
	 */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chmod(root, 0755), 0);
	ck_assert_int_eq(chmod(box, 0555), 0);
	ck_assert_int_eq(chmod(users, 0644), 0);
	for (const char *const *m = (const char *const[]){ "1", "2", NULL };
	    *m != NULL; m++) {
		char *p = tl_path(box, *m);

		ck_assert_int_eq(chmod(p, 0644), 0);
		free(p);
	}
	if (geteuid() == 0) {
		ck_assert_int_eq(setgroups(0, NULL), 0);
		ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
		ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
	}
	expect(LOGIN "LIST\r\nDELE 1\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK 2 messages (47 octets)\r\n1 28\r\n2 19\r\n.\r\n"
	    "-ERR [READ-ONLY] this mailbox is read-only\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
	ck_assert(tl_exists(box, "1"));
	ck_assert(!tl_exists(box, POP3D_LOCK_NAME));
}
END_TEST

/* "AUTH PLAIN <base64 of msg>\r\n" */
static char *
auth_plain(const char *msg, size_t len)
{
	char *b = tl_base64(msg, len), *line;

	ck_assert_int_ne(asprintf(&line, "AUTH PLAIN %s\r\n", b), -1);
	free(b);
	return line;
}

#define MAILDROP	"+OK maildrop has 2 messages (47 octets)\r\n"
#define AUTH_FAILED	"-ERR [AUTH] authentication failed\r\n"
#define BYE		"+OK bye, 0 messages deleted\r\n"

static void
expect_auth(const char *msg, size_t len, const char *want_reply)
{
	char *in, *want, *cmd = auth_plain(msg, len);

	ck_assert_int_ne(asprintf(&in, "%sQUIT\r\n", cmd), -1);
	ck_assert_int_ne(asprintf(&want, GREET "%s%s", want_reply,
	    strcmp(want_reply, MAILDROP) == 0 ? BYE : "+OK bye\r\n"), -1);
	expect(in, want, SESSION_QUIT);
	free(in);
	free(want);
	free(cmd);
}

START_TEST(auth_plain_with_initial_response)
{
	expect_auth("\0me\0passw0rd", 12, MAILDROP);
	expect_auth("me\0me\0passw0rd", 14, MAILDROP);	/* own identity */
	expect_auth("admin\0me\0passw0rd", 17, AUTH_FAILED);
	expect_auth("\0me\0wrong", 9, AUTH_FAILED);
	expect_auth("\0nobody\0passw0rd", 16, AUTH_FAILED);
	expect_auth("\0me\0passw0rd\0", 13, AUTH_FAILED);	/* NUL is data */
	expect_auth("me passw0rd", 11,
	    "-ERR [AUTH] malformed PLAIN response\r\n");
	expect_auth("\0mepassw0rd", 11,
	    "-ERR [AUTH] malformed PLAIN response\r\n");
}
END_TEST

START_TEST(auth_plain_with_continuation)
{
	char *b = tl_base64("\0me\0passw0rd", 12), *in;

	ck_assert_int_ne(asprintf(&in, "AUTH PLAIN\r\n%s\r\nSTAT\r\nQUIT\r\n",
	    b), -1);
	expect(in, GREET "+ \r\n" MAILDROP "+OK 2 47\r\n" BYE, SESSION_QUIT);
	free(in);
	free(b);
	expect("auth plain\r\n*\r\nQUIT\r\n",
	    GREET "+ \r\n-ERR authentication cancelled\r\n+OK bye\r\n",
	    SESSION_QUIT);
	expect("AUTH PLAIN *\r\nQUIT\r\n",
	    GREET "-ERR authentication cancelled\r\n+OK bye\r\n", SESSION_QUIT);
	expect("AUTH PLAIN\r\n=\r\nQUIT\r\n", GREET "+ \r\n"
	    "-ERR [AUTH] malformed PLAIN response\r\n+OK bye\r\n",
	    SESSION_QUIT);
	expect("AUTH PLAIN !!!!\r\nAUTH PLAIN AG1l=AA=\r\nQUIT\r\n",
	    GREET "-ERR invalid base64\r\n-ERR invalid base64\r\n+OK bye\r\n",
	    SESSION_QUIT);
	/* The continuation ended by EOF: the session is over. */
	expect("AUTH PLAIN\r\n", GREET "+ \r\n", SESSION_ABORT);
}
END_TEST

START_TEST(auth_plain_response_limit)
{
	char in[3000], *p = in;

	/* Base64 for more than two names and a password: refused whole. */
	p += sprintf(p, "AUTH PLAIN\r\n");
	memset(p, 'A', 1100);
	p += 1100;
	p += sprintf(p, "QUIT\r\nQUIT\r\n");
	expect(in, GREET "+ \r\n-ERR [AUTH] response too long\r\n+OK bye\r\n",
	    SESSION_QUIT);
}
END_TEST

START_TEST(auth_login)
{
	char *u = tl_base64("me", 2), *pw = tl_base64("passw0rd", 8), *in;

	ck_assert_int_ne(asprintf(&in, "AUTH LOGIN\r\n%s\r\n%s\r\nQUIT\r\n",
	    u, pw), -1);
	expect(in, GREET "+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n" MAILDROP BYE,
	    SESSION_QUIT);
	free(in);
	ck_assert_int_ne(asprintf(&in, "AUTH LOGIN %s\r\n%s\r\nQUIT\r\n",
	    u, pw), -1);
	expect(in, GREET "+ UGFzc3dvcmQ6\r\n" MAILDROP BYE, SESSION_QUIT);
	free(in);
	ck_assert_int_ne(asprintf(&in, "AUTH LOGIN %s\r\n*\r\nQUIT\r\n", u),
	    -1);
	expect(in, GREET "+ UGFzc3dvcmQ6\r\n-ERR authentication cancelled\r\n"
	    "+OK bye\r\n", SESSION_QUIT);
	free(in);
	free(u);
	free(pw);
}
END_TEST

START_TEST(auth_listing_and_states)
{
	char *cmd = auth_plain("\0me\0passw0rd", 12), *in;

	expect("AUTH\r\nAUTH CRAM-MD5\r\nQUIT\r\n", GREET
	    "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n"
	    "-ERR unsupported authentication mechanism\r\n+OK bye\r\n",
	    SESSION_QUIT);
	/* AUTH forgets an earlier USER; after login it is out of place. */
	ck_assert_int_ne(asprintf(&in, "USER me\r\nAUTH PLAIN *\r\n"
	    "PASS passw0rd\r\n%sAUTH\r\nQUIT\r\n", cmd), -1);
	expect(in, GREET "+OK send PASS\r\n-ERR authentication cancelled\r\n"
	    "-ERR USER first\r\n" MAILDROP
	    "-ERR command not valid in this state\r\n" BYE, SESSION_QUIT);
	free(in);
	free(cmd);
}
END_TEST

START_TEST(utf8_names)
{
	tl_user(users, "jos\xc3\xa9", "contrase\xc3\xb1" "a", NULL);
	expect("UTF8\r\nUTF8 x\r\nUSER jos\xc3\xa9\r\nPASS contrase\xc3\xb1"
	    "a\r\nUTF8\r\nQUIT\r\n", GREET "+OK UTF8 enabled\r\n"
	    "-ERR UTF8 takes no argument\r\n+OK send PASS\r\n"
	    "+OK maildrop has 0 messages (0 octets)\r\n"
	    "-ERR command not valid in this state\r\n" BYE, SESSION_QUIT);
	/* Bytes, not characters: a decomposed e + U+0301 is another name. */
	expect("USER jose\xcc\x81\r\nPASS contrase\xc3\xb1" "a\r\nQUIT\r\n",
	    GREET "+OK send PASS\r\n" AUTH_FAILED "+OK bye\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(banned_address_is_refused_without_a_check)
{
	char *state = tl_path(dir, "failures");
	struct ban_cfg ban = { state, 3, 600, 3600, false, 10, 900 };
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "192.0.2.9", .ban = &ban };
	struct session_cfg other = { .users = users, .mail_root = root,
	    .peer = "198.51.100.1", .ban = &ban };
	enum session_end end;
	size_t len;
	char *out;

	const char *three = "USER me\r\nPASS a\r\nUSER me\r\nPASS b\r\n"
	    "USER nobody\r\nPASS c\r\n";

	out = tl_session_cfg(&cfg, three, strlen(three), &len, &end);
	ck_assert_str_eq(out, GREET "+OK send PASS\r\n" AUTH_FAILED
	    "+OK send PASS\r\n" AUTH_FAILED "+OK send PASS\r\n" AUTH_FAILED);
	free(out);
	/* Now even the right password gets the same answer. */
	out = tl_session_cfg(&cfg, LOGIN "QUIT\r\n", strlen(LOGIN) + 6, &len,
	    &end);
	ck_assert_str_eq(out, LOGGED AUTH_FAILED "+OK bye\r\n");
	free(out);
	/* Another address is not affected, and its success is its own. */
	out = tl_session_cfg(&other, LOGIN "QUIT\r\n", strlen(LOGIN) + 6, &len,
	    &end);
	ck_assert_str_eq(out, LOGGED MAILDROP BYE);
	free(out);
	/* Loopback and pipes are never limited by default. */
	cfg.peer = "127.0.0.1";
	out = tl_session_cfg(&cfg, LOGIN "QUIT\r\n", strlen(LOGIN) + 6, &len,
	    &end);
	ck_assert_str_eq(out, LOGGED MAILDROP BYE);
	free(out);
	free(state);
}
END_TEST

/*
 * --login-grace: AUTHORIZATION ends when its time is up, even with
 * commands sent ahead and waiting; after a login it no longer counts.
 */
START_TEST(login_grace_ends_authorization)
{
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "local", .fail_delay_ms = 1100, .login_grace = 1 };
	const char *in = "USER me\r\nPASS wrong\r\nCAPA\r\nQUIT\r\n";
	enum session_end end;
	size_t len;
	char *out;

	out = tl_session_cfg(&cfg, in, strlen(in), &len, &end);
	ck_assert_str_eq(out, GREET "+OK send PASS\r\n" AUTH_FAILED);
	ck_assert_int_eq(end, SESSION_ABORT);
	free(out);
	cfg.fail_delay_ms = 0;
	in = LOGIN "NOOP\r\nQUIT\r\n";
	out = tl_session_cfg(&cfg, in, strlen(in), &len, &end);
	ck_assert_str_eq(out, LOGGED MAILDROP "+OK\r\n" BYE);
	ck_assert_int_eq(end, SESSION_QUIT);
	free(out);
}
END_TEST

START_TEST(users_file_others_may_write_is_refused)
{
	ck_assert_int_eq(chmod(users, 0666), 0);
	expect(LOGIN "QUIT\r\n", GREET "+OK send PASS\r\n"
	    "-ERR [SYS/PERM] login impossible, tell the admin\r\n+OK bye\r\n",
	    SESSION_QUIT);
	ck_assert_int_eq(chmod(users, 0644), 0);
	expect(LOGIN "QUIT\r\n", LOGGED MAILDROP BYE, SESSION_QUIT);
}
END_TEST


START_TEST(uid_param_and_numbers_stay_apart)
{
	/* Ids "0", "1", "2": UID:1 is message 2, and 1 is message 1. */
	tl_write(box, "0", "Subject: zero\n\n", 15);
	expect(LOGIN "LIST 1\r\nLIST UID:1\r\nUIDL uId:2\r\nRETR UID:0\r\n"
	    "DELE UID:1\r\nLIST UID:1\r\nLIST 2\r\nLIST UID:3\r\n"
	    "LIST UID:../1\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 3 messages (64 octets)\r\n"
	    "+OK 1 17\r\n+OK 2 28\r\n+OK 3 2\r\n"
	    "+OK 17 octets\r\nSubject: zero\r\n\r\n.\r\n"
	    "+OK message deleted\r\n"
	    "-ERR [UID/NOT-FOUND] message is deleted\r\n"
	    "-ERR message is deleted\r\n"
	    "-ERR [UID/NOT-FOUND] no such message\r\n"
	    "-ERR [UID/NOT-FOUND] no such message\r\n"
	    "+OK bye, 1 messages deleted\r\n", SESSION_QUIT);
	ck_assert(tl_exists(box, "0"));
	ck_assert(!tl_exists(box, "1"));
	ck_assert(tl_exists(box, "2"));
}
END_TEST

START_TEST(uid_param_finds_every_id_of_a_big_mailbox)
{
	char name[16], in[8192], want[8192], *p = in, *q = want;

	/* Enough for the sorted index to matter; every id, both ways. */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		tl_write(box, name, "x\n", 2);
	}
	p += sprintf(p, LOGIN);
	q += sprintf(q, LOGGED "+OK maildrop has 202 messages (647 octets)\r\n");
	for (int i = 199; i >= 0; i -= 7) {
		p += sprintf(p, "UIDL UID:m%03d\r\n", i);
		q += sprintf(q, "+OK %d m%03d\r\n", i + 3, i);
	}
	p += sprintf(p, "LIST UID:m200\r\nLIST UID:m\r\nQUIT\r\n");
	q += sprintf(q, "-ERR [UID/NOT-FOUND] no such message\r\n"
	    "-ERR [UID/NOT-FOUND] no such message\r\n"
	    "+OK bye, 0 messages deleted\r\n");
	expect(in, want, SESSION_QUIT);
}
END_TEST

START_TEST(deli_removes_one_message_and_keeps_numbers)
{
	tl_write(box, "3", "Subject: three\n\n", 16);
	expect(LOGIN "DELE 1\r\nDELI 2\r\nRSET\r\nLIST\r\nDELI 2\r\n"
	    "DELI UID:3\r\nSTAT\r\nQUIT\r\n",
	    LOGGED "+OK maildrop has 3 messages (65 octets)\r\n"
	    "+OK message deleted\r\n+OK message deleted\r\n"
	    "+OK maildrop has 2 messages (46 octets)\r\n"
	    "+OK 2 messages (46 octets)\r\n1 28\r\n3 18\r\n.\r\n"
	    "-ERR message is deleted\r\n"
	    "+OK message deleted\r\n"
	    "+OK 1 28\r\n"
	    "+OK bye, 0 messages deleted\r\n", SESSION_QUIT);
	/* RSET took back DELE 1, never DELI. */
	ck_assert(tl_exists(box, "1"));
	ck_assert(!tl_exists(box, "2"));
	ck_assert(!tl_exists(box, "3"));
	ck_assert(!tl_exists(box, POP3D_JOURNAL_NAME));
}
END_TEST

START_TEST(deli_then_eof_keeps_the_marked)
{
	/* DELI is done at once; a DELE beside it still waits for QUIT. */
	expect(LOGIN "DELE 1\r\nDELI 2\r\n",
	    LOGGED "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK message deleted\r\n+OK message deleted\r\n", SESSION_ABORT);
	ck_assert(tl_exists(box, "1"));
	ck_assert(!tl_exists(box, "2"));
}
END_TEST

START_TEST(sleep_releases_the_lock_and_wake_reports_news)
{
	char out[8192], *lock = tl_path(box, POP3D_LOCK_NAME);
	const char *slee = "DELE 1\r\nSLEE\r\n", *wake = "WAKE\r\n";
	const char *rest = "WAKE\r\nLIST\r\nUIDL\r\nRETR UID:1\r\nSLEE\r\n"
	    "WAKE\r\nQUIT\r\n";
	size_t len = 0;
	int to, from, status, fd;
	pid_t pid = spawn(&to, &from);

	ck_assert_int_eq(write(to, LOGIN, strlen(LOGIN)), strlen(LOGIN));
	ck_assert_int_eq(write(to, slee, strlen(slee)), strlen(slee));
	read_until(from, out, sizeof(out), &len, "deleted\r\n");
	ck_assert(!tl_exists(box, "1"));
	/* Another session gets the lock while this one sleeps. */
	fd = open(lock, O_RDWR);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(write(to, wake, strlen(wake)), strlen(wake));
	read_until(from, out, sizeof(out), &len, "session\r\n");
	tl_write(box, "0", "Subject: new\n\n", 14);
	close(fd);
	ck_assert_int_eq(write(to, rest, strlen(rest)), strlen(rest));
	read_until(from, out, sizeof(out), &len, BYE);
	ck_assert_str_eq(out, LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK message deleted\r\n+OK sleeping, 1 messages deleted\r\n"
	    "-ERR [IN-USE] mailbox in use by another session\r\n"
	    /* Renumbered: the new message sorts first. */
	    "+OK [ACTIVITY/NEW] maildrop has 2 messages (35 octets)\r\n"
	    "+OK 2 messages (35 octets)\r\n1 16\r\n2 19\r\n.\r\n"
	    "+OK unique-id listing follows\r\n1 0\r\n2 2\r\n.\r\n"
	    "-ERR [UID/NOT-FOUND] no such message\r\n"
	    "+OK sleeping, 0 messages deleted\r\n"
	    "+OK [ACTIVITY/NONE] maildrop has 2 messages (35 octets)\r\n"
	    "+OK bye, 0 messages deleted\r\n");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to);
	close(from);
	free(lock);
}
END_TEST

START_TEST(wake_finishes_a_journal_left_meanwhile)
{
	char out[8192], text[256], line[128];
	const char *wake = "WAKE\r\nLIST\r\nQUIT\r\n";
	size_t len = 0;
	int to, from, status;
	pid_t pid = spawn(&to, &from);

	tl_journal_line(line, sizeof(line), 'r', box, "2", 0);
	ck_assert_int_eq(write(to, LOGIN "SLEE\r\n", strlen(LOGIN) + 6),
	    (ssize_t)strlen(LOGIN) + 6);
	read_until(from, out, sizeof(out), &len, "deleted\r\n");
	/* Another session crashed past its commit point meanwhile. */
	snprintf(text, sizeof(text), "pop3d journal 2\n%send\n", line);
	tl_write(box, POP3D_JOURNAL_NAME, text, strlen(text));
	ck_assert_int_eq(write(to, wake, strlen(wake)), strlen(wake));
	read_until(from, out, sizeof(out), &len, BYE);
	ck_assert_str_eq(out, LOGGED
	    "+OK maildrop has 2 messages (47 octets)\r\n"
	    "+OK sleeping, 0 messages deleted\r\n"
	    "+OK [ACTIVITY/NONE] maildrop has 1 messages (28 octets)\r\n"
	    "+OK 1 messages (28 octets)\r\n1 28\r\n.\r\n"
	    "+OK bye, 0 messages deleted\r\n");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(!tl_exists(box, "2"));
	ck_assert(!tl_exists(box, POP3D_JOURNAL_NAME));
	close(to);
	close(from);
}
END_TEST

START_TEST(login_delay_is_enforced_and_advertised)
{
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "local", .login_delay = 60, .expire_days = 7 };
	const char *in = "CAPA\r\n" LOGIN "CAPA\r\nQUIT\r\n";
	enum session_end end;
	size_t len;
	char *out;

	out = tl_session_cfg(&cfg, in, strlen(in), &len, &end);
	ck_assert_str_eq(out, GREET "+OK capability list follows\r\n"
	    "TOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN\r\nUTF8 USER\r\n"
	    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
	    "UID-PARAM\r\nDELI\r\nSLEE-WAKE\r\nEXPIRE 7\r\n"
	    "LOGIN-DELAY 60 USER\r\nIMPLEMENTATION pop3d\r\n.\r\n"
	    "+OK send PASS\r\n" MAILDROP
	    "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\n"
	    "SASL PLAIN LOGIN\r\nUTF8 USER\r\n"
	    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
	    "UID-PARAM\r\nDELI\r\nSLEE-WAKE\r\nEXPIRE 7\r\n"
	    "LOGIN-DELAY 60\r\nIMPLEMENTATION pop3d\r\n.\r\n" BYE);
	free(out);
	ck_assert(tl_exists(box, POP3D_LOGIN_NAME));
	/* Too soon: refused after the password, and nothing recorded. */
	out = tl_session_cfg(&cfg, LOGIN "STAT\r\nQUIT\r\n",
	    strlen(LOGIN) + 12, &len, &end);
	ck_assert_str_eq(out, LOGGED
	    "-ERR [LOGIN-DELAY] too soon after the last login\r\n"
	    "-ERR command not valid in this state\r\n+OK bye\r\n");
	free(out);
	/* A wrong password still gets the usual answer. */
	out = tl_session_cfg(&cfg, "USER me\r\nPASS x\r\nQUIT\r\n", 23, &len,
	    &end);
	ck_assert_str_eq(out, LOGGED "-ERR [AUTH] authentication failed\r\n"
	    "+OK bye\r\n");
	free(out);
	/* Once the delay has passed, the login is let in. */
	cfg.login_delay = 1;
	sleep(2);
	out = tl_session_cfg(&cfg, LOGIN "QUIT\r\n", strlen(LOGIN) + 6, &len,
	    &end);
	ck_assert_str_eq(out, LOGGED MAILDROP BYE);
	free(out);
}
END_TEST

START_TEST(login_delay_is_not_claimed_where_not_kept)
{
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "local", .login_delay = 60 };
	const char *in = "USER ro\r\nPASS pw\r\nCAPA\r\nQUIT\r\n";
	char line[1024], *text;
	enum session_end end;
	size_t len;
	char *out;
	int n;

	/* A read-only user of the same mailbox: no lock, no record. */
	tl_write(dir, "users", "", 0);
	tl_user(users, "ro", "pw", "me");
	text = tl_read(users, &len);
	text[len - 1] = '\0';
	n = snprintf(line, sizeof(line), "%s:ro\n", text);
	tl_write(dir, "users", line, (size_t)n);
	free(text);
	for (int i = 0; i < 2; i++) {
		out = tl_session_cfg(&cfg, in, strlen(in), &len, &end);
		ck_assert_str_eq(out, LOGGED MAILDROP
		    "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\n"
		    "SASL PLAIN LOGIN\r\nUTF8 USER\r\n"
		    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
		    "UID-PARAM\r\nDELI\r\nSLEE-WAKE\r\nEXPIRE NEVER\r\n"
		    "IMPLEMENTATION pop3d\r\n.\r\n" BYE);
		free(out);
	}
	ck_assert(!tl_exists(box, POP3D_LOGIN_NAME));
}
END_TEST

/* TLS for STLS, as memtls.h stands it in: how often, and whether it fails. */
struct fake_tls {
	struct memtls	 m;
	int		 starts;
	bool		 fail;
};

static int
fake_starttls(struct io *io, void *arg)
{
	struct fake_tls *f = arg;
	struct io_transport t = memtls_transport(&f->m);

	f->starts++;
	if (f->fail)
		return -1;
	return io_set_transport(io, &t);
}

/*
 * A session with STLS offered (logins refused in the clear when
 * needs_tls): plain is what the client sends before TLS, tls what it
 * sends under it; checks what the server wrote on each side.
 */
static void
expect_stls(bool needs_tls, const char *plain, const char *tls,
    const char *want_plain, const char *want_tls, enum session_end want_end)
{
	struct fake_tls f = { .m = { .in = tls, .inlen = strlen(tls) } };
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "192.0.2.1", .starttls = fake_starttls,
	    .starttls_arg = &f, .auth_needs_tls = needs_tls };
	enum session_end end;
	size_t len;
	char *out = tl_session_cfg(&cfg, plain, strlen(plain), &len, &end);

	ck_assert_str_eq(out, want_plain);
	ck_assert_uint_eq(len, strlen(want_plain));
	ck_assert_uint_eq(f.m.outlen, strlen(want_tls));
	/* Nothing written under TLS leaves no buffer at all. */
	if (f.m.outlen > 0)
		ck_assert_mem_eq(f.m.out, want_tls, f.m.outlen);
	ck_assert_int_eq(end, want_end);
	free(f.m.out);
	free(out);
}

#define CAPA_HEAD	"+OK capability list follows\r\nTOP\r\nUIDL\r\n"
#define CAPA_TAIL	"RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n" \
	"UID-PARAM\r\nDELI\r\nSLEE-WAKE\r\nEXPIRE NEVER\r\n" \
	"IMPLEMENTATION pop3d\r\n.\r\n"
/* No login in the clear: neither USER nor UTF8's USER (RFC 6856 s.2). */
#define CAPA_PLAIN	CAPA_HEAD "UTF8\r\nSTLS\r\n" CAPA_TAIL
#define CAPA_TLS	CAPA_HEAD "USER\r\nSASL PLAIN LOGIN\r\nUTF8 USER\r\n" \
	CAPA_TAIL
#define REFUSED		"-ERR [AUTH] no login without TLS: send STLS first\r\n"
#define BEGIN_TLS	"+OK begin TLS negotiation\r\n"

START_TEST(stls_logins_refused_in_the_clear)
{
	char *cmd = auth_plain("\0me\0passw0rd", 12), *in;

	/* Refusals are bad commands: the third ends the session. */
	ck_assert_int_ne(asprintf(&in, "CAPA\r\nUSER me\r\nPASS passw0rd\r\n"
	    "%sQUIT\r\n", cmd), -1);
	expect_stls(true, in, "", GREET CAPA_PLAIN REFUSED REFUSED
	    "-ERR too many bad commands, closing\r\n", "", SESSION_ABORT);
	free(in);
	expect_stls(true, "AUTH\r\nAUTH LOGIN\r\n", "", GREET REFUSED
	    REFUSED, "", SESSION_ABORT);
	free(cmd);
}
END_TEST

START_TEST(stls_then_login)
{
	expect_stls(true, "CAPA\r\nSTLS\r\n",
	    "CAPA\r\n" LOGIN "STAT\r\nCAPA\r\nQUIT\r\n",
	    GREET CAPA_PLAIN BEGIN_TLS,
	    CAPA_TLS "+OK send PASS\r\n" MAILDROP "+OK 2 47\r\n"
	    CAPA_TLS BYE, SESSION_QUIT);
}
END_TEST

/* CVE-2011-0411: what came with STLS is never run, before or after. */
START_TEST(stls_drops_what_came_with_it)
{
	expect_stls(true, "STLS\r\nUSER me\r\nPASS passw0rd\r\nQUIT\r\n",
	    "PASS passw0rd\r\nCAPA\r\nQUIT\r\n", GREET BEGIN_TLS,
	    "-ERR USER first\r\n" CAPA_TLS "+OK bye\r\n", SESSION_QUIT);
	/* Nor does a USER given before STLS carry over. */
	expect_stls(false, "USER me\r\nSTLS\r\n", "PASS passw0rd\r\nQUIT\r\n",
	    GREET "+OK send PASS\r\n" BEGIN_TLS,
	    "-ERR USER first\r\n+OK bye\r\n", SESSION_QUIT);
}
END_TEST

START_TEST(stls_only_once_and_only_before_login)
{
	expect_stls(true, "STLS x\r\nSTLS\r\n", "STLS\r\n" LOGIN "STLS\r\n"
	    "QUIT\r\n", GREET "-ERR no argument expected\r\n" BEGIN_TLS,
	    "-ERR TLS is active already\r\n+OK send PASS\r\n" MAILDROP
	    "-ERR command not valid in this state\r\n" BYE, SESSION_QUIT);
}
END_TEST

/* From loopback, or with --allow-plaintext-auth: both ways work. */
START_TEST(stls_offered_beside_plain_logins)
{
	expect_stls(false, "CAPA\r\n" LOGIN "QUIT\r\n", "",
	    GREET CAPA_HEAD "USER\r\nSASL PLAIN LOGIN\r\nUTF8 USER\r\nSTLS\r\n"
	    CAPA_TAIL "+OK send PASS\r\n" MAILDROP BYE, "", SESSION_QUIT);
}
END_TEST

START_TEST(stls_failed_handshake_ends_the_session)
{
	struct fake_tls f = { .m = { .in = "" }, .fail = true };
	struct session_cfg cfg = { .users = users, .mail_root = root,
	    .peer = "192.0.2.1", .starttls = fake_starttls,
	    .starttls_arg = &f, .auth_needs_tls = true };
	enum session_end end;
	size_t len;
	char *out;

	out = tl_session_cfg(&cfg, "STLS\r\nCAPA\r\n", 12, &len, &end);
	ck_assert_str_eq(out, GREET BEGIN_TLS);
	ck_assert_int_eq(end, SESSION_ABORT);
	ck_assert_int_eq(f.starts, 1);
	ck_assert_uint_eq(f.m.outlen, 0);
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rfc1939_walkthrough);
	tcase_add_test(tc, eof_deletes_nothing);
	tcase_add_test(tc, rset_unmarks);
	tcase_add_test(tc, message_without_final_newline_gets_one);
	tcase_add_test(tc, uidl_and_capa);
	tcase_add_test(tc, strict_message_numbers);
	tcase_add_test(tc, wrong_password_and_unknown_user_look_alike);
	tcase_add_test(tc, three_failed_logins_end_the_session);
	tcase_add_test(tc, bad_command_budget_before_login);
	tcase_add_test(tc, bad_command_budget_after_login);
	tcase_add_test(tc, verbs_ignore_case_arguments_do_not);
	tcase_add_test(tc, pass_takes_the_rest_of_the_line);
	tcase_add_test(tc, overlong_line_and_nul);
	tcase_add_test(tc, second_session_gets_in_use);
	tcase_add_test(tc, unreadable_users_file_is_a_temporary_failure);
	tcase_add_test(tc, vanished_message);
	tcase_add_test(tc, mail_delivered_during_the_session_is_left_alone);
	tcase_add_test(tc, idle_timeout_ends_without_reply_or_deletes);
	tcase_add_test(tc, read_only_user_cannot_delete);
	tcase_add_test(tc, auth_plain_with_initial_response);
	tcase_add_test(tc, auth_plain_with_continuation);
	tcase_add_test(tc, auth_plain_response_limit);
	tcase_add_test(tc, auth_login);
	tcase_add_test(tc, auth_listing_and_states);
	tcase_add_test(tc, utf8_names);
	tcase_add_test(tc, banned_address_is_refused_without_a_check);
	tcase_add_test(tc, login_grace_ends_authorization);
	tcase_add_test(tc, users_file_others_may_write_is_refused);
	tcase_add_test(tc, unwritable_mailbox_is_served_read_only);
	tcase_add_test(tc, uid_param_and_numbers_stay_apart);
	tcase_add_test(tc, uid_param_finds_every_id_of_a_big_mailbox);
	tcase_add_test(tc, deli_removes_one_message_and_keeps_numbers);
	tcase_add_test(tc, deli_then_eof_keeps_the_marked);
	tcase_add_test(tc, sleep_releases_the_lock_and_wake_reports_news);
	tcase_add_test(tc, wake_finishes_a_journal_left_meanwhile);
	tcase_add_test(tc, login_delay_is_enforced_and_advertised);
	tcase_add_test(tc, login_delay_is_not_claimed_where_not_kept);
	tcase_add_test(tc, stls_logins_refused_in_the_clear);
	tcase_add_test(tc, stls_then_login);
	tcase_add_test(tc, stls_drops_what_came_with_it);
	tcase_add_test(tc, stls_only_once_and_only_before_login);
	tcase_add_test(tc, stls_offered_beside_plain_logins);
	tcase_add_test(tc, stls_failed_handshake_ends_the_session);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
