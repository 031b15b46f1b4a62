/*
 * tls-none.c: tls.h for a pop3d built without OpenSSL (-Dtls=disabled,
 * or no OpenSSL 3 found under -Dtls=auto): every entry point says so,
 * and pop3d serves plain POP3 only.  meson.build picks this file or
 * tls.c; both keep tls.h's contract.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tls.h"

const char *
tls_library(void)
{
	return NULL;
}

struct tls *
tls_new(const char *cert, const char *key, char *err, size_t cap)
{
	(void)cert;
	(void)key;
	snprintf(err, cap, "pop3d was built without TLS");
	return NULL;
}

bool
tls_cert_expired(const struct tls *t)
{
	(void)t;
	return false;
}

int
tls_start(struct tls *t, struct io *io, int rfd, int wfd, const char **why)
{
	(void)t;
	(void)io;
	(void)rfd;
	(void)wfd;
	*why = "built without TLS";
	return -1;
}

const char *
tls_version(const struct tls *t)
{
	(void)t;
	return "none";
}

const char *
tls_cipher(const struct tls *t)
{
	(void)t;
	return "none";
}

const char *
tls_send_path(const struct tls *t)
{
	(void)t;
	return "none";
}

void
tls_free(struct tls *t)
{
	(void)t;
}
