/* check_proxy.c: the PROXY protocol through proxy.h: version 1 and 2
 * headers good and bad, every prefix of a good one (the reader must
 * never be asked to read past a header), v2 TLVs and what PP2_TYPE_SSL
 * says of the client's TLS, trusted networks, and the reader on a
 * socket, which must leave the client's bytes unread.  Headers are
 * parsed from heap copies of their exact size, so that ASan sees any
 * read past what was given. */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "params.h"
#include "proxy.h"
#include "testlib.h"

static const unsigned char sig[12] = {
	'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
};

/* A v2 header: head octets 13 and 14, len octets of body. */
static size_t
v2(unsigned char *buf, unsigned char ver_cmd, unsigned char fam,
    const void *body, size_t len)
{
	memcpy(buf, sig, 12);
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (unsigned char)(len >> 8);
	buf[15] = (unsigned char)len;
	if (len > 0)
		memcpy(buf + 16, body, len);
	return 16 + len;
}

/* The addresses of a v2 TCP over IPv4 header: src, dst, ports. */
static size_t
inet4(unsigned char *b, const char *src, unsigned sport)
{
	ck_assert_int_eq(inet_pton(AF_INET, src, b), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "198.51.100.2", b + 4), 1);
	b[8] = (unsigned char)(sport >> 8);
	b[9] = (unsigned char)sport;
	b[10] = 0;
	b[11] = 110;
	return 12;
}

static size_t
inet6(unsigned char *b, const char *src, unsigned sport)
{
	ck_assert_int_eq(inet_pton(AF_INET6, src, b), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::2", b + 16), 1);
	b[32] = (unsigned char)(sport >> 8);
	b[33] = (unsigned char)sport;
	b[34] = 0;
	b[35] = 110;
	return 36;
}

/* proxy_parse on a heap copy of exactly buf[0..len). */
static enum proxy_res
parse_exact(const void *buf, size_t len, size_t *need,
    struct proxy_hdr *hdr, const char **why)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	enum proxy_res r;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	r = proxy_parse(copy, len, need, hdr, why);
	free(copy);
	return r;
}

/*
 * A whole header: every proper prefix asks for more, and never for more
 * than the header holds; the header alone, and with client bytes after
 * it, is done at exactly its length.
 */
static void
whole(const void *hdrbytes, size_t len, struct proxy_hdr *hdr)
{
	unsigned char buf[PROXY_HDR_MAX + 16];
	const char *why;
	size_t need;

	ck_assert_uint_le(len, PROXY_HDR_MAX);
	memcpy(buf, hdrbytes, len);
	for (size_t k = 0; k < len; k++) {
		need = 0;
		ck_assert_int_eq(parse_exact(buf, k, &need, hdr, &why),
		    PROXY_MORE);
		ck_assert_uint_gt(need, k);
		ck_assert_uint_le(need, len);
	}
	memcpy(buf + len, "USER me\r\n", 9);
	need = 0;
	ck_assert_int_eq(parse_exact(buf, len + 9, &need, hdr, &why),
	    PROXY_DONE);
	ck_assert_uint_eq(need, len);
	need = 0;
	ck_assert_int_eq(parse_exact(buf, len, &need, hdr, &why), PROXY_DONE);
	ck_assert_uint_eq(need, len);
}

static void
v1_good(const char *line, struct proxy_hdr *hdr)
{
	whole(line, strlen(line), hdr);
	ck_assert_int_eq(hdr->version, 1);
}

/* The client address and port of a header, as text. */
static const char *
src(const struct proxy_hdr *hdr, unsigned *port)
{
	static char text[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)(const void *)&hdr->src;
	const struct sockaddr_in *sin =
	    (const struct sockaddr_in *)(const void *)&hdr->src;

	ck_assert(!hdr->local);
	if (hdr->src.ss_family == AF_INET) {
		ck_assert_uint_eq(hdr->srclen, sizeof(*sin));
		*port = ntohs(sin->sin_port);
		return inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
	}
	ck_assert_int_eq(hdr->src.ss_family, AF_INET6);
	ck_assert_uint_eq(hdr->srclen, sizeof(*sin6));
	*port = ntohs(sin6->sin6_port);
	return inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
}

/* buf[0..len) is refused, for the reason why. */
static void
refused(const void *buf, size_t len, const char *why_expected)
{
	struct proxy_hdr hdr;
	const char *why = NULL;
	size_t need = 0;

	ck_assert_msg(parse_exact(buf, len, &need, &hdr, &why) == PROXY_BAD,
	    "accepted: %.*s", (int)len, (const char *)buf);
	ck_assert_str_eq(why, why_expected);
	ck_assert(!hdr.tls);
}

static void
v1_bad(const char *line, const char *why)
{
	refused(line, strlen(line), why);
}

