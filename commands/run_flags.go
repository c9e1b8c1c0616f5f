package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/flags"
)

// settingsFlags are run's and create's flags for engine.Settings.
func settingsFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach to STDIN, STDOUT or STDERR"},
		&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container (with -d or create: box's foreground run cannot detach; use box attach)"},
		&cli.StringFlag{Name: "cidfile", Usage: "write the container ID to the file"},
		&cli.StringFlag{Name: "stop-signal", Usage: "signal to stop the container (default: the image's StopSignal, else SIGTERM)"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "timeout (in seconds) to stop a container (default 10)"},
		&cli.StringSliceFlag{Name: "expose", Usage: "expose a port or a range of ports"},
		&cli.StringSliceFlag{Name: "group-add", Usage: "add additional groups to join"},
		&cli.StringFlag{Name: "domainname", Usage: "container NIS domain name"},
		&cli.StringSliceFlag{Name: "annotation", Usage: "add an annotation to the container (passed through to the OCI runtime)"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (NAME=SOFT[:HARD], never above your own hard limit)"},
		&cli.StringFlag{Name: "shm-size", Usage: "size of /dev/shm (default 64m)"},
		&cli.StringSliceFlag{Name: "sysctl", Usage: "sysctl options (net.*, fs.mqueue.* and the IPC kernel.* ones)"},
		&cli.StringFlag{Name: "pid", Usage: "PID namespace to use (host, container:NAME)"},
		&cli.StringFlag{Name: "ipc", Usage: "IPC mode to use (private, shareable, host, container:NAME)"},
		&cli.StringFlag{Name: "uts", Usage: "UTS namespace to use (host)"},
		&cli.StringFlag{Name: "cgroupns", Usage: "cgroup namespace to use (host, private)"},
		&cli.StringFlag{Name: "cgroup-parent", Usage: "optional parent cgroup for the container (root only)"},
		&cli.IntFlag{Name: "oom-score-adj", Usage: "tune host's OOM preferences (-1000 to 1000)"},
		&cli.StringSliceFlag{Name: "device", Usage: "add a host device to the container (HOST[:CONTAINER][:PERMISSIONS]; rootless: bind-mounted, you must be able to open it)"},
		&cli.StringSliceFlag{Name: "device-cgroup-rule", Usage: "add a rule to the cgroup allowed devices list ('c 1:3 rwm'; root only)"},
		&cli.StringFlag{Name: "userns", Usage: "user namespace to use (host: ids map one for one onto yours, box's only mode)"},
		&cli.StringSliceFlag{Name: "uidmap", Usage: "UID map for the container's user namespace (CONTAINER:HOST:SIZE, HOST in box's own: 0 you, 1.. your subordinate ids)"},
		&cli.StringSliceFlag{Name: "gidmap", Usage: "GID map for the container's user namespace (default: --uidmap)"},
		&cli.StringFlag{Name: "runtime", Usage: "runtime to use for this container (box has only its built-in one, runc)"},
		&cli.StringSliceFlag{Name: "link", Usage: "add link to another container (NAME[:ALIAS]; on the default network the alias reaches the host, where its published ports are)"},
	}, resourceFlags()...)
}

// resourceFlags are the cgroup limits run, create and update share.
func resourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "swap limit equal to memory plus swap: '-1' to enable unlimited swap"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs"},
		&cli.StringFlag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "MEMs in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "pids-limit", Usage: "tune container pids limit (set -1 for unlimited)"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO (relative weight), between 10 and 1000, or 0 to disable"},
		&cli.BoolFlag{Name: "oom-kill-disable", Usage: "disable OOM Killer"},
		&cli.StringFlag{Name: "cpu-period", Usage: "limit CPU CFS (Completely Fair Scheduler) period"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "limit CPU CFS (Completely Fair Scheduler) quota"},
		&cli.StringFlag{Name: "memory-swappiness", Usage: "tune container memory swappiness (0 to 100; -1: the host's)"},
	}
}

