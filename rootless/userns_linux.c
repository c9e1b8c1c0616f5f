// box's user namespace entry, run before the Go runtime starts while the
// process is still single-threaded. An unprivileged box that needs the
// store moves itself, in place, into a new user namespace (mapped from
// /etc/subuid and /etc/subgid through newuidmap/newgidmap, or to the user
// alone) and a new mount namespace, and becomes root there. Nothing is
// re-executed: a second start of the 40 MB binary and its Go runtime
// would cost more than everything else a `box images` does.
//
// While the user's network holder runs (engine/usernet/holder.go), box
// joins its user namespace instead (join_holder): it is mapped already,
// and a run there need not go through the holder.
//
// The mapping must be written from outside the new namespace, so a small
// forked helper (still in the original namespace) runs the map tools on
// the parent's pid. The outcome reaches Go through the environment:
//   _BOX_ROOTLESS=uid:gid:name      entered (rootless.Current reads it)
//   _BOX_USERNS_FALLBACK=reason     only the user's own id is mapped
//   _BOX_USERNS_ERROR=message       could not enter; Go explains why
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "roles_gen.h"

#define MAX_RANGES 16
#define MAX_ARGS 4096

struct range {
	unsigned long start, count;
};

// in_list says whether word is one of list's, which ends with NULL.
static int in_list(const char *const *list, const char *word)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, word) == 0)
			return 1;
	return 0;
}

static void fail(const char *what)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s: %s", what, strerror(errno));
	setenv("_BOX_USERNS_ERROR", buf, 1);
}

// box_needs_namespace decides from a command line (NUL-separated, as
// /proc/self/cmdline holds it) whether this invocation touches the store.
// It is the one implementation: Go's rootless.NeedsNamespace calls it too.
// Its words come from roles.go through roles_gen.h: global flags are
// skipped with their values; help, version and the credential verbs answer
// without the namespace; every role but the CLI is left where it starts.
int box_needs_namespace(const char *buf, size_t n)
{
	const char *p, *end = buf + n, *prev, *base;

	if (n == 0)
		return 1;
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	for (int i = 0; box_storage_helper_prefixes[i] != NULL; i++)
		if (strncmp(base, box_storage_helper_prefixes[i], strlen(box_storage_helper_prefixes[i])) == 0)
			return 0;
	if (in_list(box_storage_helper_names, base))
		return 0;
	// The container's --init, started directly or through the dynamic
	// loader mounted beside it (whose own arguments come first).
	for (prev = NULL, p = buf; p < end; prev = p, p += strlen(p) + 1)
		if (prev != NULL && strcmp(prev, BOX_INIT_PATH) == 0 && strcmp(p, BOX_ROLE_INIT) == 0)
			return 0;
	for (p = buf + strlen(buf) + 1; p < end; p += strlen(p) + 1) {
		if (p[0] != '-')
			return !in_list(box_outside_verbs, p) && !in_list(box_roles, p);
		if (in_list(box_outside_flags, p))
			return 0;
		if (in_list(box_global_value_flags, p)) {
			p += strlen(p) + 1;
			if (p >= end)
				return 1;
		}
	}
	return 0;
}

// read_small reads up to len-1 bytes of path into buf, NUL-terminated;
// it returns the length, or -1.
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

// cmdline is this process's command line, NUL-separated; cmdline_len its
// length, 0 when it could not be read.
static char cmdline[MAX_ARGS];
static size_t cmdline_len;

// needs_namespace is box_needs_namespace for this process.
static int needs_namespace(void)
{
	ssize_t n = read_small("/proc/self/cmdline", cmdline, sizeof(cmdline));

	if (n <= 0)
		return 1;
	cmdline_len = (size_t)n;
	return box_needs_namespace(cmdline, cmdline_len);
}