START_TEST(v1_tcp4_tcp6_unknown)
{
	struct proxy_hdr hdr;
	unsigned port;
	char line[256];

	v1_good("PROXY TCP4 192.0.2.1 198.51.100.2 56324 110\r\n", &hdr);
	ck_assert_str_eq(src(&hdr, &port), "192.0.2.1");
	ck_assert_uint_eq(port, 56324);
	v1_good("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", &hdr);
	ck_assert_str_eq(src(&hdr, &port), "0.0.0.0");
	ck_assert_uint_eq(port, 0);
	v1_good("PROXY TCP6 2001:db8::1 2001:db8::2 1 110\r\n", &hdr);
	ck_assert_str_eq(src(&hdr, &port), "2001:db8::1");
	ck_assert_uint_eq(port, 1);
	v1_good("PROXY TCP6 ::ffff:192.0.2.7 ::1 4000 110\r\n", &hdr);
	ck_assert_str_eq(src(&hdr, &port), "::ffff:192.0.2.7");
	/* The spec's longest TCP6 line: 104 octets. */
	v1_good("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", &hdr);
	ck_assert_str_eq(src(&hdr, &port), "ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff");
	v1_good("PROXY UNKNOWN\r\n", &hdr);
	ck_assert(hdr.local);
	v1_good("PROXY UNKNOWN whatever the proxy says\r\n", &hdr);
	ck_assert(hdr.local);
	/* 107 octets in all, the most there may be; 108 are too many. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + POP3D_PROXY_V1_MAX - 2, "\r\n", 3);
	ck_assert_uint_eq(strlen(line), 107);
	v1_good(line, &hdr);
	ck_assert(hdr.local);
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + POP3D_PROXY_V1_MAX - 1, "\r\n", 3);
	v1_bad(line, "v1-too-long");
	/* ... and it is refused when the 107th octet is not the LF. */
	refused(line, POP3D_PROXY_V1_MAX, "v1-too-long");
}
END_TEST

START_TEST(v1_malformed)
{
	static const char a[] = "PROXY TCP4 192.0.2.1 198.51.100.2 ";
	static const char nul[] = "PROXY TCP4 192.0.2.1\0"
	    "198.51.100.2 1 2\r\n";
	static const char *const ports[] = {
		"65536 110", "1 65536", "01 110", "1 00", "-1 110", "+1 110",
		"1  110", "1 110 ", "1 110 7", "1", "1 0x6e"
	};

	v1_bad("PROXY TCP4 192.0.2.1 198.51.100.2 56324 110\n", "v1-line-end");
	v1_bad("PROXY TCP4 192.0.2.1\r 198.51.100.2 1 2\r\n", "v1-line-end");
	v1_bad("PROXY \r\n", "v1-protocol");
	v1_bad("PROXY\r\n", "v1-signature");
	v1_bad("proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n", "no-header");
	v1_bad("PROXX TCP4 192.0.2.1 198.51.100.2 1 2\r\n", "v1-signature");
	v1_bad("PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n", "v1-protocol");
	v1_bad("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n", "v1-protocol");
	v1_bad("PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "v1-protocol");
	v1_bad("PROXY TCP 192.0.2.1 198.51.100.2 1 2\r\n", "v1-protocol");
	v1_bad("PROXY UNKNOWNX\r\n", "v1-protocol");
	v1_bad("PROXY TCP4\r\n", "v1-protocol");
	v1_bad("PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4 192.0.2.1 2001:db8::2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4 192.0.2 198.51.100.2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4 host.example 198.51.100.2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP6 fe80::1%eth0 2001:db8::2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n", "v1-address");
	v1_bad("PROXY TCP4 192.0.2.1 198.51.100.2\r\n", "v1-address");
	refused(nul, sizeof(nul) - 1, "v1-nul");
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "%s%s\r\n", a, ports[i]);
		v1_bad(line, "v1-port");
	}
	v1_bad("USER me\r\n", "no-header");
	v1_bad("\n", "no-header");
	v1_bad("CAPA\r\n", "no-header");
}
END_TEST

