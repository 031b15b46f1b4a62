/*
 * bench/tlsstart/embedded.c: openssl.c's server in a private shared
 * module, built by run from Debian's static libssl.a and libcrypto.a
 * with every OpenSSL symbol hidden and bound inside it (-Bsymbolic,
 * --exclude-libs), and loaded with dlopen as tls.c loads libssl.so.3:
 * what pop3d would pay with a copy of OpenSSL of its own.  run names
 * the module at build time (TLSSTART_MODULE).
 */
#include <dlfcn.h>
#include <string.h>

int
main(int argc, char *argv[])
{
	int (*serve)(int, char *[]);
	void *mod, *fn;

	if ((mod = dlopen(TLSSTART_MODULE, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (fn = dlsym(mod, "tlsstart_main")) == NULL)
		return 4;
	memcpy(&serve, &fn, sizeof(serve));
	return serve(argc, argv);
}
