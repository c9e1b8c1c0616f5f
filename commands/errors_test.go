package commands

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"box/engine"
	"box/rootless"
)

// TestPrintErrorHint: an error that knows its fix prints it on a line of
// its own, however deeply it is wrapped; others print one line.
func TestPrintErrorHint(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "Error: plain\n"},
		{fmt.Errorf("run: %w", &rootless.DisabledError{Cause: "sysctl x is 0", Fix: "sudo sysctl -w x=1"}),
			"Error: run: user namespaces are disabled: sysctl x is 0\nHint: sudo sysctl -w x=1\n"},
		{&engine.UsageError{Msg: "bad"}, "Error: bad\n"},
		{&engine.UsageError{Msg: "bad", Fix: "do y"}, "Error: bad\nHint: do y\n"},
	} {
		var b bytes.Buffer
		printError(&b, tc.err)
		if b.String() != tc.want {
			t.Errorf("printError(%v) printed %q, want %q", tc.err, b.String(), tc.want)
		}
	}
}
