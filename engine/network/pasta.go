// Package network gives a container a private network of its own: a
// network namespace with loopback and one interface, connected to the
// host's network by a Driver (driver.go) — pasta (from the passt
// package) or gVisor's user-mode TCP/IP stack run in the calling
// process (the container's monitor) — with the container's published
// ports forwarded into it. It also holds the user-defined networks'
// pieces: their bridges and veths and their name server. It owns the
// pasta process and its arguments, the netstack and its goroutines, and
// the published-port types; it never creates containers, never prints,
// and leaves nothing running after Stop.
package network

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Port is one published port: HostPort on HostIP (empty: all
// addresses) forwarded to ContainerPort inside the container.
type Port struct {
	HostIP        string `json:"host_ip,omitempty"`
	HostPort      int    `json:"host_port"`
	ContainerPort int    `json:"container_port"`
	Proto         string `json:"proto"` // tcp or udp
}

// String is the port as Docker shows it: 0.0.0.0:8080->80/tcp.
func (p Port) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s->%d/%s", net.JoinHostPort(ip, strconv.Itoa(p.HostPort)), p.ContainerPort, p.Proto)
}

// ErrNoPasta is a private network asked for on a machine without pasta.
var ErrNoPasta error = &NoPastaError{}

// NoPastaError is pasta missing from the machine.
type NoPastaError struct{}

func (*NoPastaError) Error() string { return "pasta is not installed" }

// Hint says how to get a network without it.
func (*NoPastaError) Hint() string {
	return "install the passt package (apt install passt), or use --network netstack"
}

// PastaPath is where pasta is installed, or "" when it is not.
func PastaPath() string {
	p, err := exec.LookPath("pasta")
	if err != nil {
		return ""
	}
	return p
}

// pastaDriver is the pasta driver: a pasta process per container,
// from the passt package, which copies the host's addresses and routes
// into the namespace and maps its gateway to the host's loopback.
type pastaDriver struct{}

func (pastaDriver) Name() string { return "pasta" }

// Usable: pasta is installed, and this user may open /dev/net/tun.
func (pastaDriver) Usable() error {
	if PastaPath() == "" {
		return ErrNoPasta
	}
	if !TunAccessible() {
		return &TunError{Msg: "cannot open /dev/net/tun"}
	}
	return nil
}

// Gateway is the host's default gateway, which pasta gives the
// container as its own and maps to the host.
func (pastaDriver) Gateway() string { return Gateway() }

// DNSForward is the gateway when the host's nameservers are loopback
// addresses, which the container cannot reach: pasta answers there.
func (pastaDriver) DNSForward() string {
	gw := Gateway()
	if gw == "" || !HostNameserversLoopback() {
		return ""
	}
	return gw
}

func (pastaDriver) Attach(cfg Config) (Attachment, error) {
	p, err := SpawnPasta(cfg)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// HostNameserversLoopback says whether the host's nameservers are all
// loopback addresses (a local resolver such as systemd-resolved's).
func HostNameserversLoopback() bool {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return false
	}
	seen := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip := net.ParseIP(f[1])
			if ip == nil || !ip.IsLoopback() {
				return false
			}
			seen = true
		}
	}
	return seen
}

// Pasta is a running pasta process serving one container's network
// namespace (the pasta driver's Attachment). It is a child of the
// container's monitor and is killed when the monitor dies (Pdeathsig),
// so it never outlives the container.
type Pasta struct {
	cmd   *exec.Cmd
	done  chan struct{}
	ports []Port
	// Until Ready: where pasta says it is ready, and what it said.
	pidFile string
	stderr  *bytes.Buffer
	werr    error
}

