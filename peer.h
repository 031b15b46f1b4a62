/*
 * peer.h: the client's address as text, for logs, limits and the
 * session.  From the socket on a fd where there is one, else from the
 * activator's environment, which is untrusted text and is only ever
 * re-printed from the address it parses as.
 */
#ifndef POP3D_PEER_H
#define POP3D_PEER_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

/* Room for any result: an IPv6 address, "local" or "unknown". */
#define PEER_ADDR_MAX	46	/* INET6_ADDRSTRLEN */

/*
 * Writes the numeric address of sa into buf: IPv4 dotted, IPv6 as
 * inet_ntop writes it, an IPv4-mapped IPv6 address as plain IPv4.
 * Returns 0, or -1 (EAFNOSUPPORT) for a family other than AF_INET and
 * AF_INET6, or (ENOSPC) when cap is too small.
 */
int	peer_format(const struct sockaddr *sa, socklen_t len, char *buf,
	    size_t cap);

/* Whether sa is a loopback address (127/8, ::1, ::ffff:127/104). */
bool	peer_loopback(const struct sockaddr *sa, socklen_t len);

/*
 * Whether addr, as peer_lookup writes it, is this host: "local" (a
 * pipe, a Unix socket) or a loopback address.  "unknown" is not.
 */
bool	peer_is_local(const char *addr);

/*
 * The client of a session on fd, into buf (cap >= PEER_ADDR_MAX):
 *
 *  1. fd is an AF_INET or AF_INET6 socket: its peer's address, unless
 *     that is a loopback address and the environment names a client as
 *     in 2 (a relay on this host: stunnel's exec mode hands pop3d a
 *     loopback TCP connection and the real client in REMOTE_HOST).  A
 *     socket whose peer has gone already is "unknown".
 *  2. Otherwise the environment's REMOTE_HOST (xinetd, stunnel), else
 *     REMOTE_ADDR (systemd, CGI style), when set: its address as
 *     peer_format writes it, or "unknown" when it is not a numeric IPv4
 *     or IPv6 address (a host name, a scope, any other text).
 *  3. Otherwise "local" (a pipe, a file, a Unix socket).
 *
 * The environment is the activator's: whoever sets it also chose what
 * runs on fd, so it is trusted as far as the socket is.  Never fails;
 * returns buf.  (When the peer is a proxy named with --proxy-from, the
 * client its PROXY header names replaces this answer: see proxy.h.)
 */
const char *peer_lookup(int fd, char *buf, size_t cap);

#endif
