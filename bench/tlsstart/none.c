/*
 * bench/tlsstart/none.c: the clear reference: greet on fd 1, read one
 * line's worth from fd 0.
 */
#include <unistd.h>

int
main(void)
{
	char b[64];

	if (write(1, "+OK\r\n", 5) != 5 || read(0, b, sizeof(b)) < 0)
		return 1;
	return 0;
}
