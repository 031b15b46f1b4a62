/*
 * peer.c: the client's address as text.  Trusts the kernel's answer to
 * getpeername and nothing in the environment: a variable is parsed with
 * inet_pton and the address printed back, so its raw text never reaches
 * a log line.  Never fails: the worst answer is "unknown".
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

int
peer_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	struct in_addr v4;

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		v4 = sin->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
			    (socklen_t)cap) == NULL)
				return -1;
			return 0;
		}
		/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
		memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (inet_ntop(AF_INET, &v4, buf, (socklen_t)cap) == NULL)
		return -1;
	return 0;
}

bool
peer_loopback(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

bool
peer_is_local(const char *addr)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	if (strcmp(addr, "local") == 0)
		return true;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return peer_loopback((struct sockaddr *)&sin, sizeof(sin));
	}
	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		return peer_loopback((struct sockaddr *)&sin6, sizeof(sin6));
	}
	return false;
}

/*
 * The client the environment names: 1 and its address in buf, 0 when
 * no variable is set, -1 when one is set but holds no numeric address
 * (buf is left alone in both cases).
 */
static int
peer_env(char *buf, size_t cap)
{
	static const char *const vars[] = { "REMOTE_HOST", "REMOTE_ADDR" };
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	char out[PEER_ADDR_MAX];
	const char *v = NULL;
	size_t i;
	int r;

	for (i = 0; v == NULL && i < sizeof(vars) / sizeof(vars[0]); i++)
		v = getenv(vars[i]);
	if (v == NULL)
		return 0;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, v, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		r = peer_format((struct sockaddr *)&sin, sizeof(sin), out,
		    sizeof(out));
	} else if (inet_pton(AF_INET6, v, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		r = peer_format((struct sockaddr *)&sin6, sizeof(sin6), out,
		    sizeof(out));
	} else
		r = -1;
	if (r == -1 || snprintf(buf, cap, "%s", out) >= (int)cap)
		return -1;
	return 1;
}

const char *
peer_lookup(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	struct sockaddr *sa = (struct sockaddr *)&ss;
	socklen_t len = sizeof(ss);

	if (cap < PEER_ADDR_MAX) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	if (getpeername(fd, sa, &len) == 0) {
		if (peer_format(sa, len, buf, cap) == 0) {
			/* A relay on this host may name its client. */
			if (peer_loopback(sa, len))
				(void)peer_env(buf, cap);
			return buf;
		}
		/* AF_UNIX: local, or a relay naming its client. */
	} else if (errno != ENOTSOCK) {
		/* A socket whose peer has gone already (ENOTCONN). */
		snprintf(buf, cap, "unknown");
		return buf;
	}
	switch (peer_env(buf, cap)) {
	case 1:
		break;
	case 0:
		snprintf(buf, cap, "local");
		break;
	default:
		snprintf(buf, cap, "unknown");
		break;
	}
	return buf;
}