// unsupportedRunFlags are Docker's run and create flags box does not
// have: each is refused by name, in one line, rather than as a flag
// urfave does not know. Bool flags take no value.
var unsupportedRunFlags = map[string]bool{
	"gpus": false, "device-read-bps": false,
	"device-write-bps": false, "device-read-iops": false, "device-write-iops": false,
	"blkio-weight-device": false, "cpu-rt-period": false,
	"cpu-rt-runtime": false, "cpu-count": false, "cpu-percent": false, "kernel-memory": false,
	"link-local-ip": false, "ip6": false, "mac-address": false,
	"isolation": false, "volume-driver": false, "storage-opt": false,
	"io-maxbandwidth": false, "io-maxiops": false, "disable-content-trust": true, "use-api-socket": true,
}

// unsupportedFlags declares names so that urfave parses them, hidden;
// refuseUnsupported refuses the ones given.
func unsupportedFlags(names map[string]bool) []cli.Flag {
	var out []cli.Flag
	for name, isBool := range names {
		var f cli.Flag
		switch {
		case isBool:
			f = &cli.BoolFlag{Name: name, Hidden: true}
		default:
			f = &cli.StringSliceFlag{Name: name, Hidden: true}
		}
		out = append(out, f)
	}
	return out
}

// refuseUnsupported is a usage error naming the first unsupported flag
// given. --disable-content-trust is Docker's default (true) and taken
// as such.
func refuseUnsupported(c *cli.Context, names map[string]bool) error {
	// One pass over the flags given: IsSet per name scans every flag of
	// the command (a regexp per flag name), measurable at run's 130.
	for _, name := range c.LocalFlagNames() {
		if _, unsupported := names[name]; !unsupported {
			continue
		}
		if name == "disable-content-trust" && c.Bool(name) {
			continue
		}
		return usageErrorf("box %s does not support --%s", c.Command.Name, name)
	}
	return nil
}

// runSettings reads settingsFlags.
func runSettings(c *cli.Context) (engine.Settings, error) {
	s := engine.Settings{
		CIDFile: c.String("cidfile"), StopSignal: c.String("stop-signal"),
		GroupAdd: c.StringSlice("group-add"), Domainname: c.String("domainname"),
		CgroupParent: c.String("cgroup-parent"), Runtime: c.String("runtime"),
	}
	if c.IsSet("stop-timeout") {
		t := c.Int("stop-timeout")
		s.StopTimeout = &t
	}
	if c.IsSet("oom-score-adj") {
		n := c.Int("oom-score-adj")
		s.OOMScoreAdj = &n
	}
	var err error
	if s.Expose, err = flags.ParseExpose(c.StringSlice("expose")); err != nil {
		return s, err
	}
	if s.Annotations, err = flags.ParseAnnotations(c.StringSlice("annotation")); err != nil {
		return s, err
	}
	if s.Ulimits, err = flags.ParseUlimits(c.StringSlice("ulimit")); err != nil {
		return s, err
	}
	if v := c.String("shm-size"); v != "" {
		if s.ShmSize, err = flags.ParseBytes("--shm-size", v); err != nil {
			return s, err
		}
	}
	if s.Devices, err = flags.ParseDevices(c.StringSlice("device")); err != nil {
		return s, err
	}
	if s.DeviceRules, err = flags.ParseDeviceRules(c.StringSlice("device-cgroup-rule")); err != nil {
		return s, err
	}
	if s.Userns, err = flags.ParseUserns(c.String("userns")); err != nil {
		return s, err
	}
	if s.UIDMap, err = flags.ParseIDMaps("uidmap", c.StringSlice("uidmap")); err != nil {
		return s, err
	}
	if s.GIDMap, err = flags.ParseIDMaps("gidmap", c.StringSlice("gidmap")); err != nil {
		return s, err
	}
	if s.Links, err = flags.ParseLinks(c.StringSlice("link")); err != nil {
		return s, err
	}
	if s.Sysctls, err = flags.ParseSysctls(c.StringSlice("sysctl")); err != nil {
		return s, err
	}
	for _, ns := range []struct {
		flag string
		dst  *flags.NamespaceMode
	}{{"pid", &s.PID}, {"ipc", &s.IPC}, {"uts", &s.UTS}, {"cgroupns", &s.Cgroupns}} {
		if *ns.dst, err = flags.ParseNamespaceMode(ns.flag, c.String(ns.flag)); err != nil {
			return s, err
		}
	}
	if s.Resources, err = parseResourceFlags(c, false); err != nil {
		return s, err
	}
	return s, nil
}