// box_run_root writes to out the run root of an unprivileged box started
// with the command line in buf (NUL-separated), as the Go side decides it
// (storage.DefaultPaths, then --runroot): the global --runroot's value;
// else $XDG_RUNTIME_DIR/box when that is a directory; else
// /dev/shm/box-run-UID on a tmpfs /dev/shm unless that path is there and
// not a directory of the user's alone; else $TMPDIR (or /tmp)/box-run-UID.
// It returns 0, or -1 when the path does not fit in len.
int box_run_root(const char *buf, size_t n, unsigned uid, char *out, size_t len)
{
	const char *p, *end = buf + n, *rt = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
	struct stat st;
	struct statfs fs;
	char shm[64];
	int w;

	for (p = buf + strlen(buf) + 1; p < end && p[0] == '-'; p += strlen(p) + 1) {
		if (strncmp(p, "--runroot=", 10) == 0)
			return snprintf(out, len, "%s", p + 10) < (int)len ? 0 : -1;
		if (in_list(box_global_value_flags, p)) {
			const char *v = p + strlen(p) + 1;
			if (v >= end)
				break;
			if (strcmp(p, "--runroot") == 0)
				return snprintf(out, len, "%s", v) < (int)len ? 0 : -1;
			p = v;
		}
	}
	if (rt != NULL && rt[0] != '\0' && stat(rt, &st) == 0 && S_ISDIR(st.st_mode))
		w = snprintf(out, len, "%s/box", rt);
	else {
		snprintf(shm, sizeof(shm), "/dev/shm/box-run-%u", uid);
		if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
		    (lstat(shm, &st) < 0 ? errno == ENOENT : S_ISDIR(st.st_mode) && st.st_uid == uid && (st.st_mode & 077) == 0))
			w = snprintf(out, len, "%s", shm);
		else
			w = snprintf(out, len, "%s/box-run-%u", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", uid);
	}
	return w < (int)len ? 0 : -1;
}

// single_mapped says whether the id map at path maps one id alone.
static int single_mapped(const char *path)
{
	char map[256];
	unsigned long inside, outside, count;

	if (read_small(path, map, sizeof(map)) <= 0 || sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3)
		return -1;
	return count == 1 && strchr(map, '\n') == strrchr(map, '\n');
}

// join_holder moves this process into the user namespace of the user's
// network holder (engine/usernet/holder.go), when one runs for this run
// root and its map is the one this box would make (ranges, or the user's
// id alone, as single says). That namespace is mapped already, so no
// newuidmap runs (some 10 ms), and a run in it is not the holder's guest
// (a box process fewer). It returns 1 when it joined.
static int join_holder(uid_t uid, int single)
{
	char root[4096], path[4200], buf[4200];
	const char *arg;
	uid_t owner;
	long pid;
	ssize_t n;
	int fd, ok;

	if (cmdline_len == 0 || box_run_root(cmdline, cmdline_len, (unsigned)uid, root, sizeof(root)) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", root, BOX_HOLDER_PID_FILE);
	if (read_small(path, buf, 32) <= 0 || (pid = strtol(buf, NULL, 10)) <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	// The pid is the holder of this run root (not a process that took a
	// stale file's pid), in a namespace the user owns, mapped alike.
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	n = read_small(path, buf, sizeof(buf));
	arg = buf + strlen(buf) + 1; // argv[1]: within buf, NUL-terminated
	ok = n > 0 && arg < buf + n && strcmp(arg, BOX_ROLE_NETWORK_HOLDER) == 0;
	arg += strlen(arg) + 1; // argv[2]
	ok = ok && arg < buf + n && strcmp(arg, root) == 0;
	ok = ok && ioctl(fd, NS_GET_OWNER_UID, &owner) == 0 && owner == uid;
	snprintf(path, sizeof(path), "/proc/%ld/uid_map", pid);
	ok = ok && single_mapped(path) == single;
	ok = ok && setns(fd, CLONE_NEWUSER) == 0;
	close(fd);
	return ok;
}

// read_ranges reads the user's ranges (by name or by uid) from a subid file.
static int read_ranges(const char *path, const char *name, uid_t uid, struct range *r)
{
	FILE *f = fopen(path, "re");
	char line[512], id[32];
	int n = 0;

	if (f == NULL)
		return 0;
	snprintf(id, sizeof(id), "%u", (unsigned)uid);
	while (n < MAX_RANGES && fgets(line, sizeof(line), f) != NULL) {
		char *owner = strtok(line, ":\n"), *start = strtok(NULL, ":\n"), *count = strtok(NULL, ":\n");
		char *e1, *e2;
		if (owner == NULL || start == NULL || count == NULL || owner[0] == '#')
			continue;
		if (strcmp(owner, name) != 0 && strcmp(owner, id) != 0)
			continue;
		r[n].start = strtoul(start, &e1, 10);
		r[n].count = strtoul(count, &e2, 10);
		if (*e1 == '\0' && *e2 == '\0' && r[n].count > 0)
			n++;
	}
	fclose(f);
	return n;
}

static int in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096], *dir, *save;

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", dir, tool);
		if (access(full, X_OK) == 0)
			return 1;
	}
	return 0;
}

