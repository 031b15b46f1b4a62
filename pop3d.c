/*
 * pop3d.c: main.  Reads the options, makes fds 0-2 safe, opens the log,
 * names the client in every log line (as a trusted proxy's PROXY header
 * says, where one is configured), initialises libsodium, loads the TLS
 * certificate and key, and runs one session on stdin/stdout (over TLS
 * from the start, or after STLS), confined to the mailbox once logged in.
 * Holds no protocol or file-format logic.
 * Never writes to stdout or stderr once the session may be on them,
 * except --help, --version and --check (confcheck.c), which a person
 * runs, and, on a stderr that is a terminal (a person trying it by
 * hand), the log's lines and the usage.
 */
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ban.h"
#include "confcheck.h"
#include "io.h"
#include "log.h"
#include "params.h"
#include "pct.h"
#include "peer.h"
#include "proxy.h"
#include "sandbox.h"
#include "session.h"
#include "slots.h"
#include "tls.h"

static const char usage_text[] =
    "usage: pop3d [--users FILE] [--mail-root DIR] [--idle-timeout SECONDS]\n"
    "             [--login-grace SECONDS]\n"
    "             [--ban-file FILE] [--ban-after N] [--ban-window SECONDS]\n"
    "             [--ban-time SECONDS] [--ban-user-after N]\n"
    "             [--ban-user-time SECONDS] [--ban-loopback]\n"
    "             [--proxy-from ADDR[/PREFIX]]...\n"
    "             [--login-delay SECONDS] [--expire DAYS] [--qaut]\n"
    "             [--tls=implicit|starttls|off] [--tls-cert FILE]\n"
    "             [--tls-key FILE] [--allow-plaintext-auth]\n"
    "             [--rehash-dir DIR] [--runtime-dir DIR]\n"
    "             [--auth-memory MIB] [--login-slots N]\n"
    "             [--startups START:RATE:FULL]\n"
    "       pop3d --check [--user NAME] [the options above]\n";

/* --tls: none given means STLS with a certificate, else off. */
enum tls_mode { MODE_UNSET, MODE_OFF, MODE_STARTTLS, MODE_IMPLICIT };

/* What the STLS hook and the implicit start need, and the log says. */
struct tls_hook {
	struct tls	*tls;
	const char	*mode;		/* "implicit" or "starttls" */
};

/*
 * Ends a usage error, once its log line has said what is wrong (log_open
 * copies that line to a terminal): the usage follows, only for a person
 * at a terminal, since under inetd fd 2 is the client.
 */
static void __attribute__((noreturn))
usage(void)
{
	if (isatty(STDERR_FILENO))
		fputs(usage_text, stderr);
	exit(POP3D_EXIT_USAGE);
}

/*
 * A usage error naming the option (or the argument, where pop3d takes
 * none), the value given when there is one, and why.  Both are escaped:
 * the command line is the admin's, but a typo may hold any byte.
 */
static void __attribute__((noreturn))
misuse(const char *key, const char *option, const char *value,
    const char *why)
{
	char opt[256], val[256];

	log_esc(opt, sizeof(opt), option, strlen(option));
	if (value != NULL)
		log_msg(LOG_ERR, "startup result=usage %s=%s value=%s "
		    "error=\"%s\"", key, opt, log_esc(val, sizeof(val), value,
		    strlen(value)), why);
	else
		log_msg(LOG_ERR, "startup result=usage %s=%s error=\"%s\"",
		    key, opt, why);
	usage();
}

/* A usage error in option's value. */
static void __attribute__((noreturn))
bad_value(const char *option, const char *value, const char *why)
{
	misuse("option", option, value, why);
}

/* A usage error in the options themselves, with what getopt said. */
static void __attribute__((noreturn))
bad_option(int c, char *argv[])
{
	const char *given = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' }, name[64];

	if (strncmp(given, "--", 2) != 0)	/* a short option: none exist */
		misuse("option", optopt != 0 ? shortopt : given, NULL,
		    "unknown option");
	if (c == ':')
		misuse("option", given, NULL, "needs a value");
	/* getopt_long names the option in optopt when it takes no value. */
	if (optopt != 0) {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(given, "="),
		    given);
		misuse("option", name, NULL, "takes no value");
	}
	misuse("option", given, NULL, "unknown or ambiguous option");
}

