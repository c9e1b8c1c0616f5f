// Command box is a daemonless, rootless container runtime with Docker's command line.
//
// One binary plays several roles (rootless.Role, the one table of them), and
// this is the one place they are dispatched, before any flag parsing. Two
// are served earlier still, by C constructors that run before Go starts:
// the namespace holder (rootless/userns_linux.c) and the half of
// libcontainer's init that joins the container's namespaces (nsenter). An
// unprivileged CLI invocation is moved into its user namespace by the same
// constructor; everything after that runs as root inside the namespace.
package main

import (
	"os"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"

	"box/commands"
	"box/engine"
	"box/rootless"
)

// role is this process's, read once from its command line.
var role = rootless.RoleOf(os.Args)

func init() {
	// runc can leave a goroutine's thread in the container's mount namespace
	// after setns; pinning main to its own thread keeps that thread from
	// ever being the main one (measured: 8/10 runs stranded without it).
	runtime.LockOSThread()

	switch role {
	case rootless.RoleInit:
		// box mounted into a container as its --init (PID 1): nothing of
		// the CLI, the store or libcontainer runs in this role.
		os.Exit(engine.ServeInit(os.Args[2:]))
	case rootless.RoleContainerInit:
		// The container dies with its monitor (the process that started
		// it: a foreground run, a build, a detached container's monitor).
		// Killed outright, that left the container running under PID 1,
		// with nobody to collect its status, serve exec or stop it, while
		// every verb read the monitor's death as the container's (Exited
		// 255). Docker's shim and conmon outlive the CLI; box has no such
		// process, so the container ends where its record says it did.
		// libcontainer's own ParentDeathSignal does not reach this far:
		// nsenter's clones clear it, so it is set here, in the final
		// process, before libcontainer reads it to restore it after
		// changing ids. (Exec'd processes get it too: their monitor is
		// their parent as well.)
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		// After nsenter's C constructor, this becomes the container's
		// first process; it must start before other packages' goroutines.
		libcontainer.Init()
	}
}

func main() {
	// containers/storage's chrooted helpers (rootless.RoleStorageHelper:
	// layer untar, overlay mounts with long option strings) run and end
	// here; the library also refuses to start them unless this was called.
	if reexec.Init() {
		return
	}
	switch role {
	case rootless.RoleMonitor:
		os.Exit(engine.MonitorMain(os.Args[2:]))
	case rootless.RoleNetworkGuest:
		os.Exit(engine.NetworkGuestMain(os.Args[2:]))
	case rootless.RoleNetworkHolder:
		os.Exit(engine.NetworkHolderMain(os.Args[2:]))
	}
	os.Exit(commands.Main(os.Args))
}
