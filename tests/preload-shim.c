/*
 * tests/preload-shim.c: a stand-in for an allocator an admin puts in
 * front of libc (LD_PRELOAD=libjemalloc.so.2): hands every malloc on to
 * libc's, and writes one line to stderr the first time libssl or
 * libcrypto calls it, which they do only when they look malloc up as
 * pop3d does (tls_test.py, test_preloaded).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEN	"preload-shim: malloc from OpenSSL\n"

void	*__libc_malloc(size_t);

static bool
from_openssl(const void *caller)
{
	Dl_info info;

	return dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
	    (strstr(info.dli_fname, "/libcrypto.so") != NULL ||
	    strstr(info.dli_fname, "/libssl.so") != NULL);
}

void *
malloc(size_t len)
{
	static bool seen;

	if (!seen && from_openssl(__builtin_return_address(0)))
		seen = write(STDERR_FILENO, SEEN, sizeof(SEEN) - 1) ==
		    (ssize_t)(sizeof(SEEN) - 1);
	return __libc_malloc(len);
}
