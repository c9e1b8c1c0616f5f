package e2e

import (
	"strings"
	"testing"
)

// TestSharedLayersStoredOnce pulls busybox, then multi (whose amd64 image
// is busybox's layer plus one more): the shared layer is not fetched
// again and the store holds two layers, not three.
func TestSharedLayersStoredOnce(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		u.MustBox(t, "system", "reset", "-f")
		u.MustBox(t, "pull", "busybox")
		r := u.MustBox(t, "pull", "multi")
		if !strings.Contains(r.Stderr, "Already exists") {
			t.Fatalf("the shared layer was fetched again: %s", r)
		}
		r = u.MustBox(t, "unshare", "sh", "-c", `ls "$BOX_STORAGE_ROOT"/overlay-layers/ | grep -c 'tar-split.gz$'`)
		wantOut(t, r, "2")
		r = u.MustBox(t, "run", "--rm", "multi")
		wantOut(t, r, "amd64")
	})
}
