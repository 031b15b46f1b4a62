/* check_peer.c: the client's address as text, through peer.h: which
 * addresses count as this host (logins in the clear where TLS is
 * offered depend on it), and how addresses are written. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <check.h>

#include "peer.h"
#include "testlib.h"

START_TEST(this_host_is_loopback_or_a_pipe)
{
	static const char *const local[] = { "local", "127.0.0.1",
	    "127.1.2.3", "127.255.255.255", "::1" };
	static const char *const other[] = { "unknown", "192.0.2.1",
	    "128.0.0.1", "126.255.255.255", "10.0.0.1", "0.0.0.0", "::",
	    "2001:db8::1", "::2", "fe80::1", "::ffff:192.0.2.1", "",
	    "localhost", "127.0.0.1 ", " 127.0.0.1", "127.0.0.1/8",
	    "LOCAL" };

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		ck_assert_msg(peer_is_local(local[i]), "%s", local[i]);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_msg(!peer_is_local(other[i]), "%s", other[i]);
	/* What peer_format never writes, but inet_pton reads, is judged
	   by the address: an IPv4-mapped loopback is loopback. */
	ck_assert(peer_is_local("::ffff:127.0.0.1"));
}
END_TEST

START_TEST(mapped_addresses_are_written_as_ipv4)
{
	struct sockaddr_in6 sin6;
	char buf[PEER_ADDR_MAX];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &sin6.sin6_addr), 1);
	ck_assert(peer_loopback((struct sockaddr *)&sin6, sizeof(sin6)));
	ck_assert_int_eq(peer_format((struct sockaddr *)&sin6, sizeof(sin6),
	    buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "127.0.0.1");
	ck_assert(peer_is_local(buf));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("peer");

	tcase_add_test(tc, this_host_is_loopback_or_a_pipe);
	tcase_add_test(tc, mapped_addresses_are_written_as_ipv4);
	suite_add_tcase(s, tc);
	return tl_run(s);
}
