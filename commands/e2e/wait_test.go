package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it reports ok, and fails the test once timeout has passed, saying
// what it waited for and the evidence cond gave last (the state it saw). It returns that
// last evidence. Tests wait on the event itself this way, never on a fixed sleep: a loaded
// CI machine makes any fixed delay too short some day.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (ok bool, evidence string)) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, evidence := cond()
		if ok {
			return evidence
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last seen: %s", timeout, what, evidence)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pollUntil polls cond for at most timeout and reports whether it came true, for a wait
// that resends its probe (a signal, a datagram) when no answer came in time.
func pollUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// syncBuffer is an io.Writer that a test may read while a process's output is copied into
// it (exec.Cmd copies into a non-file Stdout from a goroutine of its own).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// trimLeadingLines removes the lines equal to line from the start of out: the probes a test
// sent to learn that a reader was following, which may come before the output it checks.
func trimLeadingLines(out, line string) string {
	for strings.HasPrefix(out, line+"\n") {
		out = out[len(line)+1:]
	}
	return out
}

// waitExitedForGood waits until container name (whose full id is id) has exited and its
// monitor has ended: inspect shows it exited with FinishedAt set and no monitor process of
// it is left. The monitor is what applies a restart policy (nothing else can start the
// container again), so from then on a test may assert that something did not happen.
func waitExitedForGood(t *testing.T, u *User, name, id string, timeout time.Duration) {
	t.Helper()
	waitFor(t, name+" to exit and its monitor to end", timeout, func() (bool, string) {
		r := u.MustBox(t, "inspect", "-f", "{{.State.Status}} {{.State.FinishedAt}} {{.RestartCount}}", name)
		f := strings.Fields(r.Stdout)
		m := monitorsOf(id)
		ok := len(f) == 3 && f[0] == "exited" && !strings.HasPrefix(f[1], "0001-") && len(m) == 0
		return ok, fmt.Sprintf("status, finished, restarts %q; monitors %v", strings.TrimSpace(r.Stdout), m)
	})
}
