/*
 * memtls.h: a stand-in for TLS under io, for tests of STLS (check_session,
 * fuzz_stls): once the session starts it, the client's bytes come from
 * memory and the server's are kept in memory, apart from the plain
 * channel, so each side of the handshake can be checked by itself.
 */
#ifndef POP3D_MEMTLS_H
#define POP3D_MEMTLS_H

#include <stddef.h>

#include "io.h"

struct memtls {
	const void	*in;		/* what the client sends under TLS */
	size_t		 inlen, inoff;
	char		*out;		/* what the server sent; free() it */
	size_t		 outlen, outcap;	/* out is NUL-terminated */
};

/* The transport over m, for io_set_transport; aborts out of memory. */
struct io_transport memtls_transport(struct memtls *m);

#endif
