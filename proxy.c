/*
 * proxy.c: the PROXY protocol header a trusted proxy sends before the
 * client's first byte (see proxy.h).  Trusts none of its bytes: every
 * field is bounded and parsed strictly, addresses only through
 * inet_pton or as fixed-size binary fields, each TLV's length only
 * within what holds it, and nothing is read past the header, so the
 * client's commands stay the session's to read.
 * Never logs; the caller does, once.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

static const unsigned char v1_sig[] = "PROXY ";
static const unsigned char v2_sig[12] = {
	'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
};

/* ::ffff:0:0/96, the IPv4-mapped IPv6 addresses (RFC 4291 s.2.5.5.2). */
static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* s.2.2: the 13th to 16th octets, and the sizes of address blocks. */
#define V2_HEAD		16
#define V2_VERSION	0x20
#define V2_LOCAL	0x0
#define V2_PROXY	0x1
#define V2_AF_UNSPEC	0x0
#define V2_AF_INET	0x1
#define V2_AF_INET6	0x2
#define V2_AF_UNIX	0x3
#define V2_STREAM	0x1
#define V2_INET_LEN	12	/* two IPv4 addresses, two ports */
#define V2_INET6_LEN	36	/* two IPv6 addresses, two ports */
#define V2_UNIX_LEN	216	/* two 108-octet paths */

/* s.2.2.6: the one TLV read, and the sub-TLVs of it that are logged. */
#define TLV_HEAD		3	/* type, length (16 bits) */
#define PP2_TYPE_SSL		0x20
#define PP2_SSL_HEAD		5	/* client (8 bits), verify (32) */
#define PP2_CLIENT_SSL		0x01
#define PP2_SUBTYPE_SSL_VERSION	0x21
#define PP2_SUBTYPE_SSL_CIPHER	0x23

/* The bits of an address past a prefix are all 0 (check) or made so. */
static bool
host_bits(unsigned char *a, size_t alen, unsigned prefix, bool clear)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 :
		    prefix <= 8 * i ? 0 : prefix - 8 * (unsigned)i;
		unsigned char mask = (unsigned char)(0xff00u >> keep);

		if (clear)
			a[i] &= mask;
		else if ((a[i] & ~mask & 0xff) != 0)
			return true;
	}
	return false;
}

/* A decimal number of 1 to 5 digits, no leading zero, at most max. */
static int
parse_small(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
proxy_net_parse(const char *s, struct proxy_net *net)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned prefix, max;

	memset(net, 0, sizeof(*net));
	if (alen == 0 || alen >= sizeof(text))
		return -1;
	memcpy(text, s, alen);
	text[alen] = '\0';
	if (inet_pton(AF_INET, text, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else
		return -1;
	prefix = max;
	if (slash != NULL &&
	    parse_small(slash + 1, strlen(slash + 1), max, &prefix) == -1)
		return -1;
	if (host_bits(net->addr, max / 8, prefix, false))
		return -1;
	net->prefix = prefix;
	if (net->family == AF_INET6 && prefix >= 96 &&
	    memcmp(net->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->family = AF_INET;
		net->prefix = prefix - 96;
	}
	return 0;
}

bool
proxy_net_match(const struct proxy_net *nets, size_t n,
    const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	unsigned char a[16];
	size_t alen;
	int family;

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a, &sin->sin_addr, 4);
		family = AF_INET;
		alen = 4;
	} else if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(a, &sin6->sin6_addr.s6_addr[12], 4);
			family = AF_INET;
			alen = 4;
		} else {
			memcpy(a, &sin6->sin6_addr, 16);
			family = AF_INET6;
			alen = 16;
		}
	} else
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char b[16];

		if (nets[i].family != family)
			continue;
		memcpy(b, a, alen);
		(void)host_bits(b, alen, nets[i].prefix, true);
		if (memcmp(b, nets[i].addr, alen) == 0)
			return true;
	}
	return false;
}

static enum proxy_res
bad(const char **why, const char *what)
{
	*why = what;
	return PROXY_BAD;
}

/*
 * The next field of a v1 line: the bytes of *p up to a space (which is
 * skipped) or, for the last field, up to end.  -1 when it is empty.
 */
