package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unixArg is t as box events' --since and --until take Unix time, to the nanosecond.
func unixArg(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// eventLog is where box keeps u's event log (under its run root).
func eventLog(u *User) string {
	run := filepath.Join(u.RuntimeDir, "box")
	if u.StoreRunRoot != "" {
		run = u.StoreRunRoot
	}
	return filepath.Join(run, "events", "events.log")
}

// A run's life shows in box events, in order, with Docker's line and attributes; the filters
// and --format select and shape it; wait --condition removed returns the code of a --rm
// container once it is gone.
func TestEventsRunLifecycle(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	name := "ev-life"
	before := time.Now()
	// It ends when told to (the file), once wait watches it.
	id := strings.TrimSpace(u.MustBox(t, "run", "-d", "--rm", "--name", name, "--label", "com.example.k=v1", "busybox", "sh", "-c", "while [ ! -f /go ]; do sleep 0.05; done; exit 3").Stdout)
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	var waited syncBuffer
	wait := u.BoxCmd("wait", "--condition", "removed", id)
	wait.Stdout, wait.Stderr = &waited, &waited
	if err := wait.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-wait.Process.Pid, syscall.SIGKILL) })
	waitFor(t, "box wait to watch the event log", 30*time.Second, func() (bool, string) {
		return groupHasOpen(wait.Process.Pid, eventLog(u)), "not yet"
	})
	u.MustBox(t, "exec", name, "touch", "/go")
	if err := wait.Wait(); err != nil || strings.TrimSpace(waited.String()) != "3" {
		t.Fatalf("wait --condition removed of a --rm container: %v, %q", err, waited.String())
	}
	after := time.Now()
	window := []string{"events", "--since", unixArg(before), "--until", unixArg(after), "--filter", "container=" + id}

	lines := strings.Split(strings.TrimSpace(u.MustBox(t, window...).Stdout), "\n")
	attrs := "(com.example.k=v1, image=busybox, name=" + name + ")"
	want := []string{
		"container create " + id + " " + attrs,
		"container start " + id + " " + attrs,
		"container exec_start: touch /go " + id + " (com.example.k=v1, execID=*, image=busybox, name=" + name + ")",
		"container exec_die " + id + " (com.example.k=v1, execID=*, exitCode=0, image=busybox, name=" + name + ")",
		"container die " + id + " (com.example.k=v1, exitCode=3, image=busybox, name=" + name + ")",
		"container destroy " + id + " " + attrs,
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) `)
	execID := regexp.MustCompile(`execID=[0-9a-f]{64}`)
	if len(lines) != len(want) {
		t.Fatalf("want the run's %d events, got %q", len(want), lines)
	}
	for i, l := range lines {
		l = execID.ReplaceAllString(l, "execID=*")
		if !stamp.MatchString(l) || stamp.ReplaceAllString(l, "") != want[i] {
			t.Fatalf("event %d: want <time> %q, got %q", i, want[i], l)
		}
	}

	r := u.MustBox(t, append(window, "--filter", "event=die")...)
	if got := strings.TrimSpace(r.Stdout); strings.Count(got, "\n") != 0 || !strings.Contains(got, " container die "+id+" ") {
		t.Fatalf("--filter event=die: want the one die line, got %q", got)
	}
	wantOut(t, u.MustBox(t, append(window, "--filter", "event=create", "--filter", "event=start", "--filter", "event=die", "--filter", "event=destroy", "--format", "{{.Action}}")...),
		"create\nstart\ndie\ndestroy")
	wantOut(t, u.MustBox(t, append(window, "--filter", "event=die", "--format", "{{.Type}} {{.Status}} {{.From}} {{.Actor.Attributes.exitCode}} {{.ID}}")...),
		"container die busybox 3 "+id)

	r = u.MustBox(t, append(window, "--filter", "event=start", "--format", "{{json .}}")...)
	var ev struct {
		Type, Action string
		Actor        struct {
			ID         string
			Attributes map[string]string
		}
		TimeNano int64 `json:"timeNano"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &ev); err != nil {
		t.Fatalf("{{json .}}: %v: %q", err, r.Stdout)
	}
	if ev.Type != "container" || ev.Action != "start" || ev.Actor.ID != id || ev.Actor.Attributes["name"] != name ||
		ev.TimeNano < before.UnixNano() || ev.TimeNano > after.UnixNano() {
		t.Fatalf("{{json .}} gave %+v", ev)
	}

	r = u.Box(t, "events", "--filter", "colour=red", "--until", "0s")
	if r.Code != 125 {
		t.Fatalf("an unknown filter key: want exit 125, got %s", r)
	}
	r = u.Box(t, "events", "--since", "yesterday")
	if r.Code != 125 {
		t.Fatalf("a malformed --since: want exit 125, got %s", r)
	}
}

