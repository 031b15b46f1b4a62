/*
 * tls.h: TLS 1.2 and 1.3 for one session, as a transport under io
 * (io_set_transport), so that the session neither knows nor cares.
 */
#ifndef POP3D_TLS_H
#define POP3D_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "io.h"

struct tls;

/*
 * The TLS library pop3d was built with ("OpenSSL 3.0.19 27 Jan 2026"),
 * or NULL when it was built without TLS.
 */
const char	*tls_library(void);

/*
 * Initialises the library (with OpenSSL's configuration file only when
 * OPENSSL_CONF names one) and loads the certificate chain (PEM: the
 * server's certificate first, then any intermediates) from cert and the
 * private key (PEM, not encrypted; it may be in the same file) from
 * key.  Everything TLS needs from the file system is read here, before
 * the client is answered and long before confinement.  Returns NULL on
 * failure with a one-line reason in err (cap octets): a file that cannot
 * be read, holds no certificate or key, or a key that does not match the
 * certificate; or a build without TLS.  The key's bytes are wiped once
 * parsed.
 */
struct tls	*tls_new(const char *cert, const char *key, char *err,
		    size_t cap);

/*
 * Whether the certificate has expired or is not yet valid: a warning
 * for the log, since clients will refuse it.
 */
bool		 tls_cert_expired(const struct tls *);

/*
 * Runs the server side of a handshake on rfd and wfd (io's fds), within
 * one of io's idle timeouts, then puts the TLS connection under io.
 * io's output must have been flushed; the input it buffered before is
 * dropped (io_set_transport).  Only TLS 1.2 and 1.3, no compression, no
 * renegotiation, no session resumption; a client that offers ALPN must
 * offer "pop3".  Returns 0 once io speaks TLS; -1 with a constant reason
 * in *why when the handshake failed ("timeout", "eof" or the library's
 * reason): the connection is then unusable.  Once per tls.
 */
int		 tls_start(struct tls *, struct io *, int rfd, int wfd,
		    const char **why) __attribute__((warn_unused_result));

/* The protocol version and cipher agreed on, for the log. */
const char	*tls_version(const struct tls *);
const char	*tls_cipher(const struct tls *);

/*
 * Who encrypts what is sent, for the log: "ktls" when the kernel does
 * (it offers TLS, OpenSSL switched it on for this connection, and files
 * then go with SSL_sendfile), else "openssl".
 */
const char	*tls_send_path(const struct tls *);

/*
 * Sends a close_notify when a connection was started and is still
 * sound, without waiting for the peer, and frees everything.
 */
void		 tls_free(struct tls *);

#endif
