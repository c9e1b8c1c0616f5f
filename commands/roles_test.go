package commands

import (
	"io"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"

	"box/rootless"
)

// TestRoleTableMatchesCLI keeps rootless's table, from which the user
// namespace constructor decides before Go starts, in step with the CLI it
// describes: every global flag that takes a value is skipped there, and
// every verb it lets run outside the namespace is one of box's.
func TestRoleTableMatchesCLI(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var valued []string
	for _, f := range app.Flags {
		if _, isBool := f.(*cli.BoolFlag); isBool {
			continue
		}
		for _, n := range f.Names() {
			if len(n) == 1 {
				valued = append(valued, "-"+n)
			} else {
				valued = append(valued, "--"+n)
			}
		}
	}
	slices.Sort(valued)
	table := slices.Clone(rootless.GlobalValueFlags)
	slices.Sort(table)
	if !slices.Equal(valued, table) {
		t.Errorf("global flags with a value: CLI %q, rootless.GlobalValueFlags %q", valued, table)
	}
	for _, verb := range rootless.OutsideVerbs() {
		if verb == "help" || verb == "h" {
			continue // urfave/cli's own
		}
		if app.Command(verb) == nil {
			t.Errorf("rootless lets %q run outside the namespace, but box has no such verb", verb)
		}
	}
	for _, r := range []rootless.Role{rootless.RoleContainerInit, rootless.RoleInit, rootless.RoleMonitor, rootless.RoleNamespaceHolder, rootless.RoleNetworkGuest} {
		if app.Command(string(r)) != nil {
			t.Errorf("role %q is also a CLI verb", r)
		}
	}
}
