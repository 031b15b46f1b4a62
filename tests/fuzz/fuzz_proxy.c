/*
 * fuzz_proxy.c: PROXY protocol headers (proxy.h), as a relay or anyone
 * able to reach the port may send them.  Checks proxy_parse's contract:
 * a whole header is at most what was given and no longer than
 * PROXY_HDR_MAX; each shorter prefix of it is a good start whose *need
 * never passes the header's end (so a reader never eats the client's
 * first command); the same header alone parses the same; the client
 * address is what the header says (read here independently: v1's text
 * through inet_pton, v2's fixed fields); a v2 PROXY header's TLVs are
 * taken exactly when a model of s.2.2 and s.2.2.6 written here finds
 * them whole, with the same PP2_CLIENT_SSL and version and cipher, and
 * a header refused for its TLVs is one the model finds malformed; and
 * proxy_read, on the bytes as a file, agrees and stops exactly at the
 * header's end.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "proxy.h"

static const unsigned char v2_sig[12] = {
	'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
};

static void
same_hdr(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	if (a->version != b->version || a->local != b->local)
		fz_fail("proxy: one header, two readings");
	if (!a->local && (a->srclen != b->srclen ||
	    memcmp(&a->src, &b->src, a->srclen) != 0))
		fz_fail("proxy: one header, two addresses");
	if (a->tls != b->tls || strcmp(a->tls_version, b->tls_version) != 0 ||
	    strcmp(a->tls_cipher, b->tls_cipher) != 0)
		fz_fail("proxy: one header, two TLS readings");
}

/* What a v2 header's TLVs say, by the model below. */
struct tlv_model {
	bool	tls;
	char	version[POP3D_PROXY_TLS_TEXT_MAX + 1];
	char	cipher[POP3D_PROXY_TLS_TEXT_MAX + 1];
};

/* A version or cipher: at most the limit, all of it 0x20..0x7E. */
static bool
model_text(const uint8_t *v, size_t len, char *out)
{
	if (len > POP3D_PROXY_TLS_TEXT_MAX)
		return false;
	for (size_t k = 0; k < len; k++)
		if (v[k] < 0x20 || v[k] > 0x7e)
			return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

/*
 * s.2.2: a[0..n) is whole TLVs (type, 16-bit length, value), with at
 * most one PP2_TYPE_SSL (0x20): a client octet and a 32-bit verify,
 * then whole sub-TLVs within its value, at most one version (0x21) and
 * one cipher (0x23), each text.  Walks by offsets, as the parser does
 * not.  Whether all that holds, and what it says in *m.
 */
static bool
model_tlvs(const uint8_t *a, size_t n, struct tlv_model *m)
{
	bool ssl = false, ver = false, ciph = false;
	size_t i, len, j, end, sub;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i += 3 + len) {
		if (i + 3 > n)
			return false;
		len = (size_t)a[i + 1] * 256 + a[i + 2];
		if (i + 3 + len > n)
			return false;
		if (a[i] != 0x20)
			continue;
		if (ssl || len < 5)
			return false;
		ssl = true;
		m->tls = (a[i + 3] & 0x01) != 0;
		end = i + 3 + len;
		for (j = i + 3 + 5; j < end; j += 3 + sub) {
			if (j + 3 > end)
				return false;
			sub = (size_t)a[j + 1] * 256 + a[j + 2];
			if (j + 3 + sub > end)
				return false;
			if (a[j] == 0x21) {
				if (ver || !model_text(a + j + 3, sub,
				    m->version))
					return false;
				ver = true;
			} else if (a[j] == 0x23) {
				if (ciph || !model_text(a + j + 3, sub,
				    m->cipher))
					return false;
				ciph = true;
			}
		}
	}
	return true;
}

/*
 * Where a whole v2 PROXY header h[0..len) holds TLVs: after the
 * addresses of its family, or -1 for LOCAL (whose block is ignored) or
 * a family with no TLVs to read.
 */
static long
tlv_start(const uint8_t *h, size_t len)
{
	static const size_t addrs[] = { 0, 12, 36, 216 };
	int fam = h[13] >> 4;

	if ((h[12] & 0x0f) != 1 || fam > 3 || 16 + addrs[fam] > len)
		return -1;
	return (long)(16 + addrs[fam]);
}

/* A string field of hdr ends within it, and holds only 0x20..0x7E. */
static void
check_text(const char *field, const char *what)
{
	const char *nul = memchr(field, '\0', POP3D_PROXY_TLS_TEXT_MAX + 1);

	if (nul == NULL)
		fz_fail("proxy: the TLS %s is not terminated", what);
	for (const char *c = field; c < nul; c++)
		if (*c < 0x20 || *c > 0x7e)
			fz_fail("proxy: the TLS %s holds 0x%02x", what,
			    (unsigned char)*c);
}

