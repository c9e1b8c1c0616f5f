// Command box is a daemonless, rootless container runtime with Docker's command line.
//
// One binary plays several roles, chosen here before any flag parsing:
// libcontainer's "init" (the process that becomes a container's PID 1),
// the per-container monitor, and the CLI itself. An unprivileged CLI
// invocation first re-executes itself inside its user namespace (package
// rootless); everything after that runs as root inside the namespace.
package main

import (
	"os"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"go.podman.io/storage/pkg/reexec"

	"box/commands"
	"box/engine"
)

func init() {
	// runc can leave a goroutine's thread in the container's mount namespace
	// after setns; pinning main to its own thread keeps that thread from
	// ever being the main one (measured: 8/10 runs stranded without it).
	runtime.LockOSThread()

	if len(os.Args) > 1 && os.Args[1] == engine.InitRole {
		// box mounted into a container as its --init (PID 1): nothing of
		// the CLI, the store or libcontainer runs in this role.
		os.Exit(engine.ServeInit(os.Args[2:]))
	}

	if len(os.Args) > 1 && os.Args[1] == "init" {
		// libcontainer re-executes /proc/self/exe as "init": after nsenter's
		// C constructor, this becomes the container's first process.
		libcontainer.Init()
	}
}

func main() {
	// c/storage re-executes the binary for a few chrooted helpers (layer
	// untar, overlay mounts with long option strings); those children stop here.
	if reexec.Init() {
		return
	}
	os.Exit(commands.Main(os.Args))
}