/* Opens /dev/null on any of fds 0-2 that is closed. */
static void
sane_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			exit(POP3D_EXIT_TEMP);
	}
}

/* A decimal number within min..max, or a usage error naming option. */
static long
parse_number(const char *option, const char *s, long min, long max)
{
	char why[80];
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(why, sizeof(why), "not a whole number from %ld to %ld",
		    min, max);
		bad_value(option, s, why);
	}
	return v;
}

/* With --qaut: the one confinement must leave every login possible. */
static struct sandbox_paths qaut_paths;

static int
confine_qaut(int dirfd, bool read_only)
{
	static bool confined;

	if (confined)
		return 0;
	if (sandbox_logins(&qaut_paths, dirfd, read_only) == -1)
		return -1;
	confined = true;
	return 0;
}

/* Names the client in every log line from now on. */
static void
set_tag(const char *peer)
{
	char tag[PEER_ADDR_MAX + 24];

	snprintf(tag, sizeof(tag), "%ld@%s", (long)getpid(), peer);
	log_set_tag(tag);
}

/*
 * A connection from a trusted proxy (--proxy-from) begins with a PROXY
 * header naming the client: its address replaces the proxy's in peer.
 * A trusted proxy that sends none, a bad one, or too slowly ends the
 * process before a byte is taken as a command.  Nobody else's bytes are
 * ever parsed as a header: from them, "PROXY ..." is a bad command.
 * Returns whether the header says that the client spoke TLS to the
 * proxy (a TLS terminator's send-proxy-v2-ssl), which is then logged as
 * pop3d's own handshake would be.
 */
static bool
take_proxy(const struct proxy_net *nets, size_t n, char *peer, size_t cap)
{
	struct sockaddr_storage ss;
	struct sockaddr *sa = (struct sockaddr *)&ss;
	socklen_t len = sizeof(ss);
	struct proxy_hdr hdr;
	const char *why;
	char via[PEER_ADDR_MAX];
	/* log_esc: 3 octets a byte at worst, and room for its "...". */
	char version[3 * POP3D_PROXY_TLS_TEXT_MAX + 4];
	char cipher[3 * POP3D_PROXY_TLS_TEXT_MAX + 4];

	if (getpeername(STDIN_FILENO, sa, &len) == -1 ||
	    !proxy_net_match(nets, n, sa, len))
		return false;
	if (peer_format(sa, len, via, sizeof(via)) == -1)
		snprintf(via, sizeof(via), "unknown");	/* NEVER: matched */
	if (proxy_read(STDIN_FILENO, POP3D_PROXY_TIMEOUT_MS, &hdr,
	    &why) == -1) {
		if (strcmp(why, "read-error") == 0)
			log_msg(LOG_NOTICE, "proxy via=%s result=bad "
			    "reason=read-error error=\"%s\"", via,
			    strerror(errno));
		else
			log_msg(LOG_NOTICE, "proxy via=%s result=bad reason=%s",
			    via, why);
		exit(POP3D_EXIT_ABORT);
	}
	if (!hdr.local && peer_format((struct sockaddr *)&hdr.src,
	    hdr.srclen, peer, cap) == -1)
		fatal(POP3D_EXIT_TEMP, "proxy via=%s result=fail "
		    "error=format", via);	/* NEVER: parsed as INET(6) */
	set_tag(peer);
	log_msg(LOG_INFO, "proxy via=%s version=%d%s", via, hdr.version,
	    hdr.local ? " client=none" : "");
	if (!hdr.tls)
		return false;
	/* Each name is left out where the proxy sent none. */
	log_msg(LOG_INFO, "tls result=ok mode=proxy%s%s%s%s",
	    hdr.tls_version[0] != '\0' ? " version=" : "",
	    log_esc(version, sizeof(version), hdr.tls_version,
	    strlen(hdr.tls_version)),
	    hdr.tls_cipher[0] != '\0' ? " cipher=" : "",
	    log_esc(cipher, sizeof(cipher), hdr.tls_cipher,
	    strlen(hdr.tls_cipher)));
	return true;
}

/*
 * Runs the handshake on stdin/stdout and puts TLS under io; logs the
 * outcome with the client's address (the tag).  The session's STLS
 * hook, and the start of an implicit-TLS session.
 */
