// The child half of Enter, run before the Go runtime starts so that the
// process is still single-threaded: it creates the user namespace itself
// (so it holds every capability there), waits until the parent has
// written the id maps, becomes root of the namespace and unshares a mount
// namespace. No re-exec follows: box goes on to main() in place, and
// /proc/self/exe stays the real binary, which lets runc seal it for
// container inits with a cheap overlay instead of copying it.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SYNC_ENV "_BOX_USERNS_SYNC"

__attribute__((constructor)) static void box_enter_userns(void)
{
	const char *env = getenv(SYNC_ENV);
	char c;
	int fd;

	if (env == NULL || *env == '\0')
		return;
	fd = atoi(env);
	if (unshare(CLONE_NEWUSER) < 0) {
		fprintf(stderr, "Error: create user namespace: %m\n");
		_exit(125);
	}
	c = 'u';
	if (write(fd, &c, 1) != 1)
		_exit(125);
	/* The parent answers 'm' once the maps are written, or closes. */
	if (read(fd, &c, 1) != 1 || c != 'm')
		_exit(125);
	close(fd);
	unsetenv(SYNC_ENV);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		fprintf(stderr, "Error: become root in the user namespace: %m\n");
		_exit(125);
	}
	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "Error: create mount namespace: %m\n");
		_exit(125);
	}
}
