/*
 * tls.c: TLS under io, on OpenSSL.  Trusts no byte from the client: the
 * library parses the handshake and records, and io bounds what comes
 * out.  Reads the certificate and key once, at startup, and nothing
 * from the file system afterwards (the session is confined by then).
 * Knows nothing about POP3; never logs (its callers do).  Built when
 * meson finds OpenSSL 3 (-Dtls); tls-none.c stands in for it otherwise.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "file.h"
#include "params.h"
#include "tls.h"

/*
 * Where Linux lists the upper-layer protocols TCP may take on; the tests
 * build tls.c again with a list of their own (check_tls_ulp).
 */
#ifndef POP3D_TLS_ULP_PATH
#define POP3D_TLS_ULP_PATH	"/proc/sys/net/ipv4/tcp_available_ulp"
#endif

/*
 * OpenSSL is loaded when TLS is configured (tls_new), not linked: a
 * pop3d with --tls=off, most of them behind a TLS proxy or on loopback,
 * maps none of libssl and libcrypto and pays nothing at startup for
 * relocating them.  Every OpenSSL function tls.c calls, directly or
 * through one of OpenSSL's macros, goes through this table; a name
 * left out of it does not link, as no libssl is linked.
 */
#define OSSL_FUNCTIONS(X) \
	X(BIO_ctrl) \
	X(BIO_free) \
	X(BIO_new_fd) \
	X(BIO_new_mem_buf) \
	X(BIO_new_socket) \
	X(ERR_clear_error) \
	X(ERR_error_string_n) \
	X(ERR_peek_last_error) \
	X(ERR_reason_error_string) \
	X(EVP_PKEY_free) \
	X(EVP_PKEY_get0_type_name) \
	X(OPENSSL_cleanse) \
	X(OPENSSL_init_crypto) \
	X(OPENSSL_init_ssl) \
	X(OSSL_DECODER_CTX_free) \
	X(OSSL_DECODER_CTX_new_for_pkey) \
	X(OSSL_DECODER_CTX_set_pem_password_cb) \
	X(OSSL_DECODER_from_bio) \
	X(OpenSSL_version) \
	X(PEM_read_bio_PrivateKey) \
	X(PEM_read_bio_X509) \
	X(PEM_read_bio_X509_AUX) \
	X(SSL_CIPHER_get_name) \
	X(SSL_CTX_check_private_key) \
	X(SSL_CTX_ctrl) \
	X(SSL_CTX_free) \
	X(SSL_CTX_get0_certificate) \
	X(SSL_CTX_get_security_level) \
	X(SSL_CTX_new) \
	X(SSL_CTX_set_alpn_select_cb) \
	X(SSL_CTX_set_default_passwd_cb) \
	X(SSL_CTX_set_num_tickets) \
	X(SSL_CTX_set_options) \
	X(SSL_CTX_set_security_level) \
	X(SSL_CTX_use_PrivateKey) \
	X(SSL_CTX_use_certificate) \
	X(SSL_accept) \
	X(SSL_free) \
	X(SSL_get_current_cipher) \
	X(SSL_get_error) \
	X(SSL_get_version) \
	X(SSL_get_wbio) \
	X(SSL_is_init_finished) \
	X(SSL_new) \
	X(SSL_read_ex) \
	X(SSL_select_next_proto) \
	X(SSL_sendfile) \
	X(SSL_set_bio) \
	X(SSL_shutdown) \
	X(SSL_write_ex) \
	X(TLS_server_method) \
	X(X509_cmp_current_time) \
	X(X509_free) \
	X(X509_get0_notAfter) \
	X(X509_get0_notBefore) \
	X(X509_get0_pubkey)

static struct {
	bool	 loaded;
	bool	 strings;	/* the reasons' texts are loaded */
	void	*lib;
#define X(f) __typeof__(f) *f;
	OSSL_FUNCTIONS(X)
#undef X
} ossl;