static int
start_tls(struct io *io, void *arg)
{
	struct tls_hook *h = arg;
	const char *why;

	if (tls_start(h->tls, io, STDIN_FILENO, STDOUT_FILENO, &why) == -1) {
		log_msg(LOG_NOTICE, "tls result=fail mode=%s error=\"%s\"",
		    h->mode, why);
		return -1;
	}
	log_msg(LOG_INFO, "tls result=ok mode=%s version=%s cipher=%s "
	    "send=%s", h->mode, tls_version(h->tls), tls_cipher(h->tls),
	    tls_send_path(h->tls));
	return 0;
}

/*
 * Takes the session's auth slot (slots.h), or drops it early when too
 * many sessions on the host are still in AUTHORIZATION: -ERR, unless
 * the client expects a TLS handshake first, then exit 111.  Without a
 * usable runtime folder there are no slots for this session, which is
 * logged: a broken folder must not lock everyone out.
 */
static void
arrive(struct slots *sl, bool implicit_tls)
{
	static const char busy[] =
	    "-ERR [SYS/TEMP] too many connections, try again later\r\n";
	unsigned ahead;
	ssize_t sent = 0;

	switch (slots_arrive(sl, &ahead)) {
	case SLOTS_OK:
		return;
	case SLOTS_BUSY:
		log_msg(LOG_NOTICE, "startup result=dropped authorization=%u "
		    "chance=%u", ahead, slots_drop_chance(sl, ahead));
		/* A client that left already misses nothing. */
		if (!implicit_tls)
			sent = write(STDOUT_FILENO, busy, sizeof(busy) - 1);
		(void)sent;
		exit(POP3D_EXIT_TEMP);
	case SLOTS_FAIL:
		log_msg(LOG_ERR, "slots result=fail dir=%s error=\"%s\"",
		    sl->dir, strerror(errno));
		sl->dir = NULL;
		return;
	}
}

/* What --check shows for an option that was not given. */
static const char *
default_text(int opt, enum tls_mode mode, char *buf, size_t cap)
{
	long n;

	switch (opt) {
	case 'u':
		return POP3D_USERS_PATH;
	case 'm':
		return POP3D_MAIL_ROOT;
	case 'b':
		return POP3D_BAN_PATH;
	case 't':
		n = POP3D_IDLE_TIMEOUT;
		break;
	case 'n':
		n = POP3D_BAN_AFTER;
		break;
	case 'w':
		n = POP3D_BAN_WINDOW;
		break;
	case 'd':
		n = POP3D_BAN_TIME;
		break;
	case 'N':
		n = POP3D_BAN_USER_AFTER;
		break;
	case 'D':
		n = POP3D_BAN_USER_TIME;
		break;
	case 'G':
		n = POP3D_LOGIN_GRACE;
		break;
	case 'T':
		return mode == MODE_STARTTLS ? "starttls (--tls-cert is given)" :
		    "off";
	case 'K':
		return "the --tls-cert file";
	case 'L':
	case 'p':
	case 'C':
		return "none";
	case 'E':
		return "never";
	case 'H':
		return POP3D_REHASH_PATH;
	case 'R':
		return POP3D_RUNTIME_DIR;
	case 'M':
		n = POP3D_AUTH_MEMORY_MIB;
		break;
	case 'S':
		return "from --auth-memory and the users file's costliest hash";
	case 's':
		snprintf(buf, cap, "%d:%d:%d", POP3D_STARTUPS_START,
		    POP3D_STARTUPS_RATE, POP3D_STARTUPS_FULL);
		return buf;
	default:
		return "off";
	}
	snprintf(buf, cap, "%ld", n);
	return buf;
}

/*
 * --check's effective configuration: every option of a session, its
 * value, and whether it was given (given[i]: opts[i]'s last argument,
 * "" for a flag) or is the default.  --proxy-from may be given often.
 */
