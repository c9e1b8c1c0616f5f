package kube

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"box/engine"
	"box/engine/kube/k8s"
)

// probeHealth is c's liveness probe (else its readiness probe) as a box
// healthcheck (none when c has neither), with a note for play to warn
// of, or errNoProbe for a kind box cannot run. An exec probe
// is the command itself. The kubelet makes an httpGet or tcpSocket probe
// from the node to the Pod's address; box runs it inside the container,
// whose localhost is the Pod's: a GET by wget or else curl (a status from
// 200 to 399 is healthy, as the kubelet counts it), a connection by nc or
// else bash's /dev/tcp. The image must have one of them.
func probeHealth(c k8s.Container) (engine.HealthOptions, string, error) {
	probe := c.LivenessProbe
	if probe == nil {
		probe = c.ReadinessProbe
	}
	if probe == nil {
		return engine.HealthOptions{}, "", nil
	}
	timeout := probe.TimeoutSeconds
	if timeout <= 0 {
		timeout = 1 // the API's default
	}
	h := engine.HealthOptions{
		Interval:    seconds(probe.PeriodSeconds),
		Timeout:     seconds(probe.TimeoutSeconds),
		StartPeriod: seconds(probe.InitialDelaySeconds),
		Retries:     int(probe.FailureThreshold),
	}
	switch {
	case probe.Exec != nil:
		if len(probe.Exec.Command) == 0 {
			return engine.HealthOptions{}, "", errors.New("its exec probe has no command")
		}
		h.Exec = slices.Clone(probe.Exec.Command)
		return h, "", nil
	case probe.HTTPGet != nil:
		g := probe.HTTPGet
		port, err := probePort(c, g.Port)
		if err != nil {
			return engine.HealthOptions{}, "", err
		}
		scheme := strings.ToLower(g.Scheme)
		if scheme == "" {
			scheme = "http"
		}
		if scheme != "http" && scheme != "https" {
			return engine.HealthOptions{}, "", fmt.Errorf("httpGet probe scheme %q: want HTTP or HTTPS", g.Scheme)
		}
		path := g.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		url := scheme + "://" + net.JoinHostPort(probeHost(g.Host), strconv.Itoa(port)) + path
		t := strconv.Itoa(int(timeout))
		wget := []string{"wget", "-q", "-T", t, "-O", "/dev/null"}
		curl := []string{"curl", "-fsS", "-m", t, "-o", "/dev/null"}
		if scheme == "https" {
			// The kubelet does not verify the certificate either.
			wget, curl = append(wget, "--no-check-certificate"), append(curl, "-k")
		}
		for _, hd := range g.HTTPHeaders {
			wget = append(wget, "--header", hd.Name+": "+hd.Value)
			curl = append(curl, "-H", hd.Name+": "+hd.Value)
		}
		h.Cmd = shellJoin(append(wget, url)) + " 2>/dev/null || " + shellJoin(append(curl, url)) + " 2>/dev/null"
		return h, "its httpGet probe runs wget or curl inside the container", nil
	case probe.TCPSocket != nil:
		port, err := probePort(c, probe.TCPSocket.Port)
		if err != nil {
			return engine.HealthOptions{}, "", err
		}
		host, p := probeHost(probe.TCPSocket.Host), strconv.Itoa(port)
		h.Cmd = shellJoin([]string{"nc", "-z", "-w", strconv.Itoa(int(timeout)), host, p}) + " 2>/dev/null || " +
			shellJoin([]string{"bash", "-c", ": </dev/tcp/" + host + "/" + p}) + " 2>/dev/null"
		return h, "its tcpSocket probe runs nc or bash inside the container", nil
	default:
		return engine.HealthOptions{}, "", errNoProbe
	}
}

// errNoProbe is a probe of a kind box cannot run (gRPC).
var errNoProbe = errors.New("only exec, httpGet and tcpSocket probes become healthchecks")

// probeHost is a probe's host inside the container: the Pod's own
// address is its localhost.
func probeHost(h string) string {
	if h == "" {
		return "127.0.0.1"
	}
	return h
}

// probePort is a probe's port: a number, or the name of one of c's ports.
func probePort(c k8s.Container, p k8s.IntOrString) (int, error) {
	if p.IsStr {
		for _, cp := range c.Ports {
			if cp.Name != "" && cp.Name == p.Str {
				return int(cp.ContainerPort), nil
			}
		}
		return 0, fmt.Errorf("probe port %q names none of the container's ports", p.Str)
	}
	if p.Int < 1 || p.Int > 65535 {
		return 0, fmt.Errorf("probe port %d is not a port", p.Int)
	}
	return int(p.Int), nil
}

// shellJoin quotes args for sh where they need it.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.TrimLeft(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