START_TEST(v2_good)
{
	unsigned char buf[PROXY_HDR_MAX], body[PROXY_HDR_MAX];
	struct proxy_hdr hdr;
	unsigned port;
	size_t n;

	n = v2(buf, 0x21, 0x11, body, inet4(body, "192.0.2.1", 56324));
	whole(buf, n, &hdr);
	ck_assert_int_eq(hdr.version, 2);
	ck_assert_str_eq(src(&hdr, &port), "192.0.2.1");
	ck_assert_uint_eq(port, 56324);

	n = v2(buf, 0x21, 0x21, body, inet6(body, "2001:db8::1", 443));
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "2001:db8::1");
	ck_assert_uint_eq(port, 443);

	/*
	 * TLVs after the addresses are skipped, up to the longest length:
	 * PP2_TYPE_NOOP (0x04) with a 17-octet value, then one that fills
	 * the rest.
	 */
	memset(body, 0x04, sizeof(body));
	(void)inet4(body, "203.0.113.9", 1);
	body[12] = 0x04;
	body[13] = 0;
	body[14] = 17;
	n = v2(buf, 0x21, 0x11, body, 12 + 20);
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "203.0.113.9");
	ck_assert(!hdr.tls);
	body[13] = (unsigned char)((POP3D_PROXY_V2_LEN_MAX - 12 - 3) >> 8);
	body[14] = (unsigned char)(POP3D_PROXY_V2_LEN_MAX - 12 - 3);
	n = v2(buf, 0x21, 0x11, body, POP3D_PROXY_V2_LEN_MAX);
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "203.0.113.9");
	ck_assert(!hdr.tls);

	/* LOCAL (a health check): no address, whatever follows. */
	n = v2(buf, 0x20, 0x00, body, 0);
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	n = v2(buf, 0x20, 0x11, body, inet4(body, "192.0.2.1", 1));
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	n = v2(buf, 0x20, 0xff, body, 3);
	whole(buf, n, &hdr);
	ck_assert(hdr.local);

	/* PROXY from an unspecified family or a Unix socket: no address. */
	n = v2(buf, 0x21, 0x00, body, 0);
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	memset(body, 0, 216);
	n = v2(buf, 0x21, 0x31, body, 216);
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
}
END_TEST

START_TEST(v2_malformed)
{
	unsigned char buf[PROXY_HDR_MAX], body[64];
	size_t n;

	(void)inet4(body, "192.0.2.1", 1);
	n = v2(buf, 0x21, 0x11, body, 12);
	/* A wrong octet of the signature is refused as soon as it is read. */
	for (size_t i = 1; i < 12; i++) {
		unsigned char b[16];

		memcpy(b, buf, 16);
		b[i] ^= 0x20;
		refused(b, i + 1, "v2-signature");
		refused(b, 16, "v2-signature");
	}
	for (unsigned vc = 0; vc < 256; vc++) {
		if (vc == 0x20 || vc == 0x21)
			continue;
		buf[12] = (unsigned char)vc;
		refused(buf, n, (vc & 0xf0) != 0x20 ? "v2-version" :
		    "v2-command");
	}
	buf[12] = 0x21;
	for (unsigned fam = 0x40; fam < 0x100; fam += 0x10) {
		buf[13] = (unsigned char)(fam | 1);
		refused(buf, n, "v2-family");
	}
	buf[13] = 0x12;	/* UDP */
	refused(buf, n, "v2-transport");
	buf[13] = 0x10;	/* IPv4, no transport */
	refused(buf, n, "v2-transport");
	buf[13] = 0x22;
	refused(buf, n, "v2-transport");
	buf[13] = 0x32;
	refused(buf, n, "v2-transport");

	/* Lengths too short for the family's addresses. */
	n = v2(buf, 0x21, 0x11, body, 11);
	refused(buf, n, "v2-short");
	n = v2(buf, 0x21, 0x21, body, 35);
	refused(buf, n, "v2-short");
	n = v2(buf, 0x21, 0x31, body, 0);
	refused(buf, n, "v2-short");

	/* Too long: refused on the 16 octets, before anything is read on. */
	buf[14] = (unsigned char)((POP3D_PROXY_V2_LEN_MAX + 1) >> 8);
	buf[15] = (unsigned char)(POP3D_PROXY_V2_LEN_MAX + 1);
	refused(buf, 16, "v2-too-long");
	buf[14] = buf[15] = 0xff;
	refused(buf, 16, "v2-too-long");
	refused("\r\nX", 3, "v2-signature");
	refused("\rUSER", 5, "v2-signature");
}
END_TEST

/* A TLV (s.2.2) at b: type, 16-bit length, value; returns its size. */
static size_t
tlv(unsigned char *b, unsigned type, const void *val, size_t len)
{
	b[0] = (unsigned char)type;
	b[1] = (unsigned char)(len >> 8);
	b[2] = (unsigned char)len;
	if (len > 0)
		memcpy(b + 3, val, len);
	return 3 + len;
}

/* A sub-TLV holding the text s. */
static size_t
text(unsigned char *b, unsigned type, const char *s)
{
	return tlv(b, type, s, strlen(s));
}

/*
 * A PP2_TYPE_SSL TLV (s.2.2.6) at b: the client octet, verify (0: a
 * verified certificate, or none asked for), then subs[0..sublen).
 */
static size_t
ssl(unsigned char *b, unsigned client, const void *subs, size_t sublen)
{
	unsigned char v[PROXY_HDR_MAX];

	v[0] = (unsigned char)client;
	memset(v + 1, 0, 4);
	if (sublen > 0)
		memcpy(v + 5, subs, sublen);
	return tlv(b, 0x20, v, 5 + sublen);
}

/* HAProxy's send-proxy-v2-ssl with proxy-v2-options ssl-cipher. */
static size_t
haproxy_ssl(unsigned char *b, unsigned client)
{
	unsigned char subs[128];
	size_t n = 0;

	n += text(subs + n, 0x21, "TLSv1.3");
	n += text(subs + n, 0x23, "TLS_AES_256_GCM_SHA384");
	return ssl(b, client, subs, n);
}

