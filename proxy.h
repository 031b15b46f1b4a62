/*
 * proxy.h: the PROXY protocol, versions 1 and 2 (HAProxy's
 * proxy-protocol.txt), by which a load balancer or TLS proxy in front of
 * pop3d names the client it relays.  A header is believed only from a
 * proxy the admin named (--proxy-from); the caller checks that before
 * reading one.
 */
#ifndef POP3D_PROXY_H
#define POP3D_PROXY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

#include "params.h"

/* The most a header may take: a v2 head and the length it may state. */
#define PROXY_HDR_MAX	(16 + POP3D_PROXY_V2_LEN_MAX)

/* A network whose hosts may send a header: an address and a prefix. */
struct proxy_net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network order; AF_INET: 4 octets */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

/*
 * Parses "ADDR" (one host) or "ADDR/PREFIX": a numeric IPv4 or IPv6
 * address, and a prefix length in decimal (at most 32 or 128) with no
 * bit of the address set past it.  An IPv4-mapped IPv6 network of a
 * /96 or longer is kept as the IPv4 network it names.  Returns 0, or -1
 * when s is not such a network.
 */
int	proxy_net_parse(const char *s, struct proxy_net *net)
	    __attribute__((warn_unused_result));

/*
 * Whether the address sa is in one of the n networks.  An IPv4-mapped
 * IPv6 address (a dual-stack listener's IPv4 client) is taken as IPv4.
 * Any other family is in none.
 */
bool	proxy_net_match(const struct proxy_net *nets, size_t n,
	    const struct sockaddr *sa, socklen_t len);

enum proxy_res {
	PROXY_DONE,	/* a whole header */
	PROXY_MORE,	/* a good start: read on */
	PROXY_BAD	/* not a header pop3d takes */
};

struct proxy_hdr {
	int			version;	/* 1 or 2 */
	/*
	 * No client address to take: a v2 LOCAL header (the proxy's own
	 * health check), v1 UNKNOWN, or a v2 family of AF_UNSPEC or
	 * AF_UNIX.  The connection's own peer stands, as the protocol
	 * says.
	 */
	bool			local;
	struct sockaddr_storage	src;		/* unless local: the client */
	socklen_t		srclen;
	/*
	 * A v2 PROXY header's PP2_TYPE_SSL TLV (s.2.2.6) with the
	 * PP2_CLIENT_SSL bit: the client spoke TLS to the proxy.  False
	 * for version 1, a LOCAL header, no such TLV, or the bit clear.
	 */
	bool			tls;
	/*
	 * That TLV's PP2_SUBTYPE_SSL_VERSION and PP2_SUBTYPE_SSL_CIPHER,
	 * for the log: "" when not sent, else at most
	 * POP3D_PROXY_TLS_TEXT_MAX octets in 0x20..0x7E (still to be
	 * escaped: they are the proxy's words, not pop3d's).
	 */
	char			tls_version[POP3D_PROXY_TLS_TEXT_MAX + 1];
	char			tls_cipher[POP3D_PROXY_TLS_TEXT_MAX + 1];
};

/*
 * Parses the bytes buf[0..len) of a connection as the start of a PROXY
 * header; a pure function of its input, with no limit on what it is
 * given.  Returns:
 *
 *  PROXY_DONE: buf begins with one whole header, *need octets long
 *   (any bytes after it are the client's), and *hdr describes it.
 *  PROXY_MORE: buf is the start of a header that is not complete, and
 *   the header is at least *need octets long.  *need never exceeds the
 *   length of any header that starts with buf, so a reader that reads
 *   *need - len more octets never reads a byte past the header.
 *  PROXY_BAD: buf cannot start a header pop3d takes; *why says why, a
 *   constant word for the log ("v1-address", "v2-signature", ...), and
 *   hdr->tls is false.
 *
 * Version 1 (s.2.1): "PROXY TCP4|TCP6 SRC DST SPORT DPORT" or "PROXY
 * UNKNOWN[ ...]", and CRLF, at most 107 octets in all; fields are
 * separated by one space, addresses are numeric (inet_pton) in the
 * family named, and ports are 0..65535 in decimal without leading zeros.
 * Version 2 (s.2.2): the 12-octet signature, version 2, command LOCAL or
 * PROXY, a family and transport (TCP over IPv4 or IPv6, AF_UNSPEC or
 * AF_UNIX), a length of at most POP3D_PROXY_V2_LEN_MAX that holds the
 * family's addresses, and TLVs.  A LOCAL header's block is ignored
 * whole, as s.2.2 says.  After a PROXY header's addresses, the rest of
 * the length must be whole TLVs (a type, a 16-bit length, that value);
 * types other than PP2_TYPE_SSL are skipped.  PP2_TYPE_SSL, at most
 * once, holds a client octet, a 32-bit verify and whole sub-TLVs, of
 * which PP2_SUBTYPE_SSL_VERSION and PP2_SUBTYPE_SSL_CIPHER, each at
 * most once, fill hdr->tls_version and hdr->tls_cipher, and others are
 * skipped.  Anything else in them ("v2-tlv-...", "v2-ssl-...") is a
 * bad header.
 */
enum proxy_res	proxy_parse(const unsigned char *buf, size_t len,
		    size_t *need, struct proxy_hdr *hdr, const char **why);

/*
 * Reads one PROXY header from fd, before anything else is read from it,
 * and never a byte past the header: a version 1 header byte by byte up
 * to its CRLF, a version 2 header as the length it states.  All of it
 * must arrive within timeout_ms.  Returns 0 and fills *hdr, or -1 and
 * sets *why: "timeout", "eof", "read-error" (errno kept), or why
 * proxy_parse refused what came.
 */
int		proxy_read(int fd, int timeout_ms, struct proxy_hdr *hdr,
		    const char **why) __attribute__((warn_unused_result));

#endif
