/*
 * seccomp_exec.c: a test helper.  Runs a program under the system call
 * filter a unit's SystemCallFilter=, SystemCallArchitectures=native and
 * RestrictAddressFamilies=AF_UNIX give it, as systemd would: only the
 * calls named in a file (one a line) are allowed, socket(2) only for
 * AF_UNIX (others get EAFNOSUPPORT), no_new_privs.  Anything else kills
 * the process (SIGSYS), so a call the unit would deny cannot go unseen.
 *
 * usage: seccomp_exec NAMES-FILE PROGRAM [ARG...]
 */
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char line[128];
	scmp_filter_ctx ctx;
	FILE *f;
	int nr, r = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: seccomp_exec NAMES-FILE PROGRAM "
		    "[ARG...]\n");
		return 2;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL ||
	    (f = fopen(argv[1], "r")) == NULL) {
		perror("seccomp_exec");
		return 2;
	}
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		nr = seccomp_syscall_resolve_name(line);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not a call on this architecture */
		if (strcmp(line, "socket") == 0) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
			    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
			if (r == 0)
				r = seccomp_rule_add(ctx,
				    SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
				    SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0));
		} else
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	fclose(f);
	if (r != 0 || (r = seccomp_load(ctx)) != 0) {
		fprintf(stderr, "seccomp_exec: %s\n", strerror(-r));
		return 2;
	}
	execv(argv[2], argv + 2);
	return 127;	/* execv is allowed, or we were killed */
}