/* An IPv4 PROXY header from 192.0.2.1 with tlvs[0..len) after it. */
static size_t
with_tlvs(unsigned char *buf, const void *tlvs, size_t len)
{
	unsigned char body[PROXY_HDR_MAX];
	size_t n = inet4(body, "192.0.2.1", 4242);

	memcpy(body + n, tlvs, len);
	return v2(buf, 0x21, 0x11, body, n + len);
}

static void
tls_is(const struct proxy_hdr *hdr, bool tls, const char *version,
    const char *cipher)
{
	ck_assert_int_eq(hdr->tls, tls);
	ck_assert_str_eq(hdr->tls_version, version);
	ck_assert_str_eq(hdr->tls_cipher, cipher);
}

START_TEST(v2_ssl_client_tls)
{
	unsigned char buf[PROXY_HDR_MAX], t[PROXY_HDR_MAX], body[256];
	struct proxy_hdr hdr;
	unsigned port;
	size_t n, sub;

	/* HAProxy's: the client spoke TLS, with this version and cipher. */
	n = with_tlvs(buf, t, haproxy_ssl(t, 0x01));
	whole(buf, n, &hdr);
	ck_assert_int_eq(hdr.version, 2);
	ck_assert_str_eq(src(&hdr, &port), "192.0.2.1");
	ck_assert_uint_eq(port, 4242);
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");

	/* A client certificate too (PP2_CLIENT_CERT_CONN, _SESS). */
	n = with_tlvs(buf, t, haproxy_ssl(t, 0x07));
	whole(buf, n, &hdr);
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");

	/* send-proxy-v2-ssl alone: a version and no cipher; or neither. */
	sub = text(body, 0x21, "TLSv1.2");
	n = with_tlvs(buf, t, ssl(t, 0x01, body, sub));
	whole(buf, n, &hdr);
	tls_is(&hdr, true, "TLSv1.2", "");
	n = with_tlvs(buf, t, ssl(t, 0x01, NULL, 0));
	whole(buf, n, &hdr);
	tls_is(&hdr, true, "", "");

	/*
	 * Other sub-TLVs (CN, SIG_ALG, KEY_ALG, unknown ones, empty ones)
	 * are skipped, whatever octets they hold; an empty name is none.
	 */
	sub = 0;
	sub += text(body + sub, 0x22, "client\x01\xff name");
	sub += text(body + sub, 0x23, "ECDHE-RSA-AES128-GCM-SHA256");
	sub += tlv(body + sub, 0x24, NULL, 0);
	sub += text(body + sub, 0x25, "RSA2048");
	sub += tlv(body + sub, 0x99, "\0\0\0", 3);
	sub += tlv(body + sub, 0x21, NULL, 0);
	n = with_tlvs(buf, t, ssl(t, 0x01, body, sub));
	whole(buf, n, &hdr);
	tls_is(&hdr, true, "", "ECDHE-RSA-AES128-GCM-SHA256");

	/* Names of POP3D_PROXY_TLS_TEXT_MAX, with spaces (Go's names). */
	{
		char name[POP3D_PROXY_TLS_TEXT_MAX + 1];

		memset(name, 'x', POP3D_PROXY_TLS_TEXT_MAX);
		name[POP3D_PROXY_TLS_TEXT_MAX] = '\0';
		sub = text(body, 0x23, name);
		sub += text(body + sub, 0x21, "TLS 1.3");
		n = with_tlvs(buf, t, ssl(t, 0x01, body, sub));
		whole(buf, n, &hdr);
		tls_is(&hdr, true, "TLS 1.3", name);
	}

	/* After IPv6 addresses, and where the header names no client. */
	n = inet6(body, "2001:db8::1", 995);
	n += haproxy_ssl(body + n, 0x01);
	n = v2(buf, 0x21, 0x21, body, n);
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "2001:db8::1");
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
	n = v2(buf, 0x21, 0x00, t, haproxy_ssl(t, 0x01));
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
	memset(t, 0, 216);
	n = v2(buf, 0x21, 0x31, t, 216 + haproxy_ssl(t + 216, 0x01));
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
}
END_TEST

