/*
 * bench/tlsstart/openssl.c: the least a TLS server on OpenSSL 3 does
 * per process, as tls.c does it (no configuration file, no error texts,
 * no cipher name table, no clean-up at exit, no tickets, the key
 * decoded as an EC key only): load the certificate and key, one
 * handshake on fds 0 and 1, a greeting, one read, close_notify.
 */
#include <openssl/decoder.h>
#include <openssl/ssl.h>

int
main(int argc, char *argv[])
{
	OSSL_DECODER_CTX *d;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx;
	BIO *bio;
	SSL *ssl;
	char b[64];

	if (argc != 3)
		return 2;
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
	    OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1 ||
	    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) != 1 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return 2;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	if ((bio = BIO_new_file(argv[2], "r")) == NULL ||
	    (d = OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", NULL, "EC",
	    EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL ||
	    OSSL_DECODER_from_bio(d, bio) != 1)
		return 2;
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    (ssl = SSL_new(ctx)) == NULL || SSL_set_rfd(ssl, 0) != 1 ||
	    SSL_set_wfd(ssl, 1) != 1 || SSL_accept(ssl) != 1 ||
	    SSL_write(ssl, "+OK\r\n", 5) != 5 || SSL_read(ssl, b, sizeof(b)) <= 0)
		return 3;
	(void)SSL_shutdown(ssl);
	return 0;
}