static int
v1_field(const char **p, const char *end, bool last, const char **f,
    size_t *flen)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));

	if (last ? sp != NULL : sp == NULL)
		return -1;
	*f = *p;
	*flen = (size_t)((last ? end : sp) - *p);
	*p = last ? end : sp + 1;
	return *flen == 0 ? -1 : 0;
}

static int
v1_addr(int family, const char *f, size_t flen, void *addr)
{
	char text[INET6_ADDRSTRLEN];

	if (flen >= sizeof(text))
		return -1;
	memcpy(text, f, flen);
	text[flen] = '\0';
	return inet_pton(family, text, addr) == 1 ? 0 : -1;
}

/* s.2.1: one line; buf[0..len) holds it and its CRLF, and no NUL. */
static enum proxy_res
v1_line(const unsigned char *buf, size_t len, struct proxy_hdr *hdr,
    const char **why)
{
	const char *p = (const char *)buf + sizeof(v1_sig) - 1;
	const char *end = (const char *)buf + len - 2;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hdr->src;
	struct sockaddr_in *sin = (struct sockaddr_in *)&hdr->src;
	unsigned char dst[16];
	const char *f;
	size_t flen;
	unsigned sport, dport;
	int family;

	if (memchr(buf, '\0', len) != NULL)
		return bad(why, "v1-nul");
	if (end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (end - p == 7 || p[7] == ' ')) {
		/* The rest is for the proxy's own use: ignored. */
		hdr->local = true;
		return PROXY_DONE;
	}
	if (v1_field(&p, end, false, &f, &flen) == -1)
		return bad(why, "v1-protocol");
	if (flen == 4 && memcmp(f, "TCP4", 4) == 0)
		family = AF_INET;
	else if (flen == 4 && memcmp(f, "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return bad(why, "v1-protocol");
	memset(&hdr->src, 0, sizeof(hdr->src));
	if (v1_field(&p, end, false, &f, &flen) == -1 ||
	    v1_addr(family, f, flen, family == AF_INET ?
	    (void *)&sin->sin_addr : (void *)&sin6->sin6_addr) == -1 ||
	    v1_field(&p, end, false, &f, &flen) == -1 ||
	    v1_addr(family, f, flen, dst) == -1)
		return bad(why, "v1-address");
	if (v1_field(&p, end, false, &f, &flen) == -1 ||
	    parse_small(f, flen, 65535, &sport) == -1 ||
	    v1_field(&p, end, true, &f, &flen) == -1 ||
	    parse_small(f, flen, 65535, &dport) == -1)
		return bad(why, "v1-port");
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)sport);
		hdr->srclen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)sport);
		hdr->srclen = sizeof(*sin6);
	}
	return PROXY_DONE;
}

static enum proxy_res
v1(const unsigned char *buf, size_t len, size_t *need,
    struct proxy_hdr *hdr, const char **why)
{
	size_t sig = sizeof(v1_sig) - 1;
	const unsigned char *lf;

	if (memcmp(buf, v1_sig, len < sig ? len : sig) != 0)
		return bad(why, "v1-signature");
	lf = memchr(buf, '\n', len < POP3D_PROXY_V1_MAX ? len :
	    POP3D_PROXY_V1_MAX);
	if (lf == NULL) {
		if (len >= POP3D_PROXY_V1_MAX)
			return bad(why, "v1-too-long");
		/* One byte at a time: only the LF tells where it ends. */
		*need = len + 1;
		return PROXY_MORE;
	}
	*need = (size_t)(lf - buf) + 1;
	if (*need < sig + 2 || lf[-1] != '\r' ||
	    memchr(buf, '\r', *need - 2) != NULL)
		return bad(why, "v1-line-end");
	hdr->version = 1;
	hdr->local = false;
	return v1_line(buf, *need, hdr, why);
}

/* One TLV: its type, and its value in the header's bytes. */
struct tlv {
	unsigned		 type;
	const unsigned char	*val;
	size_t			 len;
};

/*
 * Takes the TLV at *p and steps *p past it: 0, or -1 (*why is trunc or
 * overlong) when fewer than TLV_HEAD octets are left before end, or
 * its value runs past end.  Never reads at or past end.
 */