START_TEST(v2_ssl_client_plain)
{
	static const unsigned clients[] = { 0x00, 0x02, 0x04, 0x06, 0xfe };
	unsigned char buf[PROXY_HDR_MAX], t[PROXY_HDR_MAX];
	struct proxy_hdr hdr;
	size_t n;

	/*
	 * The TLV without PP2_CLIENT_SSL (HAProxy sends it so for a client
	 * in the clear): no TLS, whatever else is set or named.
	 */
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		n = with_tlvs(buf, t, haproxy_ssl(t, clients[i]));
		whole(buf, n, &hdr);
		ck_assert(!hdr.tls);
		n = with_tlvs(buf, t, ssl(t, clients[i], NULL, 0));
		whole(buf, n, &hdr);
		tls_is(&hdr, false, "", "");
	}

	/* No TLV at all, or version 1: no TLS. */
	n = with_tlvs(buf, t, 0);
	whole(buf, n, &hdr);
	tls_is(&hdr, false, "", "");
	v1_good("PROXY TCP4 192.0.2.1 198.51.100.2 5 110\r\n", &hdr);
	tls_is(&hdr, false, "", "");

	/* The sub-types at the top level are other TLVs, not SSL's. */
	n = text(t, 0x21, "TLSv1.3");
	n += text(t + n, 0x23, "TLS_AES_256_GCM_SHA384");
	n = with_tlvs(buf, t, n);
	whole(buf, n, &hdr);
	tls_is(&hdr, false, "", "");

	/*
	 * LOCAL (a health check): the whole block is ignored, TLVs too,
	 * good ones with the bit set and malformed ones alike.
	 */
	n = v2(buf, 0x20, 0x00, t, haproxy_ssl(t, 0x01));
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	tls_is(&hdr, false, "", "");
	n = v2(buf, 0x20, 0x00, "\x20\xff\xff", 3);
	whole(buf, n, &hdr);
	ck_assert(hdr.local);
	ck_assert(!hdr.tls);

	/* A header parsed into the hdr of a TLS one leaves no TLS behind. */
	n = with_tlvs(buf, t, haproxy_ssl(t, 0x01));
	whole(buf, n, &hdr);
	ck_assert(hdr.tls);
	n = with_tlvs(buf, t, haproxy_ssl(t, 0x00));
	whole(buf, n, &hdr);
	tls_is(&hdr, false, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
	n = with_tlvs(buf, t, 0);
	whole(buf, n, &hdr);
	tls_is(&hdr, false, "", "");
}
END_TEST

START_TEST(v2_tlvs_several)
{
	unsigned char buf[PROXY_HDR_MAX], t[PROXY_HDR_MAX], id[128];
	struct proxy_hdr hdr;
	size_t n = 0;

	/*
	 * HAProxy's other TLVs (ALPN, AUTHORITY, CRC32C, NOOP, UNIQUE_ID,
	 * NETNS), custom, experimental and future types, empty values, on
	 * both sides of the SSL TLV: all skipped unread.
	 */
	memset(id, 0xff, sizeof(id));
	n += tlv(t + n, 0x01, "\x04pop3", 5);
	n += text(t + n, 0x02, "mail.example.org");
	n += tlv(t + n, 0x03, "\x12\x34\x56\x78", 4);
	n += tlv(t + n, 0x04, NULL, 0);
	n += tlv(t + n, 0x05, id, sizeof(id));
	n += haproxy_ssl(t + n, 0x01);
	n += text(t + n, 0x30, "netns");
	n += tlv(t + n, 0xe0, "\0", 1);
	n += tlv(t + n, 0xf0, "\x20\x00\x05\x01\0\0\0\0", 8);
	n += tlv(t + n, 0xff, NULL, 0);
	n += tlv(t + n, 0x00, "\r\n", 2);
	n = with_tlvs(buf, t, n);
	whole(buf, n, &hdr);
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");

	/* The SSL TLV last, filling the header to its end. */
	n = tlv(t, 0x04, id, 7);
	n += haproxy_ssl(t + n, 0x01);
	n = with_tlvs(buf, t, n);
	whole(buf, n, &hdr);
	ck_assert(hdr.tls);
}
END_TEST