#define STR(x)		STR_(x)
#define STR_(x)		#x
#define OSSL_LIB	"libssl.so." STR(OPENSSL_SHLIB_VERSION)

/*
 * libssl and libcrypto bind their ~4,600 symbols at dlopen, each looked
 * up through pop3d and every library it links (libsodium, libcrypt,
 * libcdb, libc) before themselves.  RTLD_DEEPBIND looks in them (and
 * libc) first: 0.1 ms of every TLS connection.  Nothing pop3d links
 * stands in for a symbol of theirs; the one object pop3d copies that
 * libcrypto names, stderr (a copy relocation), libcrypto sees as libc's
 * own, the same FILE, as pop3d never assigns it.  What is put in front
 * of libc for every process (an allocator in LD_PRELOAD or
 * /etc/ld.so.preload) must reach them as it reaches pop3d, or memory
 * libc hands them would go back to the wrong allocator: then they are
 * loaded as before (deep_bind).  The sanitizers refuse the flag (their
 * malloc must stay in front of libc's), so their builds never ask.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OSSL_DEEPBIND	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define OSSL_DEEPBIND	0
#endif
#endif
#ifndef OSSL_DEEPBIND
#define OSSL_DEEPBIND	RTLD_DEEPBIND
#endif

static int
deep_bind(void)
{
	const char *env = getenv("LD_PRELOAD");

	if ((env != NULL && env[0] != '\0') ||
	    access("/etc/ld.so.preload", F_OK) == 0)
		return 0;
	return OSSL_DEEPBIND;
}

/*
 * Loads libssl (and with it libcrypto) by the major version pop3d was
 * built against, once, and for good.  Returns -1 with a reason in err
 * (cap octets) when it is missing or lacks a function.
 */
