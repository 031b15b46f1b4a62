/*
 * bench/tlsstart/gnutls.c: the same server as openssl.c on GnuTLS:
 * TLS 1.2 and 1.3 at 128-bit security, no tickets; load the certificate
 * and key, one handshake on fds 0 and 1, a greeting, one read,
 * close_notify.
 */
#include <gnutls/gnutls.h>

int
main(int argc, char *argv[])
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_session_t s;
	char b[64];
	int r;

	if (argc != 3)
		return 2;
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key_file(cred, argv[1], argv[2],
	    GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_priority_init(&prio, "SECURE128:-VERS-ALL:+VERS-TLS1.3:"
	    "+VERS-TLS1.2", NULL) < 0 ||
	    gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_TICKETS) < 0 ||
	    gnutls_priority_set(s, prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		return 2;
	gnutls_transport_set_int2(s, 0, 1);
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0 || gnutls_record_send(s, "+OK\r\n", 5) != 5 ||
	    gnutls_record_recv(s, b, sizeof(b)) <= 0)
		return 3;
	(void)gnutls_bye(s, GNUTLS_SHUT_WR);
	return 0;
}