START_TEST(v2_tlvs_malformed)
{
	unsigned char buf[PROXY_HDR_MAX], t[PROXY_HDR_MAX], sub[512];
	size_t n, k;

	/* Fewer octets than a TLV's head, alone or after a good TLV. */
	for (k = 1; k < 3; k++) {
		memset(t, 0x20, 3);
		refused(buf, with_tlvs(buf, t, k), "v2-tlv-truncated");
		n = haproxy_ssl(t, 0x01);
		memset(t + n, 0x04, 3);
		refused(buf, with_tlvs(buf, t, n + k), "v2-tlv-truncated");
	}

	/*
	 * A length past the header's end, by one or by far; the client's
	 * bytes after the header are no part of it.
	 */
	n = haproxy_ssl(t, 0x01);
	refused(buf, with_tlvs(buf, t, n - 1), "v2-tlv-length");
	t[1] = 0xff;
	t[2] = 0xff;
	refused(buf, with_tlvs(buf, t, n), "v2-tlv-length");
	n = tlv(t, 0x04, NULL, 0);
	n += tlv(t + n, 0x05, "abcd", 4);
	t[n - 4 - 1] = 5;
	refused(buf, with_tlvs(buf, t, n), "v2-tlv-length");
	{
		/* As the reader sees it: the header with a command after. */
		struct proxy_hdr hdr;
		const char *why;
		size_t need;

		n = with_tlvs(buf, t, n);
		memcpy(buf + n, "USER me\r\n", 9);
		ck_assert_int_eq(parse_exact(buf, n + 9, &need, &hdr, &why),
		    PROXY_BAD);
		ck_assert_str_eq(why, "v2-tlv-length");
	}

	/* An SSL value too short for client and verify. */
	for (k = 0; k < 5; k++) {
		n = tlv(t, 0x20, "\x01\0\0\0", k);
		refused(buf, with_tlvs(buf, t, n), "v2-ssl-short");
	}

	/* Sub-TLVs: a head cut short, a length past the SSL value. */
	for (k = 1; k < 3; k++) {
		memcpy(sub, "\x21\x00\x07", 3);
		refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, k)),
		    "v2-ssl-truncated");
	}
	n = text(sub, 0x21, "TLSv1.3");
	refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n - 1)),
	    "v2-ssl-length");
	/*
	 * Past the SSL value but within the header: a sub-TLV may not
	 * reach into the TLV after its parent.
	 */
	k = ssl(t, 0x01, sub, n - 4);
	k += tlv(t + k, 0x04, "v1.3", 4);
	refused(buf, with_tlvs(buf, t, k), "v2-ssl-length");
	/* The same, where the SSL TLV says the client was plain. */
	refused(buf, with_tlvs(buf, t, ssl(t, 0x00, sub, n - 1)),
	    "v2-ssl-length");
	n = text(sub, 0x22, "example.org");
	sub[2] = 0xff;
	refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n)),
	    "v2-ssl-length");

	/* Twice: SSL, its version, its cipher. */
	n = haproxy_ssl(t, 0x01);
	n += haproxy_ssl(t + n, 0x01);
	refused(buf, with_tlvs(buf, t, n), "v2-ssl-twice");
	n = haproxy_ssl(t, 0x00);
	n += tlv(t + n, 0x04, NULL, 0);
	n += haproxy_ssl(t + n, 0x01);
	refused(buf, with_tlvs(buf, t, n), "v2-ssl-twice");
	n = text(sub, 0x21, "TLSv1.3");
	n += text(sub + n, 0x21, "TLSv1.3");
	refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n)), "v2-ssl-twice");
	n = text(sub, 0x23, "A");
	n += text(sub + n, 0x21, "TLSv1.2");
	n += text(sub + n, 0x23, "B");
	refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n)), "v2-ssl-twice");

	/* A version or cipher that is not a short US-ASCII name. */
	{
		static const unsigned char odd[] = {
			0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x7f, 0x80, 0xc3, 0xff
		};
		char name[POP3D_PROXY_TLS_TEXT_MAX + 2];

		for (size_t i = 0; i < sizeof(odd); i++) {
			unsigned char v[] = { 'T', 'L', 'S', odd[i] };

			n = tlv(sub, 0x21, v, sizeof(v));
			refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n)),
			    "v2-ssl-text");
			n = tlv(sub, 0x23, v, sizeof(v));
			refused(buf, with_tlvs(buf, t, ssl(t, 0x00, sub, n)),
			    "v2-ssl-text");
		}
		memset(name, 'x', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		n = text(sub, 0x23, name);
		refused(buf, with_tlvs(buf, t, ssl(t, 0x01, sub, n)),
		    "v2-ssl-text");
	}

	/*
	 * Each cut of a good header's TLV area short of its end (the
	 * length says where the header ends): refused, but where it falls
	 * between two TLVs.
	 */
	n = text(sub, 0x22, "cn");
	n += text(sub + n, 0x21, "TLSv1.3");
	k = tlv(t, 0x05, "id", 2);
	k += ssl(t + k, 0x01, sub, n);
	for (size_t cut = 1; cut < k; cut++) {
		struct proxy_hdr hdr;
		const char *why;
		size_t need;

		n = with_tlvs(buf, t, k - cut);
		if (k - cut == 5) {
			whole(buf, n, &hdr);
			ck_assert(!hdr.tls);
			continue;
		}
		ck_assert_int_eq(parse_exact(buf, n, &need, &hdr, &why),
		    PROXY_BAD);
		ck_assert_uint_eq(need, n);
		ck_assert(strncmp(why, "v2-tlv-", 7) == 0 ||
		    strncmp(why, "v2-ssl-", 7) == 0);
	}
}
END_TEST

START_TEST(empty_asks_for_one_octet)
{
	struct proxy_hdr hdr;
	const char *why;
	size_t need = 0;

	ck_assert_int_eq(proxy_parse((const unsigned char *)"", 0, &need,
	    &hdr, &why), PROXY_MORE);
	ck_assert_uint_eq(need, 1);
}
END_TEST

static bool
match4(const struct proxy_net *nets, size_t n, const char *addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return proxy_net_match(nets, n, (struct sockaddr *)&sin, sizeof(sin));
}