/* A whole v2 header's TLS reading is the model's. */
static void
check_tlvs(const uint8_t *h, size_t len, const struct proxy_hdr *hdr)
{
	struct tlv_model m;
	long at = tlv_start(h, len);

	check_text(hdr->tls_version, "version");
	check_text(hdr->tls_cipher, "cipher");
	if (at < 0) {
		if (hdr->tls || hdr->tls_version[0] != '\0' ||
		    hdr->tls_cipher[0] != '\0')
			fz_fail("proxy: TLS read where no TLV is read");
		return;
	}
	if (!model_tlvs(h + at, len - (size_t)at, &m))
		fz_fail("proxy: TLVs taken that do not add up");
	if (m.tls != hdr->tls || strcmp(m.version, hdr->tls_version) != 0 ||
	    strcmp(m.cipher, hdr->tls_cipher) != 0)
		fz_fail("proxy: TLS %d \"%s\" \"%s\" read as %d \"%s\" \"%s\"",
		    m.tls, m.version, m.cipher, hdr->tls, hdr->tls_version,
		    hdr->tls_cipher);
}

/*
 * A header refused for its TLVs (why "v2-tlv-..." or "v2-ssl-...") is
 * a whole v2 PROXY header whose TLVs the model finds malformed, and
 * need is its length.
 */
static void
check_tlvs_refused(const uint8_t *data, size_t size, size_t need,
    const char *why)
{
	struct tlv_model m;
	long at;

	if (strncmp(why, "v2-tlv-", 7) != 0 && strncmp(why, "v2-ssl-", 7) != 0)
		return;
	if (size < 16 || need > size ||
	    need != 16 + ((size_t)data[14] << 8 | data[15]))
		fz_fail("proxy: %s before the header was whole", why);
	if ((at = tlv_start(data, need)) < 0)
		fz_fail("proxy: %s where no TLV is read", why);
	if (model_tlvs(data + at, need - (size_t)at, &m))
		fz_fail("proxy: %s for TLVs that add up", why);
}

/* The v1 source address and port, read from the text. */
static void
check_v1(const uint8_t *h, size_t len, const struct proxy_hdr *hdr)
{
	char line[128], *f[6], *save = NULL;
	unsigned char a[16];
	int n = 0, family;
	unsigned long port;

	if (len > sizeof(line) || len < 2)
		fz_fail("proxy: a v1 header of %zu octets", len);
	if (hdr->tls || hdr->tls_version[0] != '\0' ||
	    hdr->tls_cipher[0] != '\0')
		fz_fail("proxy: TLS read from a v1 header");
	memcpy(line, h, len - 2);
	line[len - 2] = '\0';
	for (char *t = strtok_r(line, " ", &save); t != NULL && n < 6;
	    t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n >= 2 && strcmp(f[1], "UNKNOWN") == 0) {
		if (!hdr->local)
			fz_fail("proxy: UNKNOWN gave an address");
		return;
	}
	if (hdr->local || n != 6)
		fz_fail("proxy: a v1 header of %d fields taken", n);
	family = strcmp(f[1], "TCP4") == 0 ? AF_INET : AF_INET6;
	if (inet_pton(family, f[2], a) != 1)
		fz_fail("proxy: v1 source %s is no address", f[2]);
	port = strtoul(f[4], NULL, 10);
	if (family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&hdr->src;

		if (s->sin_family != AF_INET || hdr->srclen != sizeof(*s) ||
		    memcmp(&s->sin_addr, a, 4) != 0 ||
		    ntohs(s->sin_port) != port)
			fz_fail("proxy: v1 source is not %s:%lu", f[2], port);
	} else {
		const struct sockaddr_in6 *s = (const void *)&hdr->src;

		if (s->sin6_family != AF_INET6 || hdr->srclen != sizeof(*s) ||
		    memcmp(&s->sin6_addr, a, 16) != 0 ||
		    ntohs(s->sin6_port) != port)
			fz_fail("proxy: v1 source is not [%s]:%lu", f[2], port);
	}
}