static int
ossl_load(char *err, size_t cap)
{
	void *lib, *fn;

	if (ossl.loaded)
		return 0;
	if ((lib = dlopen(OSSL_LIB, RTLD_NOW | RTLD_LOCAL | deep_bind())) ==
	    NULL) {
		snprintf(err, cap, "cannot load %s: %s", OSSL_LIB, dlerror());
		return -1;
	}
#define X(f)								\
	if ((fn = dlsym(lib, #f)) == NULL) {				\
		snprintf(err, cap, "%s lacks %s", OSSL_LIB, #f);	\
		return -1;						\
	}								\
	memcpy(&ossl.f, &fn, sizeof(ossl.f));
	OSSL_FUNCTIONS(X)
#undef X
	ossl.lib = lib;
	ossl.loaded = true;
	return 0;
}

/*
 * The libraries whose reasons pop3d may log: the handshake's (SSL), the
 * files' (PEM, ASN1, X509, EVP, EC, RSA, BIO, BUF) and the system's
 * (ERR).  OpenSSL loads the texts of every library's reasons when it
 * starts, 0.25 ms of every connection, unless told not to; tls_new tells
 * it not to, and lib_reason loads these the first time a reason is
 * logged, with the loaders OpenSSL 3 keeps for it.  They are deprecated,
 * so they are looked up by name: a library without them leaves reasons
 * as OpenSSL's numbers.
 */
static const char *const string_loaders[] = {
	"ERR_load_ERR_strings", "ERR_load_SSL_strings", "ERR_load_PEM_strings",
	"ERR_load_ASN1_strings", "ERR_load_X509_strings",
	"ERR_load_EVP_strings", "ERR_load_EC_strings", "ERR_load_RSA_strings",
	"ERR_load_BIO_strings", "ERR_load_BUF_strings",
};

static void
load_strings(void)
{
	int (*load)(void);
	void *fn;

	if (ossl.strings)
		return;
	ossl.strings = true;
	for (size_t i = 0; i < sizeof(string_loaders) /
	    sizeof(string_loaders[0]); i++) {
		if ((fn = dlsym(ossl.lib, string_loaders[i])) == NULL)
			continue;
		memcpy(&load, &fn, sizeof(load));
		(void)load();
	}
}

/* From here on, every call goes through the table. */
#define BIO_ctrl		(ossl.BIO_ctrl)
#define BIO_free		(ossl.BIO_free)
#define BIO_new_fd		(ossl.BIO_new_fd)
#define BIO_new_mem_buf		(ossl.BIO_new_mem_buf)
#define BIO_new_socket		(ossl.BIO_new_socket)
#define ERR_clear_error		(ossl.ERR_clear_error)
#define ERR_error_string_n	(ossl.ERR_error_string_n)
#define ERR_peek_last_error	(ossl.ERR_peek_last_error)
#define ERR_reason_error_string	(ossl.ERR_reason_error_string)
#define EVP_PKEY_free		(ossl.EVP_PKEY_free)
#define EVP_PKEY_get0_type_name	(ossl.EVP_PKEY_get0_type_name)
#define OPENSSL_cleanse		(ossl.OPENSSL_cleanse)
#define OPENSSL_init_crypto	(ossl.OPENSSL_init_crypto)
#define OPENSSL_init_ssl	(ossl.OPENSSL_init_ssl)
#define OSSL_DECODER_CTX_free	(ossl.OSSL_DECODER_CTX_free)
#define OSSL_DECODER_CTX_new_for_pkey \
	(ossl.OSSL_DECODER_CTX_new_for_pkey)
#define OSSL_DECODER_CTX_set_pem_password_cb \
	(ossl.OSSL_DECODER_CTX_set_pem_password_cb)
#define OSSL_DECODER_from_bio	(ossl.OSSL_DECODER_from_bio)
#define OpenSSL_version		(ossl.OpenSSL_version)
#define PEM_read_bio_PrivateKey	(ossl.PEM_read_bio_PrivateKey)
#define PEM_read_bio_X509	(ossl.PEM_read_bio_X509)
#define PEM_read_bio_X509_AUX	(ossl.PEM_read_bio_X509_AUX)
#define SSL_CIPHER_get_name	(ossl.SSL_CIPHER_get_name)
#define SSL_CTX_check_private_key	(ossl.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl		(ossl.SSL_CTX_ctrl)
#define SSL_CTX_free		(ossl.SSL_CTX_free)
#define SSL_CTX_get0_certificate	(ossl.SSL_CTX_get0_certificate)
#define SSL_CTX_get_security_level	(ossl.SSL_CTX_get_security_level)
#define SSL_CTX_new		(ossl.SSL_CTX_new)
#define SSL_CTX_set_alpn_select_cb	(ossl.SSL_CTX_set_alpn_select_cb)
#define SSL_CTX_set_default_passwd_cb	(ossl.SSL_CTX_set_default_passwd_cb)
#define SSL_CTX_set_num_tickets	(ossl.SSL_CTX_set_num_tickets)
#define SSL_CTX_set_options	(ossl.SSL_CTX_set_options)
#define SSL_CTX_set_security_level	(ossl.SSL_CTX_set_security_level)
#define SSL_CTX_use_PrivateKey	(ossl.SSL_CTX_use_PrivateKey)
#define SSL_CTX_use_certificate	(ossl.SSL_CTX_use_certificate)
#define SSL_accept		(ossl.SSL_accept)
#define SSL_free		(ossl.SSL_free)
#define SSL_get_current_cipher	(ossl.SSL_get_current_cipher)
#define SSL_get_error		(ossl.SSL_get_error)
#define SSL_get_version		(ossl.SSL_get_version)
#define SSL_get_wbio		(ossl.SSL_get_wbio)
#define SSL_is_init_finished	(ossl.SSL_is_init_finished)
#define SSL_new			(ossl.SSL_new)
#define SSL_read_ex		(ossl.SSL_read_ex)
#define SSL_select_next_proto	(ossl.SSL_select_next_proto)
#define SSL_sendfile		(ossl.SSL_sendfile)
#define SSL_set_bio		(ossl.SSL_set_bio)
#define SSL_shutdown		(ossl.SSL_shutdown)
#define SSL_write_ex		(ossl.SSL_write_ex)
#define TLS_server_method	(ossl.TLS_server_method)
#define X509_cmp_current_time	(ossl.X509_cmp_current_time)
#define X509_free		(ossl.X509_free)
#define X509_get0_notAfter	(ossl.X509_get0_notAfter)
#define X509_get0_notBefore	(ossl.X509_get0_notBefore)
#define X509_get0_pubkey	(ossl.X509_get0_pubkey)

struct tls {
	SSL_CTX		*ctx;
	SSL		*ssl;
	bool		 expired;
	bool		 broken;	/* a fatal error: no close_notify */
	bool		 ktls_offered;	/* the kernel lists its tls ULP */
	bool		 ktls;		/* the kernel encrypts, sends */
	const char	*why;		/* the last failure, for tls_start */
};

const char *
tls_library(void)
{
	char err[256];

	if (ossl_load(err, sizeof(err)) == -1)
		return OSSL_LIB " (cannot be loaded)";
	return OpenSSL_version(OPENSSL_VERSION);
}

/*
 * The library's reason for its last error: a constant string, or its
 * code in OpenSSL's form (in a buffer the next call reuses) when the
 * library has no text for it.
 */
static const char *
lib_reason(void)
{
	static char code[128];
	unsigned long e = ERR_peek_last_error();
	const char *r;

	load_strings();
	if ((r = ERR_reason_error_string(e)) != NULL)
		return r;
	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, code, sizeof(code));
	return code;
}

/* A key is never asked a passphrase for: stdin is the client. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/*
 * Reads a whole PEM file of at most POP3D_TLS_PEM_MAX octets into *buf
 * (malloc'd; the caller wipes and frees it).
 */
static int
read_pem(const char *path, char **buf, size_t *len, char *err, size_t cap)
{
	struct stat st;
	ssize_t n;
	int fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, cap, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > POP3D_TLS_PEM_MAX) {
		snprintf(err, cap, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "too large for a PEM file");
		goto fail;
	}
	*len = (size_t)st.st_size;
	if ((*buf = malloc(*len + 1)) == NULL) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		goto fail;
	}
	for (size_t done = 0; done < *len; done += (size_t)n) {
		if ((n = file_read(fd, *buf + done, *len - done)) <= 0) {
			snprintf(err, cap, "cannot read %s: %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
			OPENSSL_cleanse(*buf, *len);
			free(*buf);
			*buf = NULL;
			goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* The certificate, then every further one in the file as the chain. */
static int
load_chain(struct tls *t, const char *path, char *err, size_t cap)
{
	X509 *x = NULL;
	BIO *bio = NULL;
	char *buf;
	size_t len;
	int r = -1;

	if (read_pem(path, &buf, &len, err, cap) == -1)
		return -1;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		goto libfail;
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL)) ==
	    NULL) {
		snprintf(err, cap, "%s: no certificate (%s)", path,
		    lib_reason());
		goto done;
	}
	if (SSL_CTX_use_certificate(t->ctx, x) != 1) {
		snprintf(err, cap, "%s: certificate refused (%s)", path,
		    lib_reason());
		goto done;
	}
	t->expired = X509_cmp_current_time(X509_get0_notAfter(x)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(x)) >= 0;
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) !=
	    NULL) {
		if (SSL_CTX_add0_chain_cert(t->ctx, x) != 1) {
			snprintf(err, cap, "%s: chain certificate refused "
			    "(%s)", path, lib_reason());
			goto done;
		}
	}
	x = NULL;
	/* The end of the file is where reading stops; anything else is not. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(err, cap, "%s: bad chain certificate (%s)", path,
		    lib_reason());
		goto done;
	}
	r = 0;
	goto done;
libfail:
	snprintf(err, cap, "%s: %s", path, lib_reason());
done:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return r;
}

/*
 * The key, looked for as the certificate's key type only: told no type,
 * OpenSSL 3.0 builds a decoder for each type it knows, a quarter of a
 * millisecond of every connection.  NULL when there is no such key in
 * the file (load_key then looks for one of any type, for its reason).
 * Like PEM_read_bio_PrivateKey, it passes over the file's other PEM
 * blocks, such as certificates, and asks no passphrase.
 */
