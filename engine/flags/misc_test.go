package flags

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want RestartPolicy
		bad  string
	}{
		{"", RestartPolicy{Name: "no"}, ""},
		{"no", RestartPolicy{Name: "no"}, ""},
		{"always", RestartPolicy{Name: "always"}, ""},
		{"unless-stopped", RestartPolicy{Name: "unless-stopped"}, ""},
		{"on-failure", RestartPolicy{Name: "on-failure"}, ""},
		{"on-failure:2", RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, ""},
		{"on-failure:-1", RestartPolicy{}, "the maximum retry count must be a number of 0 or more"},
		{"on-failure:x", RestartPolicy{}, "the maximum retry count must be a number of 0 or more"},
		{"always:3", RestartPolicy{}, "only on-failure takes a maximum retry count"},
		{"sometimes", RestartPolicy{}, `invalid restart policy "sometimes": want no, always, unless-stopped or on-failure[:max-retries]`},
	} {
		got, err := ParseRestartPolicy(c.in)
		var ue *UsageError
		if c.bad != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), c.bad)) || c.bad == "" && err != nil || got != c.want {
			t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want %+v, error about %q", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestParseLogConfig(t *testing.T) {
	for _, tc := range []struct {
		driver string
		opts   []string
		want   LogRotation
		bad    string // part of the error; "" for none
	}{
		{"", nil, LogRotation{MaxFiles: 1}, ""},
		{"json-file", []string{"max-size=10k"}, LogRotation{MaxSize: 10000, MaxFiles: 1}, ""},
		{"json-file", []string{"max-size=1m", "max-file=3"}, LogRotation{MaxSize: 1000000, MaxFiles: 3}, ""},
		{"json-file", []string{"max-size=1MB", "compress=false"}, LogRotation{MaxSize: 1000000, MaxFiles: 1}, ""},
		{"none", []string{"max-size=whatever"}, LogRotation{MaxFiles: 1, Discard: true}, ""},
		{"syslog", nil, LogRotation{}, `invalid --log-driver "syslog"`},
		{"json-file", []string{"max-size=-1"}, LogRotation{}, "max-size=-1"},
		{"json-file", []string{"max-size=lots"}, LogRotation{}, "max-size=lots"},
		{"json-file", []string{"max-file=0"}, LogRotation{}, "max-file=0"},
		{"json-file", []string{"max-file"}, LogRotation{}, "want KEY=VALUE"},
		{"json-file", []string{"=1"}, LogRotation{}, "want KEY=VALUE"},
		{"json-file", []string{"compress=true"}, LogRotation{}, "compress"},
		{"json-file", []string{"colour=red"}, LogRotation{}, `unknown log opt "colour"`},
	} {
		cfg, err := ParseLogConfig(tc.driver, tc.opts)
		if tc.bad != "" {
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("%s %v: want a usage error about %q, got %v", tc.driver, tc.opts, tc.bad, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", tc.driver, tc.opts, err)
			continue
		}
		if tc.driver == "" && cfg.Type != LogJSONFile {
			t.Errorf("no driver: %q, want json-file", cfg.Type)
		}
		if r, _ := cfg.Rotation(); r != tc.want {
			t.Errorf("%s %v: rotation %+v, want %+v", tc.driver, tc.opts, r, tc.want)
		}
	}
}

func TestParseNameOptions(t *testing.T) {
	got, err := ParseNameOptions([]string{"9.9.9.9", "2001:db8::1"}, []string{"corp"}, []string{"ndots:2"},
		[]string{"db:10.0.0.5", "gw:host-gateway", "v6=::1", "b:[::2]"})
	if err != nil {
		t.Fatal(err)
	}
	want := NameOptions{
		DNS: []string{"9.9.9.9", "2001:db8::1"}, Search: []string{"corp"}, Options: []string{"ndots:2"},
		Hosts: []Host{
			{"db", "10.0.0.5", "db:10.0.0.5"}, {"gw", HostGateway, "gw:host-gateway"},
			{"v6", "::1", "v6=::1"}, {"b", "::2", "b:[::2]"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		dns, add []string
		want     string
	}{
		{[]string{"1.2.3"}, nil, `invalid argument "1.2.3" for "--dns" flag`},
		{[]string{"example.com"}, nil, "is not an ip address"},
		{nil, []string{"nocolon"}, `bad format for add-host: "nocolon"`},
		{nil, []string{":1.2.3.4"}, "bad format for add-host"},
		{nil, []string{"a b:1.2.3.4"}, "bad format for add-host"},
		{nil, []string{"db:notanip"}, `invalid IP address in add-host: "notanip"`},
	} {
		var ue *UsageError
		if _, err := ParseNameOptions(c.dns, nil, nil, c.add); !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dns %v add-host %v: got %v, want a usage error about %q", c.dns, c.add, err, c.want)
		}
	}
}

func TestParseSecurityOpts(t *testing.T) {
	profile := writeFile(t, `{"defaultAction":"SCMP_ACT_ALLOW"}`)
	for _, c := range []struct {
		opts []string
		want SecurityOptions
	}{
		{nil, SecurityOptions{}},
		{[]string{"no-new-privileges"}, SecurityOptions{NoNewPrivileges: true}},
		{[]string{"no-new-privileges:true", "no-new-privileges=false"}, SecurityOptions{}},
		{[]string{"seccomp=unconfined", "label=disable", "apparmor=unconfined"}, SecurityOptions{Seccomp: "unconfined"}},
		{[]string{"seccomp=" + profile}, SecurityOptions{Seccomp: `{"defaultAction":"SCMP_ACT_ALLOW"}`}},
	} {
		got, err := ParseSecurityOpts(c.opts)
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.opts, got, err, c.want)
		}
	}
	for _, c := range []struct{ opt, want string }{
		{"no-new-privileges=maybe", "no-new-privileges takes true or false"},
		{"seccomp=", "seccomp takes unconfined or a profile path"},
		{"seccomp=/does/not/exist", "no such file"},
		{"selinux=x", "box knows no-new-privileges"},
	} {
		var ue *UsageError
		if _, err := ParseSecurityOpts([]string{c.opt}); !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error about %q", c.opt, err, c.want)
		}
	}
}

