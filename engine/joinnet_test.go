package engine

import (
	"slices"
	"testing"
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