// run_map runs newuidmap/newgidmap PID 0 self 1 1 start count ...; it
// returns the pid of the started tool, or -1.
static pid_t run_map(const char *tool, pid_t target, unsigned long self, struct range *r, int n)
{
	char *argv[4 + 3 * (MAX_RANGES + 1)];
	char nums[3 * (MAX_RANGES + 1) + 1][24];
	unsigned long next = 1;
	int a = 0, k = 0, i;
	pid_t pid;

	argv[a++] = (char *)tool;
	snprintf(nums[k], 24, "%d", (int)target);
	argv[a++] = nums[k++];
	snprintf(nums[k], 24, "0"), argv[a++] = nums[k++];
	snprintf(nums[k], 24, "%lu", self), argv[a++] = nums[k++];
	snprintf(nums[k], 24, "1"), argv[a++] = nums[k++];
	for (i = 0; i < n; i++) {
		snprintf(nums[k], 24, "%lu", next), argv[a++] = nums[k++];
		snprintf(nums[k], 24, "%lu", r[i].start), argv[a++] = nums[k++];
		snprintf(nums[k], 24, "%lu", r[i].count), argv[a++] = nums[k++];
		next += r[i].count;
	}
	argv[a] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(tool, argv);
		_exit(127);
	}
	return pid;
}

static int waited_ok(pid_t pid)
{
	int status;
	if (pid < 0)
		return 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(data), n;
	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == len ? 0 : -1;
}

// helper runs in the original namespace: once the parent has unshared, it
// maps it, falling back to the single id, and reports 'r' (ranges), 's'
// (single id, with a reason) or 'e' (failed) on the pipe.
static void helper(int in, int out, pid_t parent, uid_t uid, gid_t gid,
		   struct range *ur, int nu, struct range *gr, int ng, const char *reason)
{
	char c, path[64], map[64], msg[256] = "";
	int uid_ok = 0, gid_ok = 0;

	if (read(in, &c, 1) != 1)
		_exit(1);
	if (reason == NULL) {
		pid_t g = run_map("newgidmap", parent, gid, gr, ng);
		pid_t u = run_map("newuidmap", parent, uid, ur, nu);
		gid_ok = waited_ok(g);
		uid_ok = waited_ok(u);
		if (!gid_ok || !uid_ok)
			snprintf(msg, sizeof(msg), "%s failed", !uid_ok ? "newuidmap" : "newgidmap");
	}
	if (!gid_ok) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)parent);
		write_file(path, "deny");
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)parent);
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		if (write_file(path, map) < 0) {
			c = 'e';
			(void)!write(out, &c, 1);
			_exit(1);
		}
	}
	if (!uid_ok) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)parent);
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
		if (write_file(path, map) < 0) {
			c = 'e';
			(void)!write(out, &c, 1);
			_exit(1);
		}
	}
	c = (uid_ok && gid_ok) ? 'r' : 's';
	(void)!write(out, &c, 1);
	if (c == 's')
		(void)!write(out, reason ? reason : msg, strlen(reason ? reason : msg));
	_exit(0);
}