// SpawnPasta starts pasta for the namespace and returns at once; Ready
// waits until it has configured the namespace, so that the two can
// overlap with other work. The caller calls Ready, then Stop. It is the
// pasta driver's Attach, and how the user networks' holder connects
// their shared namespace.
func SpawnPasta(cfg Config) (*Pasta, error) {
	path := PastaPath()
	if path == "" {
		return nil, ErrNoPasta
	}
	pidFile, err := os.CreateTemp("", "box-pasta-*.pid")
	if err != nil {
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	pidFile.Close()
	args := []string{
		"--config-net", "--foreground", "--quiet",
		// pasta drops to nobody when run as root; box is root only in its
		// own user namespace (or really root), where nobody could not
		// join the container's namespace.
		"--runas", "0:0",
		// The pid file is written once the namespace is configured and
		// the ports are bound: that is when the container may start.
		"--pid", pidFile.Name(),
		// Nothing but the published ports: pasta's default forwards
		// every port the container binds, and host ports into it.
		"-T", "none", "-U", "none",
		// fd 3 is the namespace; /proc/self/fd needs no ptrace access,
		// unlike the container's /proc/PID/ns/net.
		"--netns", "/proc/self/fd/3", "--no-netns-quit",
	}
	if ipv4Suffices() {
		// IPv4 alone, as Docker's default network: pasta is ready a
		// quarter sooner (about 17 ms rather than 23).
		args = append(args, "-4")
	}
	if cfg.DNSForward != "" {
		args = append(args, "--dns-forward", cfg.DNSForward)
	}
	args = append(args, portArgs("-t", "tcp", cfg.Ports)...)
	args = append(args, portArgs("-u", "udp", cfg.Ports)...)
	cmd := exec.Command(path, args...)
	p := &Pasta{cmd: cmd, done: make(chan struct{}), ports: cfg.Ports, pidFile: pidFile.Name(), stderr: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	cmd.ExtraFiles = []*os.File{cfg.NetNS}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked pasta ends, not
		// the process: this goroutine keeps its thread until pasta ends.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.werr = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		os.Remove(pidFile.Name())
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	return p, nil
}

// Ready waits until pasta has configured the namespace and bound the
// published ports; if it fails, it says why, and pasta is gone.
func (p *Pasta) Ready() error {
	defer os.Remove(p.pidFile)
	deadline := time.After(10 * time.Second)
	for {
		if b, _ := os.ReadFile(p.pidFile); len(bytes.TrimSpace(b)) > 0 {
			return nil
		}
		select {
		case <-p.done:
			return pastaError(p.stderr.String(), p.werr, p.ports)
		case <-deadline:
			p.Stop()
			return fmt.Errorf("pasta: not ready after 10s: %s", lastLine(p.stderr.String()))
		case <-time.After(time.Millisecond):
		}
	}
}

// Stop ends pasta and waits for it; the published ports close.
// It is idempotent.
func (p *Pasta) Stop() {
	if p == nil {
		return
	}
	os.Remove(p.pidFile) // when Ready was never called
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Pid is pasta's process id.
func (p *Pasta) Pid() int { return p.cmd.Process.Pid }

// TunError is /dev/net/tun refused to the user: pasta needs it.
type TunError struct{ Msg string }

func (e *TunError) Error() string {
	return "pasta: " + e.Msg + ": /dev/net/tun is not accessible to this user"
}

// Hint says how to open it, or do without.
func (e *TunError) Hint() string {
	return "make it so (chmod 0666 /dev/net/tun, as udev does on desktops) or use --network netstack"
}

// pastaError is why pasta ended before it was ready: a *TunError, a
// *PortError for a published port it could not bind, or its message.
func pastaError(out string, werr error, ports []Port) error {
	if strings.Contains(out, "tun") && (strings.Contains(out, "Failed to open") || strings.Contains(out, "ermission")) {
		return &TunError{Msg: lastLine(out)}
	}
	msg := lastLine(out)
	if msg == "" && werr != nil {
		msg = werr.Error()
	}
	if p, ok := unboundPort(msg, ports); ok {
		return &PortError{Port: p, Err: bindError(p, msg)}
	}
	return fmt.Errorf("pasta: %s", msg)
}

// unboundPort is the published port that pasta's message names as one
// it could not bind ("Failed to bind ... for '-t 8080:80'", the option
// quoted as it was given).
func unboundPort(msg string, ports []Port) (Port, bool) {
	if !strings.Contains(msg, "bind") {
		return Port{}, false
	}
	for _, p := range ports {
		flag := "-t"
		if p.Proto == "udp" {
			flag = "-u"
		}
		if opt := portArgs(flag, p.Proto, []Port{p}); strings.Contains(msg, "'"+opt[0]+" "+opt[1]+"'") {
			return p, true
		}
	}
	return Port{}, false
}

// bindError is why p cannot be bound, found by binding it as pasta
// did (pasta's message does not always say); msg when it now can be.
func bindError(p Port, msg string) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	var c interface{ Close() error }
	var err error
	if p.Proto == "udp" {
		c, err = net.ListenPacket("udp", addr)
	} else {
		c, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return err
	}
	c.Close()
	return errors.New(msg)
}

// lastLine is pasta's last message, leaving out its syslog complaints.
func lastLine(out string) string {
	last := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "Failed to send") {
			last = l
		}
	}
	return last
}

// portArgs are pasta's forwarding options for the ports of one protocol:
// one option per port, "none" when there are none.
func portArgs(flag, proto string, ports []Port) []string {
	var out []string
	for _, p := range ports {
		if p.Proto != proto {
			continue
		}
		spec := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			spec = p.HostIP + "/" + spec
		}
		out = append(out, flag, spec)
	}
	if out == nil {
		out = []string{flag, "none"}
	}
	return out
}

// Gateway is the host's IPv4 default gateway, which pasta gives the
// container as its own and maps to the host: the address by which the
// container reaches the host. It is "" when the host has no default route.
func Gateway() string {
	// This thread's, not /proc/net's: that is the main thread's, which
	// may have been left in a container's namespace (a goroutine that
	// ends locked to it in another namespace leaves it so).
	data, err := os.ReadFile("/proc/thread-self/net/route")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		v, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil || v == 0 {
			continue
		}
		// Little-endian on the machines box runs on.
		return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
	}
	return ""
}

// ipv4Suffices says whether the host reaches its network and its
// nameservers over IPv4.
func ipv4Suffices() bool {
	data, _ := os.ReadFile("/etc/resolv.conf")
	return ipv4Only(Gateway(), string(data))
}

// ipv4Only: a host with an IPv4 default route (gateway) whose
// resolv.conf names no nameserver, or an IPv4 one, needs no IPv6.
func ipv4Only(gateway, resolvConf string) bool {
	if gateway == "" {
		return false
	}
	ns := parseNameservers(resolvConf)
	for _, n := range ns {
		if ip := net.ParseIP(n); ip != nil && ip.To4() != nil {
			return true
		}
	}
	return len(ns) == 0
}

// TunAccessible says whether this process may open /dev/net/tun, which
// pasta needs; machines without udev leave it 0600, root's alone.
func TunAccessible() bool {
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
