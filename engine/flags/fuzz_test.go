package flags

import (
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for -p, -v, --mount and --tmpfs (issue 17's standing
// guards): `go test` runs the seeds, scripts/fuzz runs them for longer.
// Whatever the input, an error is one line, and what is accepted is
// something the engine can use.

func oneLine(t *testing.T, what, in string, err error) {
	t.Helper()
	if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
		t.Fatalf("%s %q: error is not one line: %q", what, in, msg)
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{
		"80", "8080:80", "127.0.0.1:8080:80/udp", "[::1]:80:80", "8000-8010:9000-9010", "8000-8010:80",
		"0:80", ":80", "1:2:3:4", "80/sctp", "65536:80", "-1", "a:b", "8080:80/tcp/x", "", "::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ports, err := ParsePorts([]string{spec})
		if err != nil {
			oneLine(t, "-p", spec, err)
			return
		}
		for _, p := range ports {
			if p.ContainerPort < 1 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 {
				t.Fatalf("-p %q gave ports out of range: %+v", spec, p)
			}
			if p.Proto != "tcp" && p.Proto != "udp" {
				t.Fatalf("-p %q gave protocol %q", spec, p.Proto)
			}
		}
	})
}

func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{
		"/data", "vol:/data", "/host:/ctr:ro", "/host:/ctr:rw,rshared", "vol:/d:nocopy", "./rel:/x",
		"/a:/b:c:d", ":/x", "/x:", "C:\\x:/y", "vol:relative", "", "/host:/ctr:z,Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseVolume(v)
		if err != nil {
			oneLine(t, "-v", v, err)
			return
		}
		checkMount(t, "-v", v, m)
	})
}

func FuzzParseMount(f *testing.F) {
	for _, s := range []string{
		"type=bind,src=/a,dst=/b", "type=volume,source=v,target=/d,readonly", "type=tmpfs,dst=/t,tmpfs-size=1m",
		"type=bind,src=/a,dst=/b,bind-propagation=rslave", "type=volume,dst=/d,volume-nocopy,volume-label=a=b",
		"type=x,dst=/y", "dst=/only", "type=bind", "type=bind,src=rel,dst=/b", "type=tmpfs,dst=/t,tmpfs-mode=999",
		"", ",,,", "type=bind,src=/a,dst=/b,ro=maybe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseMount(v)
		if err != nil {
			oneLine(t, "--mount", v, err)
			return
		}
		checkMount(t, "--mount", v, m)
	})
}

func FuzzParseTmpfs(f *testing.F) {
	for _, s := range []string{"/t", "/t:size=1m,mode=1777", "rel", "/t:", ":x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseTmpfs(v)
		if err != nil {
			oneLine(t, "--tmpfs", v, err)
			return
		}
		checkMount(t, "--tmpfs", v, m)
	})
}

// checkMount: an accepted mount has an absolute, clean destination in the
// container, and a bind an absolute host path.
func checkMount(t *testing.T, flag, in string, m Mount) {
	t.Helper()
	if !filepath.IsAbs(m.Destination) || filepath.Clean(m.Destination) != m.Destination {
		t.Fatalf("%s %q: destination %q is not absolute and clean", flag, in, m.Destination)
	}
	if m.Type == Bind && (!filepath.IsAbs(m.Source) || filepath.Clean(m.Source) != m.Source) {
		t.Fatalf("%s %q: bind source %q is not absolute and clean", flag, in, m.Source)
	}
}