static bool
match6(const struct proxy_net *nets, size_t n, const char *addr)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return proxy_net_match(nets, n, (struct sockaddr *)&sin6,
	    sizeof(sin6));
}

START_TEST(trusted_networks)
{
	static const char *const bad[] = {
		"", "/8", "1.2.3.4/", "1.2.3.4/33", "::1/129", "1.2.3.4/08",
		"host.example", "1.2.3.4/ 8", "1.2.3.4/-1", "1.2.3.4/8x",
		"1.2.3", "10.0.0.1/8", "2001:db8::1/32", "192.0.2.128/24",
		"fe80::1%lo", "1.2.3.4/+8", "1.2.3.4/99999999999",
		"0:0:0:0:0:0:0:0:0/0", "[::1]"
	};
	struct proxy_net nets[8];
	struct sockaddr_un sun;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(proxy_net_parse(bad[i], &nets[0]) == -1,
		    "accepted %s", bad[i]);

	ck_assert_int_eq(proxy_net_parse("127.0.0.1", &nets[0]), 0);
	ck_assert(match4(nets, 1, "127.0.0.1"));
	ck_assert(!match4(nets, 1, "127.0.0.2"));
	ck_assert(match6(nets, 1, "::ffff:127.0.0.1"));	/* dual stack */
	ck_assert(!match6(nets, 1, "::1"));

	ck_assert_int_eq(proxy_net_parse("10.0.0.0/8", &nets[0]), 0);
	ck_assert_int_eq(proxy_net_parse("192.0.2.128/25", &nets[1]), 0);
	ck_assert_int_eq(proxy_net_parse("2001:db8::/32", &nets[2]), 0);
	ck_assert_int_eq(proxy_net_parse("::ffff:198.51.100.0/120", &nets[3]),
	    0);
	ck_assert(match4(nets, 4, "10.255.0.1"));
	ck_assert(!match4(nets, 4, "11.0.0.1"));
	ck_assert(match4(nets, 4, "192.0.2.200"));
	ck_assert(!match4(nets, 4, "192.0.2.100"));
	ck_assert(match6(nets, 4, "2001:db8:1::1"));
	ck_assert(!match6(nets, 4, "2001:db9::1"));
	ck_assert(match4(nets, 4, "198.51.100.7"));
	ck_assert(match6(nets, 4, "::ffff:198.51.100.7"));
	ck_assert(!match4(nets, 4, "198.51.101.7"));
	ck_assert(match6(nets, 4, "::ffff:10.1.2.3"));
	ck_assert(!match4(nets, 0, "10.0.0.1"));	/* an empty list */

	ck_assert_int_eq(proxy_net_parse("0.0.0.0/0", &nets[0]), 0);
	ck_assert(match4(nets, 1, "203.0.113.1"));
	ck_assert(!match6(nets, 1, "2001:db8::1"));
	ck_assert_int_eq(proxy_net_parse("::/0", &nets[0]), 0);
	ck_assert(match6(nets, 1, "2001:db8::1"));
	ck_assert(!match4(nets, 1, "203.0.113.1"));

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert(!proxy_net_match(nets, 1, (struct sockaddr *)&sun,
	    sizeof(sun)));
}
END_TEST

static pid_t writer = -1;

/* Ends the writer feed started, if it is still there. */
static void
reap(void)
{
	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
	writer = -1;
}

/*
 * A socket pair; a child writes pieces, with pauses, then exits or
 * waits to be killed (reap).  Returns the reading end.
 */
static int
feed(const void *const *pieces, const size_t *lens, size_t n, int pause_ms,
    bool close_after)
{
	int sv[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	reap();
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct timespec ts = { 0, pause_ms * 1000000L };

		close(sv[0]);
		for (size_t i = 0; i < n; i++) {
			if (write(sv[1], pieces[i], lens[i]) !=
			    (ssize_t)lens[i])
				_exit(1);
			nanosleep(&ts, NULL);
		}
		if (!close_after)
			pause();
		_exit(0);
	}
	writer = pid;
	close(sv[1]);
	return sv[0];
}

/* What is left to read on fd, for a little while. */
static size_t
rest(int fd, char *buf, size_t cap)
{
	struct timeval tv = { 0, 300000 };
	size_t have = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (have < cap && (n = read(fd, buf + have, cap - have)) > 0)
		have += (size_t)n;
	return have;
}