// parseResourceFlags reads resourceFlags (update's when update).
func parseResourceFlags(c *cli.Context, update bool) (flags.Resources, error) {
	return flags.ParseResources(flags.ResourceFlags{
		Memory: c.String("memory"), MemorySwap: c.String("memory-swap"), MemoryReservation: c.String("memory-reservation"),
		CPUs: c.String("cpus"), CPUShares: c.String("cpu-shares"), CpusetCpus: c.String("cpuset-cpus"),
		CpusetMems: c.String("cpuset-mems"), PidsLimit: c.String("pids-limit"), BlkioWeight: c.String("blkio-weight"),
		CPUPeriod: c.String("cpu-period"), CPUQuota: c.String("cpu-quota"), MemorySwappiness: c.String("memory-swappiness"),
		OomKillDisable: c.Bool("oom-kill-disable"), Update: update,
	})
}

// cidFile is --cidfile as Docker's CLI keeps it: refused when the file
// exists, made before the container is, given the id once it exists,
// and removed when the run fails before that. Docker leaves it in place
// after the container ends, and so does box.
type cidFile struct {
	path    string
	f       *os.File
	written bool
}

func newCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil, usageErrorf("container ID file found, make sure the other container isn't running or delete %s", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("--cidfile %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, usageErrorf("failed to create the container ID file: %v", err)
	}
	return &cidFile{path: path, f: f}, nil
}

// Write records id (Docker writes it as the container is created).
func (c *cidFile) Write(id string) {
	if c == nil {
		return
	}
	if _, err := fmt.Fprint(c.f, id); err == nil {
		c.written = true
	}
}

// Close finishes the file, removing it when no id was written.
func (c *cidFile) Close() {
	if c == nil {
		return
	}
	_ = c.f.Close()
	if !c.written {
		_ = os.Remove(c.path)
	}
}

// checkDetachKeys takes --detach-keys where Docker's would not act in
// box either (-d, create: the keys belong to a later attach, which
// takes its own) and refuses it on a foreground run: that run is the
// container's monitor, which cannot be left running.
func checkDetachKeys(c *cli.Context) error {
	if !c.IsSet("detach-keys") {
		return nil
	}
	if _, err := engine.ParseDetachKeys(c.String("detach-keys")); err != nil {
		return usageErrorf("%v", err)
	}
	if !c.Bool("detach") && c.Command.Name != "create" {
		return usageErrorf("--detach-keys needs -d: box's foreground run is the container's monitor and cannot detach from it; run it with -d and use box attach --detach-keys")
	}
	return nil
}

// attachStreams reads -a/--attach: the streams a foreground run passes
// on (the others still reach the container's log), as Docker's. None
// given is all of them.
func attachStreams(c *cli.Context) (stdin, stdout, stderr bool, err error) {
	given := c.StringSlice("attach")
	if len(given) == 0 {
		return true, true, true, nil
	}
	if c.Bool("detach") {
		return false, false, false, usageErrorf("conflicting options: cannot specify both --attach and --detach")
	}
	for _, s := range given {
		switch strings.ToLower(s) {
		case "stdin":
			stdin = true
		case "stdout":
			stdout = true
		case "stderr":
			stderr = true
		default:
			return false, false, false, usageErrorf("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", s)
		}
	}
	return stdin, stdout, stderr, nil
}
