package engine

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"box/rootless"
)

// box's --init (rootless.RoleInit) is PID 1 that starts the container's
// command, passes signals on to it, reaps orphans and exits as the command
// did. It is box's own executable, bind-mounted at rootless.InitPath, so
// no helper binary is needed and nothing lands in the container's layer
// (/dev is a tmpfs).

// InitPath is where the init is mounted in the container, as in Docker.
const InitPath = rootless.InitPath

// initLibDir holds, on /dev's tmpfs, what a dynamically linked box needs
// to start inside a container whose image has other libraries or none:
// the host's dynamic loader and the libraries box has loaded.
const initLibDir = "/dev/.box-init"

// withInit makes the spec's process box's init running the command.
//
// box is built with cgo, so unless it was linked statically its
// executable needs the host's loader and libraries (libc, libseccomp),
// which a busybox or Alpine image does not have. They are bind-mounted
// read-only beside it, and the init is started through the loader with
// them as its only library path; the container's own libraries and its
// LD_LIBRARY_PATH are never involved. The libraries are found in this
// process's /proc/self/maps: exactly what this binary loaded.
func withInit(sp *specs.Spec) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--init: find box's executable: %w", err)
	}
	ro := []string{"bind", "ro", "nosuid", "nodev"}
	sp.Mounts = append(sp.Mounts, specs.Mount{Destination: InitPath, Type: "bind", Source: self, Options: ro})
	prefix := []string{InitPath, string(rootless.RoleInit), "--"}
	loader, libs, err := sharedObjects(self)
	if err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	if loader != "" {
		sp.Mounts = append(sp.Mounts, specs.Mount{Destination: initLibDir + "/ld.so", Type: "bind", Source: loader, Options: ro})
		for soname, host := range libs {
			sp.Mounts = append(sp.Mounts, specs.Mount{Destination: initLibDir + "/" + soname, Type: "bind", Source: host, Options: ro})
		}
		prefix = append([]string{initLibDir + "/ld.so", "--library-path", initLibDir}, prefix...)
	}
	sp.Process.Args = append(prefix, sp.Process.Args...)
	return nil
}

// sharedObjects names exe's dynamic loader ("" for a static executable)
// and the shared libraries this process has mapped, by their sonames.
func sharedObjects(exe string) (loader string, libs map[string]string, err error) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", nil, fmt.Errorf("read %s: %w", exe, err)
			}
			loader = strings.TrimRight(string(b), "\x00")
		}
	}
	if loader == "" {
		return "", nil, nil
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return "", nil, err
	}
	loaderInfo, _ := os.Stat(loader)
	libs = map[string]string{}
	for _, line := range strings.Split(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") || !strings.Contains(fields[5], ".so") {
			continue
		}
		path := fields[5]
		if st, err := os.Stat(path); err != nil || loaderInfo != nil && os.SameFile(st, loaderInfo) {
			continue
		}
		name := filepath.Base(path)
		if lib, err := elf.Open(path); err == nil {
			if sonames, err := lib.DynString(elf.DT_SONAME); err == nil && len(sonames) > 0 {
				name = sonames[0]
			}
			lib.Close()
		}
		libs[name] = path
	}
	return loader, libs, nil
}

// ServeInit is the init role: args are "--" and the command. It returns
// the command's exit code, 128+N when a signal N ended it, or 127/126
// when it cannot be started (box checked it before, so only a race).
func ServeInit(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "box init: no command")
		return 125
	}
	// Every signal is caught from here on, so none sent before the
	// command starts is lost to the default action.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)

	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "box init: %v\n", err)
		return 127
	}
	// The command gets a process group of its own and, on a terminal,
	// the foreground: Ctrl-C reaches it once, from the terminal, not a
	// second time through this init.
	attr := &syscall.SysProcAttr{Setpgid: true}
	if term.IsTerminal(0) {
		attr.Foreground, attr.Ctty = true, 0
	}
	proc, err := os.StartProcess(path, args, &os.ProcAttr{
		Env: os.Environ(), Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Sys: attr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "box init: %v\n", err)
		if errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	child := proc.Pid
	go func() {
		for s := range sigs {
			switch s {
			case unix.SIGCHLD, unix.SIGURG:
				// Ours: exits to reap, and the Go runtime's preemption.
			default:
				_ = unix.Kill(child, s.(syscall.Signal))
			}
		}
	}()
	// Reap everything: the command, and the orphans the kernel hands to
	// PID 1. The command's end is the container's: once this init exits,
	// the kernel ends whatever else still runs in the PID namespace.
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "box init: wait: %v\n", err)
			return 125
		}
		if pid != child {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}