// A box events started before a run follows it: it reports the other process's events as
// they are appended, and ends cleanly when interrupted.
func TestEventsFollow(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	name := "ev-follow"
	var out syncBuffer
	cmd := u.BoxCmd("events", "--filter", "type=container", "--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		u.Box(t, "rm", "-f", name)
		u.Box(t, "volume", "rm", "-f", "ev-probe")
	})
	// Events follow from the moment box events starts: probe until it reports one.
	waitFor(t, "box events to follow the log", 60*time.Second, func() (bool, string) {
		u.MustBox(t, "volume", "create", "ev-probe")
		u.MustBox(t, "volume", "rm", "ev-probe")
		return strings.Contains(out.String(), "volume destroy ev-probe\n"), out.String()
	})
	u.MustBox(t, "run", "--rm", "--name", name, "busybox", "true")
	waitFor(t, "the run's events", 30*time.Second, func() (bool, string) {
		return strings.Contains(out.String(), "container destroy "+name+"\n"), out.String()
	})
	got := out.String()
	got = got[strings.Index(got, "container create "+name):]
	if want := "container create " + name + "\ncontainer start " + name + "\ncontainer die " + name + "\ncontainer destroy " + name + "\n"; got != want {
		t.Fatalf("followed %q, want %q", got, want)
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("box events interrupted: %v (output %q)", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("box events did not end on SIGINT")
	}
}

// A line torn by a writer killed mid-write is skipped: the events before and after it read.
func TestEventsTornLineSkipped(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	before := time.Now()
	u.MustBox(t, "volume", "create", "ev-torn1")
	t.Cleanup(func() { u.Box(t, "volume", "rm", "-f", "ev-torn1", "ev-torn2") })
	appendTo(t, eventLog(u), `{"status":"start","id":"deadbeef","from":"busybox","Type":"contain`)
	u.MustBox(t, "volume", "create", "ev-torn2")
	appendTo(t, eventLog(u), `{"Type":"volume","Action":"crea`)
	r := u.MustBox(t, "events", "--since", unixArg(before), "--until", unixArg(time.Now()), "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}")
	wantOut(t, r, "volume create ev-torn1\nvolume create ev-torn2")
}

// Past its size cap the log is rotated, one old file kept; --since reads both files.
func TestEventsRotation(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "volume", "create", "ev-rot")
	u.MustBox(t, "volume", "rm", "ev-rot")
	// Old events, more than the 1 MiB cap, as earlier runs would have left them.
	old := time.Now().Add(-time.Hour)
	var b strings.Builder
	for i := 0; b.Len() < 1<<20+4096; i++ {
		fmt.Fprintf(&b, `{"Type":"volume","Action":"create","Actor":{"ID":"ev-old%d","Attributes":{"name":"ev-old%d"}},"scope":"local","time":%d,"timeNano":%d}`+"\n",
			i, i, old.Unix(), old.UnixNano()+int64(i))
	}
	appendTo(t, eventLog(u), b.String())
	u.MustBox(t, "run", "--rm", "--name", "ev-rotate", "busybox", "true")
	if _, err := os.Stat(eventLog(u) + ".1"); err != nil {
		t.Fatalf("the full log was not rotated: %v", err)
	}
	if fi, err := os.Stat(eventLog(u)); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("the current log should be small after rotation: %v %v", fi, err)
	}
	r := u.MustBox(t, "events", "--since", unixArg(old.Add(-time.Second)), "--until", "0s", "--filter", "volume=ev-old0", "--format", "{{.Actor.ID}}")
	wantOut(t, r, "ev-old0")
	r = u.MustBox(t, "events", "--since", unixArg(old.Add(-time.Second)), "--until", "0s", "--filter", "container=ev-rotate", "--format", "{{.Action}}")
	if !strings.HasSuffix(strings.TrimSpace(r.Stdout), "start\ndie\ndestroy") {
		t.Fatalf("the run after the rotation: %q", r.Stdout)
	}
}

// groupHasOpen says whether a process of process group pgid has the file at path open.
func groupHasOpen(pgid int, path string) bool {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscanf(p.Name(), "%d", &pid); err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); err == nil && target == path {
				return true
			}
		}
	}
	return false
}

// appendTo appends s to the file at path, as another writer of the log would.
func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// wait --condition next-exit waits for the next exit, whatever state the container is in.
func TestWaitConditions(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	name := "wait-next"
	u.MustBox(t, "run", "-d", "--restart", "always", "--name", name, "busybox", "sh", "-c", "sleep 0.3; exit 7")
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	wantOut(t, u.MustBox(t, "wait", "--condition", "next-exit", name), "7")
	u.MustBox(t, "stop", name)
	code := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.State.ExitCode}}", name).Stdout)
	wantOut(t, u.MustBox(t, "wait", "--condition", "not-running", name), code)
	wantOut(t, u.MustBox(t, "wait", name), code)
	r := u.Box(t, "wait", "--condition", "someday", name)
	if r.Code != 125 {
		t.Fatalf("an unknown condition: want exit 125, got %s", r)
	}
}