START_TEST(reader_leaves_the_client_bytes)
{
	static const char v1[] = "PROXY TCP4 192.0.2.1 198.51.100.2 5 110\r\n"
	    "USER me\r\nPASS x\r\n";
	unsigned char h2[64], body[36], h2s[PROXY_HDR_MAX], t[PROXY_HDR_MAX];
	const void *pieces[3];
	size_t lens[3], n;
	struct proxy_hdr hdr;
	const char *why;
	char buf[128];
	unsigned port;
	int fd;

	/* All at once: the header is taken, the commands are not. */
	pieces[0] = v1;
	lens[0] = sizeof(v1) - 1;
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), 0);
	ck_assert_str_eq(src(&hdr, &port), "192.0.2.1");
	n = rest(fd, buf, sizeof(buf));
	ck_assert_uint_eq(n, 17);
	ck_assert(memcmp(buf, "USER me\r\nPASS x\r\n", 17) == 0);
	close(fd);

	n = v2(h2, 0x21, 0x21, body, inet6(body, "2001:db8::7", 9));
	memcpy(h2 + n, "CAPA\r\n", 6);
	pieces[0] = h2;
	lens[0] = n + 6;
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), 0);
	ck_assert_str_eq(src(&hdr, &port), "2001:db8::7");
	ck_assert_uint_eq(rest(fd, buf, sizeof(buf)), 6);
	ck_assert(memcmp(buf, "CAPA\r\n", 6) == 0);
	close(fd);

	/* In pieces that split the head, the length and the addresses. */
	pieces[0] = h2;
	lens[0] = 5;
	pieces[1] = h2 + 5;
	lens[1] = 12;
	pieces[2] = h2 + 17;
	lens[2] = n - 17 + 6;
	fd = feed(pieces, lens, 3, 50, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), 0);
	ck_assert_str_eq(src(&hdr, &port), "2001:db8::7");
	ck_assert_uint_eq(rest(fd, buf, sizeof(buf)), 6);
	close(fd);

	/* With the SSL TLV, split inside it: TLS, and the command kept. */
	n = with_tlvs(h2s, t, haproxy_ssl(t, 0x01));
	memcpy(h2s + n, "CAPA\r\n", 6);
	pieces[0] = h2s;
	lens[0] = 16 + 12 + 3 + 5 + 4;
	pieces[1] = h2s + lens[0];
	lens[1] = n + 6 - lens[0];
	fd = feed(pieces, lens, 2, 50, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), 0);
	ck_assert_str_eq(src(&hdr, &port), "192.0.2.1");
	tls_is(&hdr, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
	ck_assert_uint_eq(rest(fd, buf, sizeof(buf)), 6);
	ck_assert(memcmp(buf, "CAPA\r\n", 6) == 0);
	close(fd);
	reap();
}
END_TEST

START_TEST(reader_refuses)
{
	static const char partial[] = "PROXY TCP4 192.0.2.1 ";
	static const char user[] = "USER me\r\n";
	static const char bad[] = "PROXY TCP4 192.0.2.1 198.51.100.2 5 0110"
	    "\r\nUSER me\r\n";
	unsigned char h2[PROXY_HDR_MAX], t[PROXY_HDR_MAX];
	const void *pieces[1];
	size_t lens[1], n;
	struct proxy_hdr hdr;
	const char *why;
	char rbuf[64];
	struct timespec t0, t1;
	long ms;
	int fd;

	/* Nothing, for longer than the deadline. */
	pieces[0] = partial;
	lens[0] = sizeof(partial) - 1;
	fd = feed(pieces, lens, 1, 0, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(proxy_read(fd, 300, &hdr, &why), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_str_eq(why, "timeout");
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	ck_assert_int_ge(ms, 290);
	ck_assert_int_lt(ms, 2000);
	close(fd);

	/* The proxy hung up halfway. */
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), -1);
	ck_assert_str_eq(why, "eof");
	close(fd);

	/* A command where the header should be. */
	pieces[0] = user;
	lens[0] = sizeof(user) - 1;
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), -1);
	ck_assert_str_eq(why, "no-header");
	close(fd);

	pieces[0] = bad;
	lens[0] = sizeof(bad) - 1;
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), -1);
	ck_assert_str_eq(why, "v1-port");
	close(fd);

	/* A TLV past the stated length: refused, the command not read. */
	n = haproxy_ssl(t, 0x01);
	n = with_tlvs(h2, t, n - 1);
	memcpy(h2 + n, "USER me\r\n", 9);
	pieces[0] = h2;
	lens[0] = n + 9;
	fd = feed(pieces, lens, 1, 0, true);
	ck_assert_int_eq(proxy_read(fd, 2000, &hdr, &why), -1);
	ck_assert_str_eq(why, "v2-tlv-length");
	ck_assert_uint_eq(rest(fd, rbuf, sizeof(rbuf)), 9);
	close(fd);
	reap();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("proxy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, v1_tcp4_tcp6_unknown);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v2_good);
	tcase_add_test(tc, v2_malformed);
	tcase_add_test(tc, v2_ssl_client_tls);
	tcase_add_test(tc, v2_ssl_client_plain);
	tcase_add_test(tc, v2_tlvs_several);
	tcase_add_test(tc, v2_tlvs_malformed);
	tcase_add_test(tc, empty_asks_for_one_octet);
	tcase_add_test(tc, trusted_networks);
	tcase_add_test(tc, reader_leaves_the_client_bytes);
	tcase_add_test(tc, reader_refuses);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
