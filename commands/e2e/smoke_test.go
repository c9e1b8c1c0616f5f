package e2e

import (
	"strings"
	"testing"
)

// TestVersion checks that every identity can run the binary at all.
func TestVersion(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		r := u.Box(t, "version")
		if r.Code != 0 {
			t.Fatalf("box version: %s", r)
		}
		if !strings.Contains(r.Stdout, "Version") {
			t.Errorf("box version printed no Version line on stdout: %s", r)
		}
	})
}