/* The v2 source address and port, from their fixed places. */
static void
check_v2(const uint8_t *h, size_t len, const struct proxy_hdr *hdr)
{
	int cmd = h[12] & 0x0f, fam = h[13] >> 4;

	if (len < 16 || memcmp(h, v2_sig, 12) != 0 || (h[12] & 0xf0) != 0x20)
		fz_fail("proxy: a v2 header without its head");
	if (len != 16 + ((size_t)h[14] << 8 | h[15]))
		fz_fail("proxy: a v2 header of the wrong length");
	check_tlvs(h, len, hdr);
	if (cmd == 0 || fam == 0 || fam == 3) {
		if (!hdr->local)
			fz_fail("proxy: LOCAL, UNSPEC or UNIX gave an address");
		return;
	}
	if (hdr->local || (h[13] & 0x0f) != 1)
		fz_fail("proxy: v2 family %d taken as %s", h[13],
		    hdr->local ? "local" : "an address");
	if (fam == 1) {
		const struct sockaddr_in *s = (const void *)&hdr->src;

		if (len < 16 + 12 || s->sin_family != AF_INET ||
		    hdr->srclen != sizeof(*s) ||
		    memcmp(&s->sin_addr, h + 16, 4) != 0 ||
		    memcmp(&s->sin_port, h + 24, 2) != 0)
			fz_fail("proxy: v2 IPv4 source misread");
	} else if (fam == 2) {
		const struct sockaddr_in6 *s = (const void *)&hdr->src;

		if (len < 16 + 36 || s->sin6_family != AF_INET6 ||
		    hdr->srclen != sizeof(*s) ||
		    memcmp(&s->sin6_addr, h + 16, 16) != 0 ||
		    memcmp(&s->sin6_port, h + 48, 2) != 0)
			fz_fail("proxy: v2 IPv6 source misread");
	} else
		fz_fail("proxy: v2 family %d taken", fam);
}

/* proxy_read over the bytes as a file: same verdict, exact stop. */
static void
check_read(const uint8_t *data, size_t size, enum proxy_res r, size_t need,
    const struct proxy_hdr *hdr)
{
	struct proxy_hdr got;
	const char *why = NULL;
	off_t at;
	int fd, rr;

	if ((fd = memfd_create("pop3d-fuzz-proxy", MFD_CLOEXEC)) == -1)
		fz_fail("memfd_create: %s", strerror(errno));
	if ((size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		fz_fail("memfd: %s", strerror(errno));
	memset(&got, 0, sizeof(got));
	rr = proxy_read(fd, 1000, &got, &why);
	at = lseek(fd, 0, SEEK_CUR);
	close(fd);
	if (r == PROXY_DONE) {
		if (rr != 0)
			fz_fail("proxy_read refused a whole header: %s", why);
		if ((size_t)at != need)
			fz_fail("proxy_read stopped at %jd, the header ends at "
			    "%zu", (intmax_t)at, need);
		same_hdr(hdr, &got);
	} else {
		if (rr == 0)
			fz_fail("proxy_read took what proxy_parse did not");
		if (why == NULL || *why == '\0')
			fz_fail("proxy_read failed without a reason");
		if (r == PROXY_MORE && strcmp(why, "eof") != 0)
			fz_fail("proxy_read: %s on a good start", why);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr hdr, again;
	const char *why = NULL;
	size_t need = 0, need2;
	enum proxy_res r, r2;

	memset(&hdr, 0, sizeof(hdr));
	r = proxy_parse(data, size, &need, &hdr, &why);
	if (why == NULL)
		fz_fail("proxy_parse left why unset");
	switch (r) {
	case PROXY_BAD:
		if (*why == '\0' || strchr(why, ' ') != NULL)
			fz_fail("proxy: refused with reason \"%s\"", why);
		if (hdr.tls)
			fz_fail("proxy: refused (%s), yet TLS", why);
		check_tlvs_refused(data, size, need, why);
		break;
	case PROXY_MORE:
		if (need <= size || need > PROXY_HDR_MAX)
			fz_fail("proxy: MORE with need %zu of %zu", need, size);
		break;
	case PROXY_DONE:
		if (need == 0 || need > size || need > PROXY_HDR_MAX)
			fz_fail("proxy: a header of %zu in %zu", need, size);
		if (hdr.version == 1)
			check_v1(data, need, &hdr);
		else if (hdr.version == 2)
			check_v2(data, need, &hdr);
		else
			fz_fail("proxy: version %d", hdr.version);
		/* The header alone, and every prefix of it. */
		memset(&again, 0, sizeof(again));
		if (proxy_parse(data, need, &need2, &again, &why) !=
		    PROXY_DONE || need2 != need)
			fz_fail("proxy: the header alone does not parse");
		same_hdr(&hdr, &again);
		for (size_t k = 0; k < need; k++) {
			if (k > 64 && k < need - 64 && k % 61 != 0)
				continue;	/* the ends, and a sample */
			r2 = proxy_parse(data, k, &need2, &again, &why);
			if (r2 != PROXY_MORE || need2 <= k || need2 > need)
				fz_fail("proxy: the prefix of %zu octets of a "
				    "%zu-octet header: %d, need %zu", k, need,
				    (int)r2, need2);
		}
		break;
	default:
		fz_fail("proxy_parse returned %d", (int)r);
	}
	check_read(data, size, r, need, &hdr);
	return 0;
}
