/*
 * fuzz_store.c: arbitrary file contents as a message.  The first input
 * byte is a TOP line count; the rest is the file.  One session lists,
 * retrieves and tops it; its output must be exactly what the reference
 * CRLF form (oracle.c, written apart from stream.c) says: LIST's size is
 * the CRLF form's length, RETR's bytes un-dot-stuffed are the CRLF form,
 * TOP's are its head.  Long inputs cross the store's read buffer.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "oracle.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *root, *box, *msg;
	const struct fz_fixture *fx = fz_fixture();
	struct session_cfg cfg = { .users = fx->users, .peer = "local" };
	const char *allowed[] = { fx->users, fx->users_index, NULL, NULL };
	struct fz_box one = { .count = 1, .uid = { "1" } };
	struct fz_buf in = { 0 }, want = { 0 };
	enum session_end end;
	unsigned top = size > 0 ? data[0] : 0;
	size_t outlen, len;
	char *out, *crlf;

	if (root == NULL) {
		root = files_join(fx->dir, "store");
		box = files_join(root, "me");
		msg = files_join(box, "1");
		if (mkdir(root, 0700) == -1 || mkdir(box, 0700) == -1)
			fz_fail("mkdir %s", box);
	}
	cfg.mail_root = root;
	allowed[2] = box;
	if (size > 0) {
		data++;
		size--;
	}
	files_write(msg, data, size);
	crlf = oracle_crlf(data, size, &len);
	one.crlf[0] = crlf;
	one.len[0] = len;

	fz_printf(&in, FZ_LOGIN "STAT\r\nLIST\r\nLIST 1\r\nUIDL\r\nRETR 1\r\n"
	    "TOP 1 %u\r\nTOP 1 0\r\nQUIT\r\n", top);
	fz_printf(&want, "+OK pop3d ready\r\n+OK send PASS\r\n"
	    "+OK maildrop has 1 messages (%zu octets)\r\n"
	    "+OK 1 %zu\r\n"
	    "+OK 1 messages (%zu octets)\r\n1 %zu\r\n.\r\n"
	    "+OK 1 %zu\r\n"
	    "+OK unique-id listing follows\r\n1 1\r\n.\r\n"
	    "+OK %zu octets\r\n", len, len, len, len, len, len);
	fz_put_stuffed(&want, crlf, len);
	fz_puts(&want, "+OK top of message follows\r\n");
	fz_put_stuffed(&want, crlf, oracle_top_len(crlf, len, top));
	fz_puts(&want, "+OK top of message follows\r\n");
	fz_put_stuffed(&want, crlf, oracle_top_len(crlf, len, 0));
	fz_puts(&want, "+OK bye, 0 messages deleted\r\n");

	out = fz_session(&cfg, allowed, in.p, in.len, &outlen, &end);
	fz_check_session(in.p, in.len, out, outlen, &one);
	fz_expect("store", want.p, want.len, out, outlen);
	if (end != SESSION_QUIT)
		fz_fail("the session did not end with QUIT");
	fz_check_canaries();
	free(out);
	free(crlf);
	free(in.p);
	free(want.p);
	return 0;
}