static void
show_config(const struct option *opts, const char *const *given,
    const char *const *proxies, size_t nproxies, enum tls_mode mode)
{
	char buf[32], val[3 * PATH_MAX];
	const char *v;

	for (size_t i = 0; opts[i].name != NULL; i++) {
		if (strchr("hVcU", opts[i].val) != NULL)
			continue;
		for (size_t p = 0; opts[i].val == 'p' && p < nproxies; p++)
			printf("config: --proxy-from %s (given)\n", proxies[p]);
		if (opts[i].val == 'p' && nproxies > 0)
			continue;
		if (given[i] == NULL)
			v = default_text(opts[i].val, mode, buf, sizeof(buf));
		else if (opts[i].has_arg == no_argument)
			v = "on";
		else if (pct_encode(val, sizeof(val), given[i],
		    strlen(given[i]), pct_name_esc) < 0)
			v = "(too long to show)";
		else
			v = val;
		printf("config: --%s %s (%s)\n", opts[i].name, v,
		    given[i] != NULL ? "given" : "default");
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "users",		required_argument, NULL, 'u' },
		{ "mail-root",		required_argument, NULL, 'm' },
		{ "idle-timeout",	required_argument, NULL, 't' },
		{ "ban-file",		required_argument, NULL, 'b' },
		{ "ban-after",		required_argument, NULL, 'n' },
		{ "ban-window",		required_argument, NULL, 'w' },
		{ "ban-time",		required_argument, NULL, 'd' },
		{ "ban-loopback",	no_argument,	   NULL, 'l' },
		{ "ban-user-after",	required_argument, NULL, 'N' },
		{ "ban-user-time",	required_argument, NULL, 'D' },
		{ "login-grace",	required_argument, NULL, 'G' },
		{ "proxy-from",		required_argument, NULL, 'p' },
		{ "login-delay",	required_argument, NULL, 'L' },
		{ "expire",		required_argument, NULL, 'E' },
		{ "qaut",		no_argument,	   NULL, 'Q' },
		{ "tls",		required_argument, NULL, 'T' },
		{ "tls-cert",		required_argument, NULL, 'C' },
		{ "tls-key",		required_argument, NULL, 'K' },
		{ "allow-plaintext-auth", no_argument,	   NULL, 'A' },
		{ "rehash-dir",		required_argument, NULL, 'H' },
		{ "runtime-dir",	required_argument, NULL, 'R' },
		{ "auth-memory",	required_argument, NULL, 'M' },
		{ "login-slots",	required_argument, NULL, 'S' },
		{ "startups",		required_argument, NULL, 's' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ "check",		no_argument,	   NULL, 'c' },
		{ "user",		required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 }
	};
	const char *given[sizeof(opts) / sizeof(opts[0])] = { NULL };
	const char *proxy_text[POP3D_PROXY_FROM_MAX];
	const char *check_user = NULL;
	bool check = false;
	unsigned long problems;
	int idx;
	struct session_cfg cfg = {
		.users = POP3D_USERS_PATH,
		.rehash_dir = POP3D_REHASH_PATH,
		.mail_root = POP3D_MAIL_ROOT,
		.fail_delay_ms = POP3D_FAIL_DELAY_MS,
		.login_grace = POP3D_LOGIN_GRACE,
		.peer = "local",
		.confine = sandbox_mailbox,
	};
	struct ban_cfg ban = {
		.path = POP3D_BAN_PATH,
		.after = POP3D_BAN_AFTER,
		.window = POP3D_BAN_WINDOW,
		.duration = POP3D_BAN_TIME,
		.user_after = POP3D_BAN_USER_AFTER,
		.user_duration = POP3D_BAN_USER_TIME,
	};
	struct slots slots;
	struct proxy_net proxies[POP3D_PROXY_FROM_MAX];
	size_t nproxies = 0;
	char peer[PEER_ADDR_MAX], err[1024];
	enum tls_mode mode = MODE_UNSET;
	const char *cert = NULL, *key = NULL;
	struct tls_hook hook = { NULL, NULL };
	bool allow_plain = false, proxy_tls = false;
	int timeout = POP3D_IDLE_TIMEOUT, c;
	struct io *io;
	enum session_end end;

	sane_fds();
	/* No core dumps and no ptrace from other sessions of the same uid. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_open("pop3d");
	/* Before the options, so that even a usage error names the client. */
	cfg.peer = peer_lookup(STDIN_FILENO, peer, sizeof(peer));
	set_tag(cfg.peer);
	slots_init(&slots, POP3D_RUNTIME_DIR);
	opterr = 0;	/* getopt must not write to fd 2: it may be the client */
	/* ':' first: a missing value is told apart from an unknown option. */
	while ((c = getopt_long(argc, argv, ":", opts, &idx)) != -1) {
		/* idx names an option only when getopt_long knew it. */
		if (c != '?' && c != ':')
			given[idx] = optarg != NULL ? optarg : "";
		switch (c) {
		case 'u':
			cfg.users = optarg;
			break;
		case 'm':
			cfg.mail_root = optarg;
			break;
		case 't':
			timeout = (int)parse_number("--idle-timeout", optarg,
			    POP3D_IDLE_TIMEOUT_MIN, POP3D_IDLE_TIMEOUT_MAX);
			break;
		case 'b':
			ban.path = optarg;
			break;
		case 'H':
			cfg.rehash_dir = optarg;
			break;
		case 'n':
			ban.after = (unsigned)parse_number("--ban-after", optarg,
			    0, 1000000);
			break;
		case 'w':
			ban.window = (unsigned)parse_number("--ban-window",
			    optarg, 1, POP3D_BAN_SECONDS_MAX);
			break;
		case 'd':
			ban.duration = (unsigned)parse_number("--ban-time",
			    optarg, 1, POP3D_BAN_SECONDS_MAX);
			break;
		case 'l':
			ban.loopback = true;
			break;
		case 'N':
			ban.user_after = (unsigned)parse_number(
			    "--ban-user-after", optarg, 0, 1000000);
			break;
		case 'D':
			ban.user_duration = (unsigned)parse_number(
			    "--ban-user-time", optarg, 1, POP3D_BAN_SECONDS_MAX);
			break;
		case 'G':
			cfg.login_grace = (unsigned)parse_number(
			    "--login-grace", optarg, POP3D_LOGIN_GRACE_MIN,
			    POP3D_LOGIN_GRACE_MAX);
			break;
		case 'p':
			if (nproxies == POP3D_PROXY_FROM_MAX) {
				snprintf(err, sizeof(err), "one too many: at "
				    "most %d", POP3D_PROXY_FROM_MAX);
				bad_value("--proxy-from", optarg, err);
			}
			if (proxy_net_parse(optarg, &proxies[nproxies]) == -1)
				bad_value("--proxy-from", optarg, "not a numeric "
				    "address or ADDR/PREFIX with no host bits");
			proxy_text[nproxies++] = optarg;
			break;
		case 'L':
			cfg.login_delay = (unsigned)parse_number(
			    "--login-delay", optarg, 1, POP3D_LOGIN_DELAY_MAX);
			break;
		case 'E':
			cfg.expire_days = (unsigned)parse_number("--expire",
			    optarg, 1, POP3D_EXPIRE_DAYS_MAX);
			break;
		case 'Q':
			cfg.qaut = true;
			cfg.confine = confine_qaut;
			break;
		case 'T':
			if (strcmp(optarg, "implicit") == 0)
				mode = MODE_IMPLICIT;
			else if (strcmp(optarg, "starttls") == 0)
				mode = MODE_STARTTLS;
			else if (strcmp(optarg, "off") == 0)
				mode = MODE_OFF;
			else
				bad_value("--tls", optarg,
				    "takes implicit, starttls or off");
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'A':
			allow_plain = true;
			break;
		case 'c':
			check = true;
			break;
		case 'U':
			check_user = optarg;
			break;
		case 'R':
			slots.dir = optarg;
			break;
		case 'M':
			slots.memory = (uint64_t)parse_number("--auth-memory",
			    optarg, 1, POP3D_AUTH_MEMORY_MIB_MAX) << 20;
			break;
		case 'S':
			slots.login_slots = (unsigned)parse_number(
			    "--login-slots", optarg, 1, POP3D_LOGIN_SLOTS_MAX);
			break;
		case 's':
			if (slots_parse_startups(&slots, optarg) == -1)
				bad_value("--startups", optarg, "takes "
				    "START:RATE:FULL, START < FULL, RATE at most "
				    "100");
			break;
		case 'h':
			printf("%sServes POP3 on stdin/stdout for one client; "
			    "see pop3d(8).\n", usage_text);
			exit(0);
		case 'V':
			printf("pop3d %s\nTLS: %s\n", POP3D_VERSION,
			    tls_library() != NULL ? tls_library() :
			    "none (built without OpenSSL)");
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	if (optind != argc)
		misuse("argument", argv[optind], NULL,
		    "pop3d takes options only");
	if (mode == MODE_UNSET)
		mode = cert != NULL ? MODE_STARTTLS : MODE_OFF;
	if (mode != MODE_OFF && cert == NULL)
		misuse("option", mode == MODE_IMPLICIT ? "--tls=implicit" :
		    "--tls=starttls", NULL, "needs --tls-cert");
	if (key != NULL && cert == NULL)
		misuse("option", "--tls-key", NULL, "needs --tls-cert");
	if (check_user != NULL && !check)
		misuse("option", "--user", NULL, "needs --check");
	cfg.ban = &ban;
	qaut_paths.mail_root = cfg.mail_root;
	qaut_paths.users = cfg.users;
	qaut_paths.ban = ban.after != 0 ? ban.path : NULL;
	if (sodium_init() < 0)
		fatal(POP3D_EXIT_TEMP, "startup result=fail error=sodium_init");
	if (check) {
		/* A person asked, at a terminal: the answer is for them. */
		struct confcheck_cfg cc = {
			.users = cfg.users,
			.mail_root = cfg.mail_root,
			.ban = ban.after != 0 || ban.user_after != 0 ?
			    ban.path : NULL,
			.cert = mode != MODE_OFF ? cert : NULL,
			.key = key,
			.user = check_user,
		};

		problems = confcheck_run(&cc, stdout);
		show_config(opts, given, proxy_text, nproxies, mode);
		if (problems == 0)
			printf("result: no problem found\n");
		else
			printf("result: %lu problem%s\n", problems,
			    problems == 1 ? "" : "s");
		return fflush(stdout) != 0 || problems > 0 ?
		    POP3D_EXIT_USAGE : 0;
	}
	/*
	 * The certificate and key before a byte is read from or written to
	 * the client: a server that cannot do what it was told to does
	 * nothing at all.
	 */
	if (mode != MODE_OFF) {
		hook.mode = mode == MODE_IMPLICIT ? "implicit" : "starttls";
		if ((hook.tls = tls_new(cert, key != NULL ? key : cert, err,
		    sizeof(err))) == NULL)
			fatal(POP3D_EXIT_USAGE, "startup result=fail tls=%s "
			    "error=\"%s\"", hook.mode, err);
		if (tls_cert_expired(hook.tls))
			log_msg(LOG_WARNING, "startup tls=%s result=warning "
			    "error=\"certificate expired or not yet valid\"",
			    hook.mode);
	}
	/* A vanished client is a failed write, not a killed process. */
	signal(SIGPIPE, SIG_IGN);
	if (nproxies > 0)
		proxy_tls = take_proxy(proxies, nproxies, peer, sizeof(peer));
	/* Before the handshake: a dropped session costs next to nothing. */
	arrive(&slots, mode == MODE_IMPLICIT);
	cfg.slots = &slots;
	qaut_paths.slots = slots.dir;	/* NULL when arrive found none */
	if ((io = io_new(STDIN_FILENO, STDOUT_FILENO, timeout)) == NULL)
		fatal(POP3D_EXIT_TEMP, "startup result=fail error=\"%s\"",
		    strerror(errno));
	/*
	 * A client that spoke TLS to a trusted proxy has its TLS: logins
	 * need no STLS, and none is offered, since TLS inside the proxy's
	 * would be a second layer no client expects.  The proxy's leg to
	 * pop3d is the admin's, trusted as far as --proxy-from is.  With
	 * --tls=implicit pop3d's own TLS runs as ever: the proxy re-encrypts.
	 */
	if (mode == MODE_STARTTLS && !proxy_tls) {
		cfg.starttls = start_tls;
		cfg.starttls_arg = &hook;
		/* Over loopback or a pipe no password crosses a network. */
		cfg.auth_needs_tls = !allow_plain && !peer_is_local(cfg.peer);
	}
	/* The handshake before the greeting has its grace time too. */
	io_set_limit(io, (int)cfg.login_grace);
	if (mode == MODE_IMPLICIT && start_tls(io, &hook) == -1) {
		tls_free(hook.tls);
		io_free(io);
		return POP3D_EXIT_ABORT;
	}
	end = session_run(io, &cfg);
	tls_free(hook.tls);
	io_free(io);
	switch (end) {
	case SESSION_QUIT:
		return POP3D_EXIT_QUIT;
	case SESSION_TEMPFAIL:
		return POP3D_EXIT_TEMP;
	default:
		return POP3D_EXIT_ABORT;
	}
}
