/* storefix.h: the fixture of the store's Check suites (check_store,
 * check_stream, check_journal, check_sizes): a fresh mailbox folder for
 * each test, opening it, and the ids of its listing. */
#ifndef POP3D_STOREFIX_H
#define POP3D_STOREFIX_H

#include <stddef.h>

#include "store.h"

/* The test's mailbox folder: made by storefix_setup, removed by
 * storefix_teardown (tcase_add_checked_fixture). */
extern char	*dir;

void		 storefix_setup(void);
void		 storefix_teardown(void);

/* Opens dir read-write, which must succeed. */
struct store	*open_ok(void);

/* The unique id of message idx. */
const char	*uid(struct store *st, size_t idx);

/* Asserts that u has the shape of an id (RFC 1939 s.7: 1 to 70
 * characters in 0x21 to 0x7E). */
void		 assert_uid_shape(const char *u);

#endif
