package engine

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"box/engine/flags"
	"box/engine/network"
	"box/storage"
)

func TestOwnerEnvironment(t *testing.T) {
	t.Setenv("_BOX_ROOTLESS", "1001:1001:me")
	t.Setenv("_CONTAINERS_ROOTLESS_UID", "1001")
	t.Setenv(networkOwnerEnv, "older")
	client := []string{"HOME=/home/me", "_BOX_ROOTLESS=2002:2002:other", "_CONTAINERS_USERNS_CONFIGURED=done", "TERM=xterm"}
	env := ownerEnvironment(client, "abc")
	for _, want := range []string{"HOME=/home/me", "TERM=xterm", "_BOX_ROOTLESS=1001:1001:me", "_CONTAINERS_ROOTLESS_UID=1001", networkOwnerEnv + "=abc"} {
		if !slices.Contains(env, want) {
			t.Errorf("want %s in %v", want, env)
		}
	}
	for _, not := range []string{"_BOX_ROOTLESS=2002:2002:other", "_CONTAINERS_USERNS_CONFIGURED=done", networkOwnerEnv + "=older"} {
		if slices.Contains(env, not) {
			t.Errorf("%s should be gone from %v", not, env)
		}
	}
}

func TestNetworkOwnerName(t *testing.T) {
	for mode, want := range map[string]string{"container:web": "web", "container:": "", "pasta": "", "": "", "host": ""} {
		if got := networkOwnerName(mode); got != want {
			t.Errorf("networkOwnerName(%q) = %q, want %q", mode, got, want)
		}
	}
}

// TestGuestRequestCarriesRunOptions: a run's options reach the network
// guest whole, without the caller's callbacks.
func TestGuestRequestCarriesRunOptions(t *testing.T) {
	ep := ""
	opts := RunOptions{Image: "busybox", Name: "j", Detach: true, Cmd: []string{"sh", "-c", "exit 3"}, Entrypoint: &ep,
		Env: []string{"A=1"}, Network: flags.ParseNetwork("container:abc"), Puller: nopPuller{}, Created: func(string) {},
		Labels:      map[string]string{"k": "v"},
		Mounts:      []flags.Mount{{Type: flags.Bind, Source: "/h", Destination: "/c", ReadOnly: true, MakeSource: true}, {Type: flags.Volume, Source: "v", Destination: "/v", NoCopy: true, Labels: map[string]string{"a": "b"}}},
		Publish:     []network.Port{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		Names:       flags.NameOptions{DNS: []string{"9.9.9.9"}, Hosts: []flags.Host{{Name: "gw", IP: flags.HostGateway, Given: "gw=host-gateway"}}},
		Security:    flags.SecurityOptions{NoNewPrivileges: true, Seccomp: "unconfined"},
		Log:         flags.LogConfig{Type: flags.LogJSONFile, Config: map[string]string{"max-size": "1m"}},
		Restart:     flags.RestartPolicy{Name: "on-failure", MaximumRetryCount: 2},
		VolumesFrom: []flags.VolumesFrom{{Container: "other", Mode: "ro"}},
	}
	b, err := json.Marshal(guestRequest{Run: &opts})
	if err != nil {
		t.Fatal(err)
	}
	var back guestRequest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := *back.Run
	if got.Puller != nil || got.Created != nil {
		t.Errorf("callbacks crossed: %+v", got)
	}
	got.Puller, got.Created, opts.Puller, opts.Created = nil, nil, nil, nil
	if !reflect.DeepEqual(got, opts) {
		t.Errorf("run options changed on the way:\n got %+v\nwant %+v", got, opts)
	}
}

type nopPuller struct{}

func (nopPuller) Start(string, bool)     {}
func (nopPuller) Event(storage.Progress) {}
func (nopPuller) Done()                  {}
