package events

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func actions(t *testing.T, l *Log, opts ReadOptions) []string {
	t.Helper()
	var got []string
	if err := l.Follow(context.Background(), false, opts, func(ev Event) error {
		got = append(got, ev.Action)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendAndReadInOrder(t *testing.T) {
	l := Open(filepath.Join(t.TempDir(), "events"))
	for _, a := range []string{"create", "start", "die", "destroy"} {
		if err := l.Append(New(Container, a, "abc", map[string]string{"name": "x", "image": "busybox"})); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprint(actions(t, l, ReadOptions{Since: time.Unix(1, 0)}))
	if got != "[create start die destroy]" {
		t.Fatalf("read %s", got)
	}
	only := fmt.Sprint(actions(t, l, ReadOptions{Since: time.Unix(1, 0), Filter: Filter{"event": {"die"}}}))
	if only != "[die]" {
		t.Fatalf("event=die read %s", only)
	}
}

func TestTornLinesAreSkipped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	l := Open(dir)
	l.Emit(Container, "create", "a", nil)
	// A writer killed mid-line, then another writer appending after it.
	f, err := os.OpenFile(filepath.Join(dir, fileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"status":"start","id":"a","Type":"contai`)
	f.Close()
	l.Emit(Container, "die", "a", nil)
	f, _ = os.OpenFile(filepath.Join(dir, fileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"Type":"network","Act`)
	f.Close()
	if got := fmt.Sprint(actions(t, l, ReadOptions{Since: time.Unix(1, 0)})); got != "[create die]" {
		t.Fatalf("read %s", got)
	}
}

func TestRotationKeepsOneOldFile(t *testing.T) {
	l := Open(filepath.Join(t.TempDir(), "events")).WithMaxSize(2000)
	for i := range 40 {
		l.Emit(Volume, fmt.Sprintf("a%d", i), "v", nil)
	}
	got := actions(t, l, ReadOptions{Since: time.Unix(1, 0)})
	if len(got) == 0 || got[len(got)-1] != "a39" {
		t.Fatalf("the newest event is missing: %v", got)
	}
	for i := 1; i < len(got); i++ {
		var a, b int
		fmt.Sscanf(got[i-1], "a%d", &a)
		fmt.Sscanf(got[i], "a%d", &b)
		if b != a+1 {
			t.Fatalf("events out of order or lost between the files: %v", got)
		}
	}
	if len(got) >= 40 {
		t.Fatalf("nothing was rotated away: %d events", len(got))
	}
	if _, err := os.Stat(filepath.Join(l.dir, oldName)); err != nil {
		t.Fatalf("no old file: %v", err)
	}
}

func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	l := Open(filepath.Join(t.TempDir(), "events"))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				l.Emit(Container, "start", fmt.Sprintf("%d-%d", w, i), map[string]string{"pad": string(make([]byte, 300))})
			}
		}()
	}
	wg.Wait()
	if n := len(actions(t, l, ReadOptions{Since: time.Unix(1, 0)})); n != 400 {
		t.Fatalf("read %d of 400 events", n)
	}
}

func TestFollowSeesLaterEventsAndEndsAtUntil(t *testing.T) {
	// Small enough that the burst below rotates the file once between two
	// polls of the follower.
	l := Open(filepath.Join(t.TempDir(), "events")).WithMaxSize(1500)
	l.Emit(Image, "pull", "old", nil)
	got := make(chan string, 100)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		errc <- l.Follow(ctx, true, ReadOptions{}, func(ev Event) error {
			got <- ev.Action
			return nil
		})
	}()
	// Events written while the follower runs, across rotations; the
	// follower started before some of them, so wait until it reports one.
	deadline := time.Now().Add(10 * time.Second)
	first := ""
	for first == "" {
		l.Emit(Image, "probe", "x", nil)
		select {
		case first = <-got:
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the follower saw nothing")
			}
		}
	}
	for i := range 10 {
		l.Emit(Image, fmt.Sprintf("n%d", i), "x", nil)
	}
	for i := 0; i < 10; {
		select {
		case a := <-got:
			if a == "probe" {
				continue
			}
			if a != fmt.Sprintf("n%d", i) {
				t.Fatalf("followed %s, want n%d", a, i)
			}
			i++
		case <-time.After(10 * time.Second):
			t.Fatalf("followed only %d of 10 events", i)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.dir, oldName)); err != nil {
		t.Fatalf("the burst did not rotate the log: %v", err)
	}
	// With until in the past, it ends by itself.
	if err := l.Follow(context.Background(), true, ReadOptions{Since: time.Unix(1, 0), Until: time.Now()}, func(Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Unix(1000, 0)
	for in, want := range map[string]time.Time{
		"10s":                  time.Unix(990, 0),
		"1700000000.5":         time.Unix(1700000000, 500000000),
		"1700000000":           time.Unix(1700000000, 0),
		"2024-01-01T00:00:00Z": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("yesterday", now); err == nil {
		t.Error("yesterday parsed")
	}
}

func TestFilterMatch(t *testing.T) {
	ev := New(Container, "die", "abcdef", map[string]string{"name": "web", "image": "busybox", "com.x": "1"})
	for _, c := range []struct {
		f    Filter
		want bool
	}{
		{Filter{"container": {"web"}}, true},
		{Filter{"container": {"abc"}}, true},
		{Filter{"container": {"db"}}, false},
		{Filter{"container": {"db", "web"}, "event": {"die"}}, true},
		{Filter{"event": {"start"}}, false},
		{Filter{"type": {"image"}}, false},
		{Filter{"image": {"busybox"}}, true},
		{Filter{"label": {"com.x=1"}}, true},
		{Filter{"label": {"com.x=2"}}, false},
		{Filter{"network": {"n"}}, false},
	} {
		if got := c.f.Match(ev); got != c.want {
			t.Errorf("%v: got %v", c.f, got)
		}
	}
	// Docker matches the action's head: event=health_status takes
	// "health_status: healthy", event=exec_start "exec_start: ls /".
	health := New(Container, "health_status: healthy", "abc", nil)
	if !(Filter{"event": {"health_status"}}).Match(health) || (Filter{"event": {"health"}}).Match(health) {
		t.Error("event=health_status should match health_status: healthy, and event=health not")
	}
	// A network's connect names the container, but its actor is the
	// network: container= does not select it (Docker's fuzzyMatchName).
	conn := New(Network, "connect", "net1", map[string]string{"name": "n", "container": "abcdef"})
	if !(Filter{"network": {"n"}}).Match(conn) || (Filter{"container": {"abcdef"}}).Match(conn) {
		t.Error("a network connect should match its network, and not its container")
	}
}

// BenchmarkAppend is the cost each event adds to a verb (four per `run
// --rm`: create, start, die, destroy).
func BenchmarkAppend(b *testing.B) {
	l := Open(filepath.Join(b.TempDir(), "events"))
	attrs := map[string]string{"name": "x", "image": "busybox"}
	for b.Loop() {
		l.Emit(Container, "start", "7855e7b4ae2fc4e07d268519a44a7b11fddcf2e3ed947f21eb0922f86e828335", attrs)
	}
}