// hold_namespaces serves box's namespace holder role (engine/nshold.go):
// "box __nshold" (BOX_ROLE_NAMESPACE_HOLDER), cloned into a container's new namespaces by its
// monitor, holds them, without starting Go, until its stdin closes.
static void hold_namespaces(void)
{
	char buf[64];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	const char *role = BOX_ROLE_NAMESPACE_HOLDER;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	n = (ssize_t)strlen(buf) + 1;
	if (n >= (ssize_t)sizeof(buf) || strcmp(buf + n, role) != 0)
		return;
	while ((n = read(0, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	_exit(0);
}

__attribute__((constructor)) static void box_enter_userns(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct passwd *pw;
	struct range ur[MAX_RANGES], gr[MAX_RANGES];
	int nu = 0, ng = 0, to_helper[2], from_helper[2];
	const char *reason = NULL;
	char name[256], value[512], c, why[256];
	pid_t child, parent = getpid();
	ssize_t n;

	hold_namespaces();
	if (geteuid() == 0 || getenv("_BOX_ROOTLESS") != NULL || getenv("_LIBCONTAINER_INITPIPE") != NULL)
		return;
	if (!needs_namespace())
		return;

	pw = getpwuid(uid);
	snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "");
	if (name[0] == '\0')
		snprintf(name, sizeof(name), "%u", (unsigned)uid);
	nu = read_ranges("/etc/subuid", name, uid, ur);
	ng = read_ranges("/etc/subgid", name, uid, gr);
	if (nu == 0 || ng == 0)
		reason = "no-range";
	else if (!in_path("newuidmap") || !in_path("newgidmap"))
		reason = "no-newuidmap";
	if (join_holder(uid, reason != NULL)) {
		if (reason != NULL)
			setenv("_BOX_USERNS_FALLBACK", reason, 1);
		goto entered;
	}

	if (pipe2(to_helper, O_CLOEXEC) < 0 || pipe2(from_helper, O_CLOEXEC) < 0) {
		fail("create pipe");
		return;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return;
	}
	if (child == 0) {
		close(to_helper[1]);
		close(from_helper[0]);
		helper(to_helper[0], from_helper[1], parent, uid, gid, ur, nu, gr, ng, reason);
	}
	close(to_helper[0]);
	close(from_helper[1]);

	if (unshare(CLONE_NEWUSER) < 0) {
		fail("create user namespace");
		close(to_helper[1]);
		waitpid(child, NULL, 0);
		return;
	}
	c = 'u';
	if (write(to_helper[1], &c, 1) != 1) {
		fail("start id mapping");
		_exit(125);
	}
	close(to_helper[1]);
	if (read(from_helper[0], &c, 1) != 1 || c == 'e') {
		errno = EPERM;
		fail("write id maps");
		waitpid(child, NULL, 0);
		// Half-entered: an unmapped user namespace is of no use, and
		// there is no way back out of it.
		fprintf(stderr, "Error: %s\n", getenv("_BOX_USERNS_ERROR"));
		_exit(125);
	}
	if (c == 's') {
		n = read(from_helper[0], why, sizeof(why) - 1);
		why[n > 0 ? n : 0] = '\0';
		setenv("_BOX_USERNS_FALLBACK", why, 1);
	}
	close(from_helper[0]);
	waitpid(child, NULL, 0);

entered:
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		fprintf(stderr, "Error: become root in the user namespace: %s\n", strerror(errno));
		_exit(125);
	}
	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "Error: create mount namespace: %s\n", strerror(errno));
		_exit(125);
	}
	snprintf(value, sizeof(value), "%u:%u:%s", (unsigned)uid, (unsigned)gid, name);
	setenv("_BOX_ROOTLESS", value, 1);
	// containers/storage reads these to know it runs rootless.
	setenv("_CONTAINERS_USERNS_CONFIGURED", "done", 1);
	snprintf(value, sizeof(value), "%u", (unsigned)uid);
	setenv("_CONTAINERS_ROOTLESS_UID", value, 1);
	snprintf(value, sizeof(value), "%u", (unsigned)gid);
	setenv("_CONTAINERS_ROOTLESS_GID", value, 1);
}
