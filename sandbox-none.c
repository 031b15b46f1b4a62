/*
 * sandbox-none.c: sandbox_dirs and sandbox_level where pop3d knows no
 * confinement (no Landlock in the system's headers, or not Linux):
 * no-new-privileges where there is such a thing, and a note in the log
 * that the session is not confined.  meson.build picks this file or
 * sandbox-landlock.c.
 */
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log.h"
#include "sandbox.h"

int
sandbox_level(void)
{
	return 0;
}

int
sandbox_dirs(const struct sandbox_dir *dirs, size_t n)
{
	static bool noted;

	(void)dirs;
	(void)n;
#ifdef __linux__
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
#endif
	tzset();
	if (!noted)
		log_msg(LOG_WARNING, "sandbox result=unavailable "
		    "reason=not-built");
	noted = true;
	return 0;
}