func TestParseNetwork(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Network
		mode string
	}{
		{"", Network{}, ""},
		{"default", Network{}, ""},
		{"bridge", Network{}, ""},
		{"private", Network{}, ""},
		{"host", Network{Mode: NetworkHost}, "host"},
		{"none", Network{Mode: NetworkNone}, "none"},
		{"container:web", Network{Mode: NetworkContainer, Name: "web"}, "container:web"},
		// No name: a name the engine will not find, as before.
		{"container:", Network{Mode: NetworkNamed, Name: "container:"}, "container:"},
		{"pasta", Network{Mode: NetworkNamed, Name: "pasta"}, "pasta"},
		{"mynet", Network{Mode: NetworkNamed, Name: "mynet"}, "mynet"},
	} {
		got := ParseNetwork(c.in)
		if got != c.want || got.String() != c.mode {
			t.Errorf("ParseNetwork(%q) = %+v (%q), want %+v (%q)", c.in, got, got.String(), c.want, c.mode)
		}
	}
}

func TestParseCapabilities(t *testing.T) {
	got, err := ParseCapabilities([]string{"net_admin", "CAP_KILL", " sys_admin ", "all", "Cap_Chown"})
	want := []string{"CAP_NET_ADMIN", "CAP_KILL", "CAP_SYS_ADMIN", "ALL", "CAP_CHOWN"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"NOT_A_CAP", "CAP_", ""} {
		var ue *UsageError
		if _, err := ParseCapabilities([]string{"KILL", bad}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "unknown capability") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestParseLinks(t *testing.T) {
	got, err := ParseLinks([]string{"db", "cache:kv", "/web:/app/www", "/old"})
	want := []Link{{"db", "db"}, {"cache", "kv"}, {"web", "www"}, {"old", "old"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if got, err := ParseLinks(nil); got != nil || err != nil {
		t.Errorf("no --link: %+v, %v", got, err)
	}
	for bad, msg := range map[string]string{
		"":      "empty string specified for links",
		"a:b:c": "bad format for links: a:b:c",
		":x":    "bad format for links: :x",
		"db:":   "bad format for links: db:",
		"/":     "bad format for links: /",
	} {
		var ue *UsageError
		if _, err := ParseLinks([]string{bad}); !errors.As(err, &ue) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: got %v, want %q", bad, err, msg)
		}
	}
}