static EVP_PKEY *
decode_key(struct tls *t, BIO *bio)
{
	X509 *x = SSL_CTX_get0_certificate(t->ctx);
	OSSL_DECODER_CTX *d;
	EVP_PKEY *k = NULL;
	const char *type;
	int at, was = -1;

	if (x == NULL || (type = EVP_PKEY_get0_type_name(X509_get0_pubkey(x)))
	    == NULL)
		return NULL;
	if ((d = OSSL_DECODER_CTX_new_for_pkey(&k, "PEM", NULL, type,
	    EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
		return NULL;
	if (OSSL_DECODER_CTX_set_pem_password_cb(d, no_passphrase, NULL) ==
	    1) {
		/* Block after block, as long as each read moves on. */
		while (k == NULL && (at = (int)BIO_tell(bio)) > was) {
			was = at;
			(void)OSSL_DECODER_from_bio(d, bio);
		}
	}
	OSSL_DECODER_CTX_free(d);
	ERR_clear_error();
	return k;
}

static int
load_key(struct tls *t, const char *path, char *err, size_t cap)
{
	EVP_PKEY *k = NULL;
	BIO *bio = NULL;
	char *buf;
	size_t len;
	int r = -1;

	if (read_pem(path, &buf, &len, err, cap) == -1)
		return -1;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		snprintf(err, cap, "%s: %s", path, lib_reason());
		goto done;
	}
	if ((k = decode_key(t, bio)) == NULL && (BIO_reset(bio) != 1 ||
	    (k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) ==
	    NULL)) {
		snprintf(err, cap, "%s: no private key, or an encrypted one "
		    "(%s)", path, lib_reason());
		goto done;
	}
	if (SSL_CTX_use_PrivateKey(t->ctx, k) != 1) {
		snprintf(err, cap, "%s: key does not match the certificate "
		    "(%s)", path, lib_reason());
		goto done;
	}
	r = 0;
done:
	ERR_clear_error();
	EVP_PKEY_free(k);
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return r;
}

/*
 * ALPN (RFC 7301): a client that names protocols must name "pop3" (RFC
 * 8314 s.7.1 names the id), so that a connection meant for another
 * protocol, as in the ALPACA cross-protocol attacks, goes no further.
 */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char pop3[] = "\x04pop3";
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, pop3, sizeof(pop3) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * Whether the kernel offers TLS (its "tls" upper-layer protocol, the
 * tls module, is listed), read once at startup like every other file.
 * Where it does not, OpenSSL is not asked to try: encryption stays in
 * OpenSSL, silently.
 */
static bool
ktls_offered(void)
{
	char buf[256], *p, *save;
	ssize_t n;
	int fd;

	if ((fd = open(POP3D_TLS_ULP_PATH, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = file_read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (p = strtok_r(buf, " \n", &save); p != NULL;
	    p = strtok_r(NULL, " \n", &save))
		if (strcmp(p, "tls") == 0)
			return true;
	return false;
}

/*
 * OpenSSL's configuration file only when the admin names one in
 * OPENSSL_CONF: Debian's sets nothing for TLS, and parsing it is a third
 * of a millisecond of every connection.  pop3d sets its policy itself
 * (tls_new).  Read now, not lazily: it is a file, read before anything
 * else may be.
 */
static uint64_t
config_flag(void)
{
	const char *conf = getenv("OPENSSL_CONF");

	return conf != NULL && conf[0] != '\0' ? OPENSSL_INIT_LOAD_CONFIG :
	    OPENSSL_INIT_NO_LOAD_CONFIG;
}

struct tls *
tls_new(const char *cert, const char *key, char *err, size_t cap)
{
	struct tls *t;

	if (ossl_load(err, cap) == -1)
		return NULL;
	/*
	 * No clean-up at exit: tls_free wipes the key, the rest goes with
	 * the process, and freeing OpenSSL's tables took 0.3 ms.  No table
	 * of the ciphers' old names either (0.2 ms), which OPENSSL_init_ssl
	 * would ask for and only lookups by those names use: libssl fetches
	 * each cipher by its own, and offers the same ones without it.  The
	 * digests' stays: a chain certificate's signature is judged by its
	 * digest, looked up by number.  First, as each is done once.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
	    OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	    config_flag(), NULL) != 1 ||
	    OPENSSL_init_ssl(config_flag() | OPENSSL_INIT_NO_ATEXIT |
	    OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) != 1) {
		snprintf(err, cap, "cannot initialise OpenSSL (%s)",
		    lib_reason());
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, cap, "%s", strerror(errno));
		return NULL;
	}
	/* SSL_CTX_new applies a configuration's system_default section. */
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, cap, "cannot make a TLS context (%s)",
		    lib_reason());
		goto fail;
	}
	SSL_CTX_set_default_passwd_cb(t->ctx, no_passphrase);
	/*
	 * At least TLS 1.2, or what a configuration says if higher, and
	 * at least security level 2 (112-bit keys, no SHA-1 signatures),
	 * Debian's default, whatever a configuration says.
	 */
	if (SSL_CTX_get_min_proto_version(t->ctx) < TLS1_2_VERSION &&
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, cap, "cannot require TLS 1.2 (%s)",
		    lib_reason());
		goto fail;
	}
	if (SSL_CTX_get_security_level(t->ctx) < POP3D_TLS_SECLEVEL)
		SSL_CTX_set_security_level(t->ctx, POP3D_TLS_SECLEVEL);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A client gone without close_notify has ended (POP3 frames its own
	   data: a cut reply shows), as OpenSSL 1.1 saw it. */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	/* One process a connection: nothing to resume a session from. */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_dh_auto(t->ctx, 1);
	SSL_CTX_set_alpn_select_cb(t->ctx, alpn_select, NULL);
	if ((t->ktls_offered = ktls_offered()))
		SSL_CTX_set_options(t->ctx, SSL_OP_ENABLE_KTLS);
	if (load_chain(t, cert, err, cap) == -1 ||
	    load_key(t, key, err, cap) == -1)
		goto fail;
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		snprintf(err, cap, "%s: key does not match the certificate "
		    "(%s)", key, lib_reason());
		goto fail;
	}
	ERR_clear_error();
	return t;
fail:
	ERR_clear_error();
	tls_free(t);
	return NULL;
}

bool
tls_cert_expired(const struct tls *t)
{
	return t->expired;
}

/*
 * Maps a failed SSL call to io_transport's terms: -1 with EAGAIN and
 * *ev to wait, 0 for the peer's end, -1 with errno on an error.
 */
static ssize_t
failed(struct tls *t, int r, short *ev)
{
	int saved = errno;

	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		t->why = "eof";
		return 0;
	case SSL_ERROR_SYSCALL:
		t->broken = true;
		if (saved == 0) {
			/* EOF at a place no record ends. */
			t->why = "eof";
			return 0;
		}
		t->why = strerror(saved);
		errno = saved;
		return -1;
	default:
		t->broken = true;
		t->why = lib_reason();
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
tls_read(void *arg, void *buf, size_t len, short *ev)
{
	struct tls *t = arg;
	size_t n;
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read_ex(t->ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	return failed(t, r, ev);
}

static ssize_t
tls_write(void *arg, const void *buf, size_t len, short *ev)
{
	struct tls *t = arg;
	size_t n;
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write_ex(t->ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	if (failed(t, r, ev) == 0) {
		errno = EPIPE;		/* the peer closed: nothing to write to */
		return -1;
	}
	return -1;
}

/*
 * io_transport's sendfile, with kernel TLS only: the file's octets go
 * from the page cache to the kernel's encryption, never through pop3d.
 */
static ssize_t
tls_sendfile(void *arg, int fd, off_t off, size_t len, short *ev)
{
	struct tls *t = arg;
	ossl_ssize_t n;

	ERR_clear_error();
	errno = 0;
	if ((n = SSL_sendfile(t->ssl, fd, off, len, 0)) >= 0)
		return (ssize_t)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		*ev = POLLOUT;
		errno = EAGAIN;
		return -1;
	}
	/* errno as sendfile(2) left it: io falls back where it may. */
	ERR_clear_error();
	if (errno == 0)
		errno = EIO;
	return -1;
}

/* Whether fd is a TCP socket (not a pipe, not a socket of this host). */
static bool
is_tcp(int fd)
{
	int proto;
	socklen_t len = sizeof(proto);

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
	    proto == IPPROTO_TCP;
}

/*
 * The BIO for the fd TLS writes to.  On TCP, without Nagle's wait:
 * OpenSSL writes a handshake's flight a record at a time, and each
 * record after the first would otherwise wait for the client to
 * acknowledge the first, which a client may delay 40 ms; io's own
 * output is whole replies anyway.  A socket BIO where kernel TLS may be
 * switched on (the kernel does TLS on TCP only, and OpenSSL tries it
 * for a socket BIO only, once the keys are made), else a plain fd BIO.
 */
static BIO *
write_bio(struct tls *t, int wfd)
{
	int one = 1;

	if (!is_tcp(wfd))
		return BIO_new_fd(wfd, BIO_NOCLOSE);
	/* Best effort: a socket that refuses only waits as before. */
	(void)setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return t->ktls_offered ? BIO_new_socket(wfd, BIO_NOCLOSE) :
	    BIO_new_fd(wfd, BIO_NOCLOSE);
}

static int
accept_step(void *arg, short *ev)
{
	struct tls *t = arg;
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_accept(t->ssl)) == 1)
		return 0;
	if (failed(t, r, ev) == 0)
		errno = ECONNABORTED;	/* the client left mid-handshake */
	return -1;
}

int
tls_start(struct tls *t, struct io *io, int rfd, int wfd, const char **why)
{
	struct io_transport tp = { .read = tls_read, .write = tls_write,
	    .arg = t };
	BIO *rbio = NULL, *wbio = NULL;

	*why = "setup";
	if (t->ssl != NULL)
		return -1;		/* NEVER: once per tls */
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    (rbio = BIO_new_fd(rfd, BIO_NOCLOSE)) == NULL ||
	    (wbio = write_bio(t, wfd)) == NULL) {
		BIO_free(rbio);
		*why = lib_reason();
		t->broken = true;
		return -1;
	}
	SSL_set_bio(t->ssl, rbio, wbio);
	if (io_drive(io, accept_step, t) == -1) {
		t->broken = true;
		*why = errno == ETIMEDOUT ? "timeout" :
		    t->why != NULL ? t->why : "unknown error";
		return -1;
	}
	/* SSL_sendfile only where the kernel encrypts. */
	if ((t->ktls = BIO_get_ktls_send(SSL_get_wbio(t->ssl))))
		tp.sendfile = tls_sendfile;
	if (io_set_transport(io, &tp) == -1) {
		t->broken = true;
		*why = "output pending";	/* NEVER: flushed first */
		return -1;
	}
	return 0;
}

const char *
tls_version(const struct tls *t)
{
	return t->ssl != NULL ? SSL_get_version(t->ssl) : "none";
}

const char *
tls_send_path(const struct tls *t)
{
	return t->ktls ? "ktls" : "openssl";
}

const char *
tls_cipher(const struct tls *t)
{
	const char *c = t->ssl != NULL ? SSL_get_cipher_name(t->ssl) : NULL;

	return c != NULL ? c : "none";
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		/* Best effort: one try, never a wait for the peer's reply. */
		if (!t->broken && SSL_is_init_finished(t->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(t->ssl);
		}
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t);
}