static int
tlv_next(const unsigned char **p, const unsigned char *end, struct tlv *t,
    const char *trunc, const char *overlong, const char **why)
{
	size_t left = (size_t)(end - *p);

	if (left < TLV_HEAD) {
		*why = trunc;
		return -1;
	}
	t->type = (*p)[0];
	t->len = (size_t)(*p)[1] << 8 | (*p)[2];
	if (t->len > left - TLV_HEAD) {
		*why = overlong;
		return -1;
	}
	t->val = *p + TLV_HEAD;
	*p = t->val + t->len;
	return 0;
}

/*
 * A sub-TLV's name (a version, a cipher) into out, which holds
 * POP3D_PROXY_TLS_TEXT_MAX + 1; *seen says whether one came before.
 * Bad when it came twice, is longer or is not US-ASCII text.
 */
static enum proxy_res
ssl_text(const struct tlv *t, bool *seen, char *out, const char **why)
{
	if (*seen)
		return bad(why, "v2-ssl-twice");
	*seen = true;
	if (t->len > POP3D_PROXY_TLS_TEXT_MAX)
		return bad(why, "v2-ssl-text");
	for (size_t i = 0; i < t->len; i++)
		if (t->val[i] < 0x20 || t->val[i] > 0x7e)
			return bad(why, "v2-ssl-text");
	memcpy(out, t->val, t->len);
	out[t->len] = '\0';
	return PROXY_DONE;
}

/* s.2.2.6: struct pp2_tlv_ssl, the value of one PP2_TYPE_SSL. */
static enum proxy_res
v2_ssl(const struct tlv *ssl, struct proxy_hdr *hdr, const char **why)
{
	const unsigned char *p, *end = ssl->val + ssl->len;
	bool version = false, cipher = false;
	enum proxy_res r;
	struct tlv t;

	if (ssl->len < PP2_SSL_HEAD)
		return bad(why, "v2-ssl-short");
	/* The verify field is about client certificates: none are used. */
	hdr->tls = (ssl->val[0] & PP2_CLIENT_SSL) != 0;
	for (p = ssl->val + PP2_SSL_HEAD; p < end; ) {
		if (tlv_next(&p, end, &t, "v2-ssl-truncated", "v2-ssl-length",
		    why) == -1)
			return PROXY_BAD;
		if (t.type == PP2_SUBTYPE_SSL_VERSION)
			r = ssl_text(&t, &version, hdr->tls_version, why);
		else if (t.type == PP2_SUBTYPE_SSL_CIPHER)
			r = ssl_text(&t, &cipher, hdr->tls_cipher, why);
		else
			continue;
		if (r != PROXY_DONE)
			return r;
	}
	return PROXY_DONE;
}

/*
 * s.2.2: the TLVs of a PROXY header, p to end.  Types pop3d does not
 * read are skipped, as the protocol allows, but each must still be a
 * whole TLV: a header that does not add up is not trusted in part.
 */
static enum proxy_res
v2_tlvs(const unsigned char *p, const unsigned char *end,
    struct proxy_hdr *hdr, const char **why)
{
	bool ssl = false;
	struct tlv t;

	while (p < end) {
		if (tlv_next(&p, end, &t, "v2-tlv-truncated", "v2-tlv-length",
		    why) == -1)
			return PROXY_BAD;
		if (t.type != PP2_TYPE_SSL)
			continue;
		/* Two could disagree on whether the client spoke TLS. */
		if (ssl)
			return bad(why, "v2-ssl-twice");
		ssl = true;
		if (v2_ssl(&t, hdr, why) == PROXY_BAD)
			return PROXY_BAD;
	}
	return PROXY_DONE;
}

