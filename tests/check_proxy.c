/* check_proxy.c: the PROXY protocol through proxy.h: version 1 and 2
 * headers good and bad, every prefix of a good one (the reader must
 * never be asked to read past a header), trusted networks, and the
 * reader on a socket, which must leave the client's bytes unread. */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
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
		ck_assert_int_eq(proxy_parse(buf, k, &need, hdr, &why),
		    PROXY_MORE);
		ck_assert_uint_gt(need, k);
		ck_assert_uint_le(need, len);
	}
	need = 0;
	ck_assert_int_eq(proxy_parse(buf, len, &need, hdr, &why), PROXY_DONE);
	ck_assert_uint_eq(need, len);
	memcpy(buf + len, "USER me\r\n", 9);
	need = 0;
	ck_assert_int_eq(proxy_parse(buf, len + 9, &need, hdr, &why),
	    PROXY_DONE);
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

	ck_assert_msg(proxy_parse(buf, len, &need, &hdr, &why) == PROXY_BAD,
	    "accepted: %.*s", (int)len, (const char *)buf);
	ck_assert_str_eq(why, why_expected);
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

	/* TLVs after the addresses are skipped, up to the longest length. */
	memset(body, 0x04, sizeof(body));
	(void)inet4(body, "203.0.113.9", 1);
	n = v2(buf, 0x21, 0x11, body, 12 + 20);
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "203.0.113.9");
	n = v2(buf, 0x21, 0x11, body, POP3D_PROXY_V2_LEN_MAX);
	whole(buf, n, &hdr);
	ck_assert_str_eq(src(&hdr, &port), "203.0.113.9");

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
	unsigned char h2[64], body[36];
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
	reap();
}
END_TEST

START_TEST(reader_refuses)
{
	static const char partial[] = "PROXY TCP4 192.0.2.1 ";
	static const char user[] = "USER me\r\n";
	static const char bad[] = "PROXY TCP4 192.0.2.1 198.51.100.2 5 0110"
	    "\r\nUSER me\r\n";
	const void *pieces[1];
	size_t lens[1];
	struct proxy_hdr hdr;
	const char *why;
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
	tcase_add_test(tc, empty_asks_for_one_octet);
	tcase_add_test(tc, trusted_networks);
	tcase_add_test(tc, reader_leaves_the_client_bytes);
	tcase_add_test(tc, reader_refuses);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