// update --restart changes the policy of a running container: its monitor restarts it at
// its next exit. Unsupported flags and bad values are refused in one line.
func TestUpdateRestart(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	name := "upd-restart"
	// It runs until told to end (the file), then fails; the file stays, so every restart
	// ends at once.
	u.MustBox(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "echo up; while [ ! -f /go ]; do sleep 0.05; done; exit 1")
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	wantOut(t, u.MustBox(t, "update", "--restart", "always", name), name)
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", name), "always")
	u.MustBox(t, "exec", name, "touch", "/go")
	// The restart count goes up as the monitor restarts it, before the
	// new run has written anything: wait for the second run's line.
	waitFor(t, "the monitor to restart it and the second run's output", 60*time.Second, func() (bool, string) {
		n := strings.TrimSpace(u.MustBox(t, "inspect", "-f", "{{.RestartCount}}", name).Stdout)
		logs := u.MustBox(t, "logs", name).Stdout
		return n != "0" && n != "" && strings.Count(logs, "up") >= 2, "restart count " + n + ", logs " + strconv.Quote(logs)
	})
	u.MustBox(t, "update", "--restart", "no", name)
	u.MustBox(t, "stop", name)

	// A stopped one keeps the new policy for its next start.
	u.MustBox(t, "update", "--restart", "on-failure:2", name)
	wantOut(t, u.MustBox(t, "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", name), "on-failure:2")

	for _, args := range [][]string{
		{"update", "--cpu-rt-runtime", "5000", name},
		{"update", "--memory", "12x", name},
		{"update", name},
		{"update", "--restart", "sometimes", name},
	} {
		if r := u.Box(t, args...); r.Code != 125 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Fatalf("box %s: want one error line and exit 125, got %s", strings.Join(args, " "), r)
		}
	}
	rm := "upd-rm"
	u.MustBox(t, "create", "--rm", "--name", rm, "busybox", "true")
	t.Cleanup(func() { u.Box(t, "rm", "-f", rm) })
	if r := u.Box(t, "update", "--restart", "always", rm); r.Code == 0 || !strings.Contains(r.Stderr, "AutoRemove") {
		t.Fatalf("update --restart always of a --rm container: %s", r)
	}
}

// Images, networks and healthchecks log their events too.
func TestEventsImagesNetworksHealth(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	before := time.Now()
	u.MustBox(t, "pull", "-q", "busybox")
	u.MustBox(t, "tag", "busybox", "ev-img:1")
	u.MustBox(t, "rmi", "ev-img:1")
	u.MustBox(t, "network", "create", "ev-net")
	// disconnect and connect of a stopped container are events of the
	// network's, naming the container.
	u.MustBox(t, "create", "--name", "ev-conn", "--network", "ev-net", "busybox", "true")
	t.Cleanup(func() { u.Box(t, "rm", "-f", "ev-conn") })
	u.MustBox(t, "network", "disconnect", "ev-net", "ev-conn")
	u.MustBox(t, "network", "connect", "ev-net", "ev-conn")
	u.MustBox(t, "network", "disconnect", "ev-net", "ev-conn")
	// A run connects its network before it starts, as Docker's daemon
	// does.
	u.MustBox(t, "run", "-d", "--name", "ev-run", "--network", "ev-net", "busybox", "sleep", "60")
	t.Cleanup(func() { u.Box(t, "rm", "-f", "ev-run") })
	u.MustBox(t, "rm", "-f", "ev-run")
	u.MustBox(t, "rm", "ev-conn")
	u.MustBox(t, "network", "rm", "ev-net")
	since := []string{"events", "--since", unixArg(before), "--until", "0s", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"}
	wantOut(t, u.MustBox(t, append(since, "--filter", "image=ev-img:1")...), "image tag ev-img:1\nimage untag ev-img:1")
	wantOut(t, u.MustBox(t, append(since, "--filter", "event=pull")...), "image pull busybox:latest")
	wantOut(t, u.MustBox(t, append(since, "--filter", "network=ev-net")...), "network create ev-net\nnetwork disconnect ev-net\nnetwork connect ev-net\nnetwork disconnect ev-net\nnetwork connect ev-net\nnetwork disconnect ev-net\nnetwork destroy ev-net")
	wantOut(t, u.MustBox(t, "events", "--since", unixArg(before), "--until", "0s", "--format", "{{.Type}} {{.Action}}", "--filter", "event=connect", "--filter", "event=start"), "network connect\nnetwork connect\ncontainer start")

	name := "ev-health"
	u.MustBox(t, "run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "100ms", "busybox", "sleep", "60")
	t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
	waitFor(t, "a health_status event", 60*time.Second, func() (bool, string) {
		r := u.MustBox(t, append(since, "--filter", "container="+name, "--filter", "event=health_status")...)
		return strings.TrimSpace(r.Stdout) == "container health_status: healthy "+name, r.Stdout
	})
}
