/*
 * rss_launch.c: runs a program as its child and reports the child's peak
 * resident memory.  Linux carries a process's peak RSS across execve, so
 * a child forked from Python starts from Python's size; forked from this
 * small launcher, it starts from about a megabyte.
 *
 *	rss_launch REPORT PROGRAM [ARG...]
 *
 * stdin, stdout and stderr pass through.  When the child ends, REPORT
 * gets one line, "<peak RSS in KiB> <wait status>", and the launcher
 * exits as the child did (128 + the signal when it was killed).
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct rusage ru;
	FILE *report;
	pid_t pid;
	int status;

	if (argc < 3) {
		fputs("usage: rss_launch REPORT PROGRAM [ARG...]\n", stderr);
		return 100;
	}
	if ((pid = fork()) == -1) {
		perror("fork");
		return 111;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	/* The child gets what is meant for it, e.g. a SIGTERM. */
	signal(SIGINT, SIG_IGN);
	while (wait4(pid, &status, 0, &ru) == -1)
		;
	if ((report = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 111;
	}
	fprintf(report, "%ld %d\n", ru.ru_maxrss, status);
	if (fclose(report) != 0) {
		perror(argv[1]);
		return 111;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
