package rootless

import "strings"

// Role is a part the box binary plays. The user starts the CLI; every other
// role is box re-executing itself (/proc/self/exe) with the role's name as
// its first argument, and is dispatched once, in main.go, from RoleOf.
//
// This file is the one table of role names and of the words that decide,
// before Go starts, whether an invocation enters the user namespace. The C
// constructor (userns_linux.c) reads the same table from roles_gen.h, which
// TestRolesHeader renders from it (`go generate ./rootless` rewrites it).
type Role string

const (
	// RoleCLI is box as the user typed it.
	RoleCLI Role = ""
	// RoleContainerInit is libcontainer's "init": after nsenter's C
	// constructor has joined the container's namespaces, this process
	// becomes the container's first process.
	RoleContainerInit Role = "init"
	// RoleInit is box bind-mounted into a container as its --init (PID 1
	// that starts the command, forwards signals and reaps orphans). It
	// runs inside the container as whatever user that is, so the
	// constructor must leave it where it is. It is started as InitPath,
	// directly or through the dynamic loader mounted beside it.
	RoleInit Role = "__init"
	// RoleMonitor is a detached container's monitor: it runs the
	// container, keeps its log and exit status, and serves exec, attach,
	// cp and stop over its control socket.
	RoleMonitor Role = "__monitor"
	// RoleNamespaceHolder holds a new network (and user) namespace until
	// its stdin closes. The C constructor serves it before Go starts.
	RoleNamespaceHolder Role = "__nshold"
	// RoleNetworkGuest is box started by a rootless container's monitor,
	// inside that container's user namespace, to run or start another
	// container that shares its network (--network container:NAME).
	RoleNetworkGuest Role = "__netguest"
	// RoleNetworkHolder holds the network namespace of the user's
	// networks (a bridge each), their name servers and the pasta that
	// joins them to the outside, for as long as a container on one runs;
	// rootless, it starts the boxes that run such containers inside its
	// user namespace (engine/usernet_holder.go).
	RoleNetworkHolder Role = "__netholder"
	// RoleStorageHelper is containers/storage's own re-execution for
	// chrooted helpers (layer untar, overlay mounts with long option
	// strings): argv[0] names the helper, "storage-..." or "chown-by-maps".
	RoleStorageHelper Role = "storage-helper"
)

// InitPath is where RoleInit is mounted in a container, as in Docker.
const InitPath = "/dev/init"

// HolderPidFile, under the run root, holds the network holder's pid while
// it serves: the C constructor joins its user namespace from there.
const HolderPidFile = "netholder.pid"

// storageHelperPrefixes and storageHelperNames are the argv[0]s with which
// containers/storage re-executes the binary (its reexec.Register names).
var (
	storageHelperPrefixes = []string{"storage-"}
	storageHelperNames    = []string{"chown-by-maps"}
)

// outsideVerbs answer without the user namespace: help and version need
// nothing; login, logout and search touch only the user's own
// credentials and the network, as the user whose auth.json they are;
// completion prints a script, and __complete (what that script runs on
// every TAB) only reads names from the user's own store files.
var outsideVerbs = []string{"help", "h", "version", "login", "logout", "search", "completion", "__complete"}

// outsideFlags, seen before any verb, answer without the namespace.
var outsideFlags = []string{"--help", "-h", "--version", "-v"}

// GlobalValueFlags are the CLI's global flags that take a separate value:
// a verb is found after skipping them and their values.
var GlobalValueFlags = []string{"--root", "--runroot", "--storage-driver", "--log-level"}

// OutsideVerbs returns the verbs that answer without the user namespace.
func OutsideVerbs() []string { return append([]string(nil), outsideVerbs...) }

// RoleOf says which role a process with command line args plays.
func RoleOf(args []string) Role {
	if len(args) == 0 {
		return RoleCLI
	}
	base := args[0]
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	for _, p := range storageHelperPrefixes {
		if strings.HasPrefix(base, p) {
			return RoleStorageHelper
		}
	}
	for _, n := range storageHelperNames {
		if base == n {
			return RoleStorageHelper
		}
	}
	if len(args) < 2 {
		return RoleCLI
	}
	switch r := Role(args[1]); r {
	case RoleContainerInit, RoleInit, RoleMonitor, RoleNamespaceHolder, RoleNetworkGuest, RoleNetworkHolder:
		return r
	}
	return RoleCLI
}