static enum proxy_res
v2(const unsigned char *buf, size_t len, size_t *need,
    struct proxy_hdr *hdr, const char **why)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hdr->src;
	struct sockaddr_in *sin = (struct sockaddr_in *)&hdr->src;
	size_t alen, addrs;

	if (memcmp(buf, v2_sig, len < sizeof(v2_sig) ? len :
	    sizeof(v2_sig)) != 0)
		return bad(why, "v2-signature");
	if (len < V2_HEAD) {
		/* Every v2 header has its 16 octets. */
		*need = V2_HEAD;
		return PROXY_MORE;
	}
	if ((buf[12] & 0xf0) != V2_VERSION)
		return bad(why, "v2-version");
	if ((buf[12] & 0x0f) != V2_LOCAL && (buf[12] & 0x0f) != V2_PROXY)
		return bad(why, "v2-command");
	alen = (size_t)buf[14] << 8 | buf[15];
	if (alen > POP3D_PROXY_V2_LEN_MAX)
		return bad(why, "v2-too-long");
	*need = V2_HEAD + alen;
	if (len < *need)
		return PROXY_MORE;
	hdr->version = 2;
	hdr->local = true;
	if ((buf[12] & 0x0f) == V2_LOCAL)
		return PROXY_DONE;	/* the whole block is to be ignored */
	memset(&hdr->src, 0, sizeof(hdr->src));
	switch (buf[13] >> 4) {
	case V2_AF_UNSPEC:
		addrs = 0;		/* no address, and no client */
		break;
	case V2_AF_INET:
		if ((buf[13] & 0x0f) != V2_STREAM)
			return bad(why, "v2-transport");
		if (alen < V2_INET_LEN)
			return bad(why, "v2-short");
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, buf + V2_HEAD, 4);
		memcpy(&sin->sin_port, buf + V2_HEAD + 8, 2);
		hdr->srclen = sizeof(*sin);
		hdr->local = false;
		addrs = V2_INET_LEN;
		break;
	case V2_AF_INET6:
		if ((buf[13] & 0x0f) != V2_STREAM)
			return bad(why, "v2-transport");
		if (alen < V2_INET6_LEN)
			return bad(why, "v2-short");
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, buf + V2_HEAD, 16);
		memcpy(&sin6->sin6_port, buf + V2_HEAD + 32, 2);
		hdr->srclen = sizeof(*sin6);
		hdr->local = false;
		addrs = V2_INET6_LEN;
		break;
	case V2_AF_UNIX:
		if ((buf[13] & 0x0f) != V2_STREAM)
			return bad(why, "v2-transport");
		if (alen < V2_UNIX_LEN)
			return bad(why, "v2-short");
		addrs = V2_UNIX_LEN;	/* a local client: no address */
		break;
	default:
		return bad(why, "v2-family");
	}
	if (v2_tlvs(buf + V2_HEAD + addrs, buf + V2_HEAD + alen, hdr,
	    why) == PROXY_BAD) {
		hdr->tls = false;	/* fail closed, whatever came first */
		return PROXY_BAD;
	}
	return PROXY_DONE;
}

enum proxy_res
proxy_parse(const unsigned char *buf, size_t len, size_t *need,
    struct proxy_hdr *hdr, const char **why)
{
	*why = "";
	hdr->tls = false;
	hdr->tls_version[0] = hdr->tls_cipher[0] = '\0';
	if (len == 0) {
		*need = 1;
		return PROXY_MORE;
	}
	if (buf[0] == v1_sig[0])
		return v1(buf, len, need, hdr, why);
	if (buf[0] == v2_sig[0])
		return v2(buf, len, need, hdr, why);
	return bad(why, "no-header");
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
proxy_read(int fd, int timeout_ms, struct proxy_hdr *hdr, const char **why)
{
	unsigned char buf[PROXY_HDR_MAX];
	long long deadline = now_ms() + timeout_ms;
	size_t have = 0, need = 0;
	struct pollfd pfd;
	long long left;
	ssize_t n;

	for (;;) {
		switch (proxy_parse(buf, have, &need, hdr, why)) {
		case PROXY_DONE:
			return 0;
		case PROXY_BAD:
			return -1;
		case PROXY_MORE:
			break;
		}
		if (need <= have || need > sizeof(buf)) {
			/* NEVER: proxy_parse promises a need past have. */
			*why = "parser";
			return -1;
		}
		if ((left = deadline - now_ms()) <= 0) {
			*why = "timeout";
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			*why = "read-error";
			return -1;
		}
		if (pfd.revents == 0)
			continue;	/* the deadline is checked above */
		n = read(fd, buf + have, need - have);
		if (n == 0) {
			*why = "eof";
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			*why = "read-error";
			return -1;
		}
		have += (size_t)n;
	}
}
