/* check_tls.c: TLS under io, through tls.h: loading certificates and
 * keys (and refusing bad ones), and handshakes over a socketpair against
 * an OpenSSL client in a child process: what passes, what is refused,
 * what a broken or silent client costs.  Certificates are made here. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "io.h"
#include "params.h"
#include "testlib.h"
#include "tls.h"

#ifdef POP3D_TLS

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The list tls.c reads (check_tls_ulp: one naming "tls"). */
#ifdef POP3D_TLS_ULP_PATH
#define TLS_ULP_FILE	POP3D_TLS_ULP_PATH
#else
#define TLS_ULP_FILE	"/proc/sys/net/ipv4/tcp_available_ulp"
#endif

static char *dir;
static char *root_pem, *chain_pem, *key_pem, *both_pem, *other_key_pem,
    *enc_key_pem, *junk_pem, *old_pem, *old_key_pem;

/* A certificate for cn, signed by issuer (self-signed when NULL). */
static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    bool ca, long from, long to)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	static long serial = 1;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
		    "DNS:localhost");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ck_assert_int_gt(X509_sign(x, ikey != NULL ? ikey : key,
	    EVP_sha256()), 0);
	return x;
}

static EVP_PKEY *
mkkey(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

static void
write_pem(const char *path, X509 *const *certs, size_t n, EVP_PKEY *key,
    const char *pass)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(PEM_write_X509(f, certs[i]), 1);
	if (key != NULL)
		ck_assert_int_eq(PEM_write_PrivateKey(f, key, pass != NULL ?
		    EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
		    (void *)(uintptr_t)pass), 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * A root, an intermediate under it and the server's certificate under
 * that; the server's file holds its certificate and the intermediate,
 * clients trust only the root.  Also: a key of another certificate, the
 * key encrypted, a file of junk, and an expired certificate.
 */
static void
setup(void)
{
	EVP_PKEY *rk = mkkey(), *ik = mkkey(), *sk = mkkey(), *ok = mkkey();
	X509 *root = mkcert("pop3d test root", rk, NULL, NULL, true, -60,
	    86400);
	X509 *mid = mkcert("pop3d test intermediate", ik, root, rk, true, -60,
	    86400);
	X509 *leaf = mkcert("localhost", sk, mid, ik, false, -60, 86400);
	X509 *old = mkcert("localhost", ok, NULL, NULL, false, -172800,
	    -86400);
	X509 *chain[2] = { leaf, mid };
	const char *junk = "-----BEGIN CERTIFICATE-----\nnot base64\n"
	    "-----END CERTIFICATE-----\n";

	signal(SIGPIPE, SIG_IGN);
	dir = tl_tmpdir();
	root_pem = tl_path(dir, "root.pem");
	chain_pem = tl_path(dir, "chain.pem");
	key_pem = tl_path(dir, "key.pem");
	both_pem = tl_path(dir, "both.pem");
	other_key_pem = tl_path(dir, "other-key.pem");
	enc_key_pem = tl_path(dir, "enc-key.pem");
	junk_pem = tl_path(dir, "junk.pem");
	old_pem = tl_path(dir, "old.pem");
	old_key_pem = tl_path(dir, "old-key.pem");
	write_pem(root_pem, &root, 1, NULL, NULL);
	write_pem(chain_pem, chain, 2, NULL, NULL);
	write_pem(key_pem, NULL, 0, sk, NULL);
	write_pem(both_pem, chain, 2, sk, NULL);
	write_pem(other_key_pem, NULL, 0, ok, NULL);
	write_pem(enc_key_pem, NULL, 0, sk, "secret");
	tl_write(dir, "junk.pem", junk, strlen(junk));
	write_pem(old_pem, &old, 1, NULL, NULL);
	write_pem(old_key_pem, NULL, 0, ok, NULL);
	X509_free(root);
	X509_free(mid);
	X509_free(leaf);
	X509_free(old);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ok);
}

static void
teardown(void)
{
	tl_rmrf(dir);
	free(root_pem);
	free(chain_pem);
	free(key_pem);
	free(both_pem);
	free(other_key_pem);
	free(enc_key_pem);
	free(junk_pem);
	free(old_pem);
	free(old_key_pem);
	free(dir);
}

/* tls_new must fail with a reason that holds want. */
static void
refused(const char *cert, const char *key, const char *want)
{
	char err[1024] = "";
	struct tls *t = tls_new(cert, key, err, sizeof(err));

	ck_assert_ptr_null(t);
	if (strstr(err, want) == NULL)
		ck_abort_msg("reason \"%s\" lacks \"%s\"", err, want);
}

START_TEST(loads_a_chain_and_its_key)
{
	char err[1024];
	struct tls *t;

	t = tls_new(chain_pem, key_pem, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert(!tls_cert_expired(t));
	tls_free(t);
	/* One file holding both, as stunnel's. */
	t = tls_new(both_pem, both_pem, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	tls_free(t);
	t = tls_new(old_pem, old_key_pem, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert(tls_cert_expired(t));
	tls_free(t);
}
END_TEST

START_TEST(refuses_bad_files)
{
	char *missing = tl_path(dir, "missing.pem");

	refused(missing, key_pem, "cannot open");
	refused(missing, key_pem, missing);
	refused(chain_pem, missing, "No such file");
	refused(dir, key_pem, "not a regular file");
	refused(junk_pem, key_pem, "no certificate");
	refused(key_pem, key_pem, "no certificate");
	refused(chain_pem, chain_pem, "no private key");
	refused(chain_pem, junk_pem, "no private key");
	refused(chain_pem, other_key_pem, "does not match");
	free(missing);
}
END_TEST

/* An encrypted key is refused at once: nobody is asked for a passphrase. */
START_TEST(refuses_an_encrypted_key_without_asking)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_ne(dup2(fd, STDIN_FILENO), -1);
	refused(chain_pem, enc_key_pem, "encrypted");
}
END_TEST

START_TEST(refuses_an_oversized_file)
{
	char *big = tl_path(dir, "big.pem");
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(ftruncate(fd, POP3D_TLS_PEM_MAX + 1), 0);
	close(fd);
	refused(big, key_pem, "too large");
	free(big);
}
END_TEST

/*
 * What the client in the child process does: a TLS client of the
 * given versions (0: any) and ALPN list, or raw bytes instead; then it
 * sends "send", expects "expect" back and exits 0, or exits 1 when the
 * handshake fails, 2 when the answer is wrong.
 */
struct client {
	int		 maxver;
	const char	*alpn;		/* wire format, or NULL */
	const char	*raw;		/* sent instead of a handshake */
	size_t		 rawlen;
	bool		 stall;		/* then wait to be killed */
	const char	*send;
	const char	*expect;
	size_t		 bulk;		/* then read this many octets of 'x' */
};

static int
client_talk(SSL *ssl, const struct client *c)
{
	char buf[4096];
	size_t got = 0, n;

	SSL_set1_host(ssl, "localhost");
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (SSL_connect(ssl) != 1)
		return 1;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return 4;
	if (c->send != NULL &&
	    SSL_write(ssl, c->send, (int)strlen(c->send)) <= 0)
		return 2;
	while (c->expect != NULL && got < strlen(c->expect)) {
		if (SSL_read_ex(ssl, buf + got, sizeof(buf) - got - 1, &n) != 1)
			return 2;
		got += n;
	}
	if (c->expect != NULL && (got != strlen(c->expect) ||
	    memcmp(buf, c->expect, got) != 0))
		return 2;
	for (got = 0; got < c->bulk; got += n) {
		if (SSL_read_ex(ssl, buf, sizeof(buf), &n) != 1)
			return 2;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != 'x')
				return 2;
		usleep(100);	/* a slow reader: the server must wait */
	}
	SSL_shutdown(ssl);
	return 0;
}

static int
client_run(int fd, const struct client *c)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int r;

	if (c->raw != NULL) {
		if (write(fd, c->raw, c->rawlen) != (ssize_t)c->rawlen)
			return 3;
		if (c->stall)
			pause();
		return 0;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(ctx, root_pem, NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (c->maxver != 0) {
		/* An old client: its versions and the ciphers they need. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, 0);
		SSL_CTX_set_max_proto_version(ctx, c->maxver);
	}
	if (c->alpn != NULL)
		SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)c->alpn,
		    (unsigned)strlen(c->alpn));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	r = client_talk(ssl, c);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return r;
}

/* The server end of a socketpair whose other end a client child has. */
static int
with_client(const struct client *c, pid_t *pid)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*pid = fork();
	ck_assert_int_ne(*pid, -1);
	if (*pid == 0) {
		close(sv[0]);
		/* exit, not _exit: the library frees what it holds. */
		exit(client_run(sv[1], c));
	}
	close(sv[1]);
	return sv[0];
}

static int
client_status(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct tls *
server(void)
{
	char err[1024];
	struct tls *t = tls_new(chain_pem, key_pem, err, sizeof(err));

	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

START_TEST(handshake_then_lines_both_ways)
{
	struct client c = { .send = "CAPA\r\nNOOP\r\n",
	    .expect = "+OK fine\r\n" };
	struct tls *t = server();
	const char *why;
	struct io *io;
	char *line;
	size_t len;
	bool nul;
	pid_t pid;
	int fd = with_client(&c, &pid);

	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	ck_assert(!io_is_plain(io));
	ck_assert_str_eq(tls_version(t), "TLSv1.3");
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_OK);
	ck_assert_str_eq(line, "CAPA");
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_OK);
	ck_assert_str_eq(line, "NOOP");
	ck_assert_int_eq(io_puts(io, "+OK fine\r\n"), 0);
	ck_assert_int_eq(io_flush(io), 0);
	/* The client's close_notify is the end of input. */
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_EOF);
	ck_assert_int_eq(client_status(pid), 0);
	tls_free(t);
	io_free(io);
	close(fd);
}
END_TEST

/* More than a socket buffer to a slow reader: partial writes, waits. */
START_TEST(bulk_to_a_slow_reader)
{
	struct client c = { .bulk = 3 << 20 };
	static char x[65536];
	struct tls *t = server();
	const char *why;
	struct io *io;
	pid_t pid;
	int fd = with_client(&c, &pid);

	memset(x, 'x', sizeof(x));
	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	for (size_t i = 0; i < c.bulk / sizeof(x); i++)
		ck_assert_int_eq(io_write(io, x, sizeof(x)), 0);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_int_eq(client_status(pid), 0);
	tls_free(t);
	io_free(io);
	close(fd);
}
END_TEST

/* The server end of a TCP connection on loopback to a client child. */
static int
with_tcp_client(const struct client *c, pid_t *pid)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l, fd;

	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(l, -1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*pid = fork();
	ck_assert_int_ne(*pid, -1);
	if (*pid == 0) {
		close(l);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(3);
		exit(client_run(fd, c));
	}
	fd = accept(l, NULL, NULL);
	ck_assert_int_ne(fd, -1);
	close(l);
	return fd;
}

/* Whether the file that tls.c reads lists the kernel's "tls" ULP. */
static bool
ulp_listed(void)
{
	char text[256] = "", *p, *save;
	bool found = false;
	ssize_t n;
	int fd;

	/* A file of /proc has no size to stat: read what there is. */
	if ((fd = open(TLS_ULP_FILE, O_RDONLY)) != -1) {
		if ((n = read(fd, text, sizeof(text) - 1)) > 0)
			text[n] = '\0';
		close(fd);
	}
	for (p = strtok_r(text, " \n", &save); p != NULL && !found;
	    p = strtok_r(NULL, " \n", &save))
		found = strcmp(p, "tls") == 0;
	return found;
}

/* Whether this kernel takes TLS on a TCP socket (the tls module). */
static bool
kernel_takes_tls(int fd)
{
	int probe = dup(fd);
	bool ok;

	ck_assert_int_ne(probe, -1);
	/* On a second fd of the same socket: a failed try changes nothing,
	   and a good one is what OpenSSL will find done. */
	ok = setsockopt(probe, IPPROTO_TCP, TCP_ULP, "tls", 3) == 0 ||
	    errno == EEXIST;
	close(probe);
	return ok;
}

/*
 * A file sent as it is over TCP: by the kernel's TLS with SSL_sendfile
 * where the tls ULP is listed and the kernel takes it, else by OpenSSL
 * from io's buffer, silently; every octet arrives either way.  Built as
 * check_tls_ulp too, where tls.c reads a list naming "tls" whatever the
 * kernel has: OpenSSL tries the kernel, and on a kernel without the
 * module falls back.
 */
START_TEST(a_file_goes_by_the_kernel_or_by_openssl)
{
	static char x[(1 << 20) + 17];
	struct client c = { .bulk = sizeof(x) };
	struct tls *t = server();
	char path[] = "/tmp/check_tls.XXXXXX";
	const char *why, *want;
	struct io *io;
	pid_t pid;
	int fd, file;

	memset(x, 'x', sizeof(x));
	file = mkstemp(path);
	ck_assert_int_ne(file, -1);
	unlink(path);
	ck_assert_int_eq(write(file, x, sizeof(x)), (ssize_t)sizeof(x));
	ck_assert_int_eq(lseek(file, 0, SEEK_SET), 0);
	fd = with_tcp_client(&c, &pid);
	want = ulp_listed() && kernel_takes_tls(fd) ? "ktls" : "openssl";
	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	ck_assert_str_eq(tls_send_path(t), want);
	ck_assert_int_eq(io_sendfile(io, file, sizeof(x)), 0);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_int_eq(lseek(file, 0, SEEK_CUR), (off_t)sizeof(x));
	ck_assert_int_eq(client_status(pid), 0);
	tls_free(t);
	io_free(io);
	close(fd);
	close(file);
}
END_TEST

/* Over a socketpair, never the kernel's: it does TLS on TCP only. */
START_TEST(no_kernel_tls_but_on_tcp)
{
	struct client c = { .send = "NOOP\r\n" };
	struct tls *t = server();
	const char *why;
	struct io *io;
	pid_t pid;
	int fd = with_client(&c, &pid);

	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	ck_assert_str_eq(tls_send_path(t), "openssl");
	tls_free(t);
	io_free(io);
	close(fd);
	(void)client_status(pid);
}
END_TEST

/* Runs a handshake that must fail with a reason holding want. */
static void
handshake_fails(const struct client *c, const char *want, int want_client)
{
	struct tls *t = server();
	const char *why = NULL;
	struct io *io;
	pid_t pid;
	int fd = with_client(c, &pid);

	io = io_new(fd, fd, 1);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), -1);
	ck_assert_ptr_nonnull(why);
	if (strstr(why, want) == NULL)
		ck_abort_msg("reason \"%s\" lacks \"%s\"", why, want);
	ck_assert(io_is_plain(io));
	if (c->stall)
		kill(pid, SIGKILL);
	tls_free(t);
	io_free(io);
	close(fd);
	if (c->stall)
		waitpid(pid, NULL, 0);
	else
		ck_assert_int_eq(client_status(pid), want_client);
}

START_TEST(old_versions_are_refused)
{
	struct client c11 = { .maxver = TLS1_1_VERSION };
	struct client c10 = { .maxver = TLS1_VERSION };
	struct client c12 = { .maxver = TLS1_2_VERSION, .send = "NOOP\r\n" };
	struct tls *t = server();
	const char *why;
	struct io *io;
	char *line;
	size_t len;
	bool nul;
	pid_t pid;
	int fd;

	handshake_fails(&c11, "unsupported protocol", 1);
	handshake_fails(&c10, "unsupported protocol", 1);
	fd = with_client(&c12, &pid);
	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	ck_assert_str_eq(tls_version(t), "TLSv1.2");
	ck_assert_int_eq(io_getline(io, POP3D_LINE_MAX, &line, &len, &nul),
	    IO_OK);
	ck_assert_int_eq(client_status(pid), 0);
	tls_free(t);
	io_free(io);
	close(fd);
}
END_TEST

START_TEST(alpn_must_name_pop3)
{
	struct client http = { .alpn = "\x08http/1.1" };
	struct client pop3 = { .alpn = "\x08http/1.1\x04pop3",
	    .send = "NOOP\r\n" };
	struct tls *t = server();
	const char *why;
	struct io *io;
	pid_t pid;
	int fd;

	handshake_fails(&http, "no application protocol", 1);
	fd = with_client(&pop3, &pid);
	io = io_new(fd, fd, 5);
	ck_assert_int_eq(tls_start(t, io, fd, fd, &why), 0);
	ck_assert_int_eq(client_status(pid), 0);
	tls_free(t);
	io_free(io);
	close(fd);
}
END_TEST

START_TEST(garbage_instead_of_a_client_hello)
{
	struct client plain = { .raw = "USER me\r\nPASS secret\r\n",
	    .rawlen = 22 };
	struct client http = { .raw = "GET / HTTP/1.0\r\n\r\n", .rawlen = 18 };
	struct client zeros = { .raw = "\0\0\0\0\0\0\0\0\0\0", .rawlen = 10 };

	handshake_fails(&plain, "wrong version number", 0);
	handshake_fails(&http, "http request", 0);
	handshake_fails(&zeros, "wrong version number", 0);
}
END_TEST

/* A record header that promises more than ever comes: cut, or stalled. */
START_TEST(truncated_handshake)
{
	struct client cut = { .raw = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
	    "\x03\x03", .rawlen = 11 };
	struct client stalled = cut;
	struct client silent = { .raw = "", .rawlen = 0, .stall = true };
	struct timespec a, b;

	stalled.stall = true;
	handshake_fails(&cut, "eof", 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	handshake_fails(&stalled, "timeout", 0);
	handshake_fails(&silent, "timeout", 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* One idle timeout (1 s) each, no more. */
	ck_assert_int_lt(b.tv_sec - a.tv_sec, 5);
}
END_TEST

#endif	/* POP3D_TLS */

START_TEST(library_is_named_when_built_in)
{
	char err[256] = "";

#ifdef POP3D_TLS
	ck_assert_ptr_nonnull(tls_library());
	ck_assert_ptr_nonnull(strstr(tls_library(), "OpenSSL"));
#else
	ck_assert_ptr_null(tls_library());
	ck_assert_ptr_null(tls_new("/nonexistent", "/nonexistent", err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "without TLS"));
#endif
	(void)err;
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, library_is_named_when_built_in);
#ifdef POP3D_TLS
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_a_chain_and_its_key);
	tcase_add_test(tc, refuses_bad_files);
	tcase_add_test(tc, refuses_an_encrypted_key_without_asking);
	tcase_add_test(tc, refuses_an_oversized_file);
	tcase_add_test(tc, handshake_then_lines_both_ways);
	tcase_add_test(tc, bulk_to_a_slow_reader);
	tcase_add_test(tc, a_file_goes_by_the_kernel_or_by_openssl);
	tcase_add_test(tc, no_kernel_tls_but_on_tcp);
	tcase_add_test(tc, old_versions_are_refused);
	tcase_add_test(tc, alpn_must_name_pop3);
	tcase_add_test(tc, garbage_instead_of_a_client_hello);
	tcase_add_test(tc, truncated_handshake);
#endif
	suite_add_tcase(s, tc);
	return tl_run(s);
}
