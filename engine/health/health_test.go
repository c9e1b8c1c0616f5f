package health

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"box/storage"
)

func TestMergeHealth(t *testing.T) {
	image := &storage.HealthConfig{Test: []string{"CMD", "check"}, Interval: 5 * time.Second, Timeout: 2 * time.Second,
		StartPeriod: time.Minute, StartInterval: time.Second, Retries: 4}
	for _, tc := range []struct {
		name        string
		user, image *storage.HealthConfig
		want        *storage.HealthConfig
	}{
		{"neither", nil, nil, nil},
		{"image only", nil, image, image},
		{"user only", &storage.HealthConfig{Test: []string{"CMD-SHELL", "x"}}, nil, &storage.HealthConfig{Test: []string{"CMD-SHELL", "x"}}},
		{"interval over the image's", &storage.HealthConfig{Interval: time.Second}, image,
			&storage.HealthConfig{Test: []string{"CMD", "check"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: time.Minute, StartInterval: time.Second, Retries: 4}},
		{"cmd and retries over the image's", &storage.HealthConfig{Test: []string{"CMD-SHELL", "y"}, Retries: 1}, image,
			&storage.HealthConfig{Test: []string{"CMD-SHELL", "y"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Minute, StartInterval: time.Second, Retries: 1}},
		{"none over the image's", &storage.HealthConfig{Test: []string{"NONE"}}, image,
			&storage.HealthConfig{Test: []string{"NONE"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Minute, StartInterval: time.Second, Retries: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Merge(tc.user, tc.image); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Merge = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestValidateHealth(t *testing.T) {
	for _, tc := range []struct {
		cfg *storage.HealthConfig
		err string
	}{
		{nil, ""},
		{&storage.HealthConfig{Interval: time.Millisecond, Timeout: time.Second}, ""},
		{&storage.HealthConfig{Interval: time.Microsecond}, "Interval in Healthcheck cannot be less than 1ms"},
		{&storage.HealthConfig{Timeout: time.Microsecond}, "Timeout in Healthcheck cannot be less than 1ms"},
		{&storage.HealthConfig{StartPeriod: time.Microsecond}, "StartPeriod in Healthcheck cannot be less than 1ms"},
		{&storage.HealthConfig{StartInterval: time.Microsecond}, "StartInterval in Healthcheck cannot be less than 1ms"},
		{&storage.HealthConfig{Retries: -1}, "Retries in Healthcheck cannot be negative"},
	} {
		err := Validate(tc.cfg)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.err {
				t.Errorf("Validate(%+v) = %q, want %q", tc.cfg, got, tc.err)
			}
		} else if tc.err != "" {
			t.Errorf("Validate(%+v) = nil, want %q", tc.cfg, tc.err)
		}
	}
}

func TestPlanHealth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   *storage.HealthConfig
		shell []string
		want  *Plan
	}{
		{"no config", nil, nil, nil},
		{"no test", &storage.HealthConfig{Interval: time.Second}, nil, nil},
		{"none", &storage.HealthConfig{Test: []string{"NONE"}}, nil, nil},
		{"unknown", &storage.HealthConfig{Test: []string{"HTTP", "x"}}, nil, nil},
		{"cmd with defaults", &storage.HealthConfig{Test: []string{"CMD", "check", "-q"}}, nil,
			&Plan{Args: []string{"check", "-q"}, interval: 30 * time.Second, Timeout: 30 * time.Second, startInterval: 5 * time.Second, retries: 3}},
		{"cmd-shell", &storage.HealthConfig{Test: []string{"CMD-SHELL", "test -f /ok"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 2}, nil,
			&Plan{Args: []string{"/bin/sh", "-c", "test -f /ok"}, interval: time.Second, Timeout: 2 * time.Second, startPeriod: 3 * time.Second, startInterval: 4 * time.Second, retries: 2}},
		{"cmd-shell with the image's shell", &storage.HealthConfig{Test: []string{"CMD-SHELL", "true"}}, []string{"/bin/bash", "-ec"},
			&Plan{Args: []string{"/bin/bash", "-ec", "true"}, interval: 30 * time.Second, Timeout: 30 * time.Second, startInterval: 5 * time.Second, retries: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewPlan(tc.cfg, tc.shell); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("NewPlan = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestHealthNext follows Docker's schedule: the start interval while
// starting within the start period, the period's rest when that is
// shorter than the interval, the interval otherwise.
func TestHealthNext(t *testing.T) {
	p := &Plan{interval: 10 * time.Second, startPeriod: 60 * time.Second, startInterval: 2 * time.Second}
	for _, tc := range []struct {
		elapsed time.Duration
		status  string
		want    time.Duration
	}{
		{0, Starting, 2 * time.Second},
		{30 * time.Second, Starting, 2 * time.Second},
		{30 * time.Second, Healthy, 10 * time.Second},
		{55 * time.Second, Starting, 5 * time.Second},
		{55 * time.Second, Healthy, 5 * time.Second},
		{60 * time.Second, Starting, 10 * time.Second},
		{90 * time.Second, Unhealthy, 10 * time.Second},
	} {
		if got := p.next(tc.elapsed, tc.status); got != tc.want {
			t.Errorf("next(%v, %s) = %v, want %v", tc.elapsed, tc.status, got, tc.want)
		}
	}
	noPeriod := &Plan{interval: time.Second, startInterval: 5 * time.Second}
	if got := noPeriod.next(0, Starting); got != time.Second {
		t.Errorf("without a start period next = %v, want the interval", got)
	}
}

// TestHealthApply runs the state machine through sequences of results.
func TestHealthApply(t *testing.T) {
	started := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return started.Add(time.Duration(s) * time.Second) }
	type step struct {
		at, code   int
		status     string
		streak, nl int // nl: log length after the step
	}
	for _, tc := range []struct {
		name  string
		plan  Plan
		steps []step
	}{
		{"pass then fail until unhealthy", Plan{retries: 2}, []step{
			{1, 0, Healthy, 0, 1},
			{2, 1, Healthy, 1, 2},
			{3, 1, Unhealthy, 2, 3},
			{4, 2, Unhealthy, 3, 4}, // other codes fail too
			{5, 0, Healthy, 0, 5},
		}},
		{"failures while starting count without a start period", Plan{retries: 3}, []step{
			{1, 1, Starting, 1, 1},
			{2, -1, Starting, 2, 2},
			{3, 1, Unhealthy, 3, 3},
		}},
		{"the start period does not count failures", Plan{retries: 1, startPeriod: 10 * time.Second}, []step{
			{1, 1, Starting, 0, 1},
			{9, 1, Starting, 0, 2},
			{10, 1, Unhealthy, 1, 3},
		}},
		{"a pass ends the start period's leniency", Plan{retries: 1, startPeriod: 10 * time.Second}, []step{
			{1, 0, Healthy, 0, 1},
			{2, 1, Unhealthy, 1, 2},
		}},
		{"the log keeps five", Plan{retries: 10}, []step{
			{1, 1, Starting, 1, 1}, {2, 1, Starting, 2, 2}, {3, 1, Starting, 3, 3},
			{4, 1, Starting, 4, 4}, {5, 1, Starting, 5, 5}, {6, 1, Starting, 6, 5},
			{7, 0, Healthy, 0, 5},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := State{Status: Starting}
			for i, s := range tc.steps {
				h = tc.plan.apply(h, Result{Start: at(s.at), End: at(s.at), ExitCode: s.code, Output: strconv.Itoa(s.at)}, started)
				if h.Status != s.status || h.FailingStreak != s.streak || len(h.Log) != s.nl {
					t.Fatalf("step %d: %s streak %d log %d, want %s streak %d log %d", i, h.Status, h.FailingStreak, len(h.Log), s.status, s.streak, s.nl)
				}
				if last := h.Log[len(h.Log)-1].Output; last != strconv.Itoa(s.at) {
					t.Fatalf("step %d: the log ends with %q, want the latest", i, last)
				}
			}
		})
	}
}

func TestLimitedBuffer(t *testing.T) {
	var b limitedBuffer
	_, _ = b.Write([]byte(strings.Repeat("a", 4000)))
	_, _ = b.Write([]byte(strings.Repeat("b", 200)))
	got := b.String()
	if want := strings.Repeat("a", 4000) + strings.Repeat("b", 96) + "..."; got != want {
		t.Fatalf("kept %d bytes ending %q, want 4096 and ...", len(got), got[len(got)-10:])
	}
	var small limitedBuffer
	_, _ = small.Write([]byte("ok\n"))
	if small.String() != "ok\n" {
		t.Fatalf("short output %q changed", small.String())
	}
}

// hostCheck is a check run on the host, in a process group of its own
// as runc's setsid makes one in the container.
type hostCheck struct{ cmd *exec.Cmd }

func startHostCheck(script string) func(*os.File) (Process, error) {
	return func(out *os.File) (Process, error) {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return hostCheck{cmd}, nil
	}
}

func (c hostCheck) Wait() (int, error) {
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return c.cmd.ProcessState.ExitCode(), err
}

func (c hostCheck) Kill() { _ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) }

func TestRunCheck(t *testing.T) {
	ctx := context.Background()
	r := RunCheck(ctx, 5*time.Second, startHostCheck("echo fine; echo warn >&2"))
	if r.ExitCode != 0 || r.Output != "fine\nwarn\n" || r.End.IsZero() {
		t.Fatalf("passing check: %+v", r)
	}
	if r = RunCheck(ctx, 5*time.Second, startHostCheck("echo broken; exit 1")); r.ExitCode != 1 || r.Output != "broken\n" {
		t.Fatalf("failing check: %+v", r)
	}
	if r = RunCheck(ctx, 5*time.Second, startHostCheck("head -c 5000 /dev/zero | tr '\\0' x")); len(r.Output) != 4096+3 || !strings.HasSuffix(r.Output, "...") {
		t.Fatalf("long output kept %d bytes", len(r.Output))
	}
	r = RunCheck(ctx, 5*time.Second, func(*os.File) (Process, error) { return nil, errors.New("exec: no such file") })
	if r.ExitCode != -1 || r.Output != "exec: no such file" {
		t.Fatalf("check that cannot start: %+v", r)
	}
}

// TestRunCheckTimeout kills a hung check, and what it started, and
// counts it as failed with Docker's message.
func TestRunCheckTimeout(t *testing.T) {
	pidFile := t.TempDir() + "/pid"
	began := time.Now()
	r := RunCheck(context.Background(), 300*time.Millisecond, startHostCheck("echo waiting; sleep 100 & echo $! > "+pidFile+"; wait"))
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("the hung check took %v", took)
	}
	if r.ExitCode != -1 || r.Output != "Health check exceeded timeout (300ms): waiting\n" {
		t.Fatalf("hung check: %+v", r)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// Killed, it lingers only until it is reaped (by init here).
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the check's child %d outlived the timeout", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if r := RunCheck(ctx, time.Minute, startHostCheck("exec sleep 100")); r.ExitCode != -1 {
		t.Fatalf("a cancelled check: %+v", r)
	}
}

// TestHealthMonitor runs the loop on a scripted prober: starting, then
// healthy, then unhealthy after the retries, and unhealthy once stopped.
func TestHealthMonitor(t *testing.T) {
	codes := []int{1, 0, 1, 1}
	var mu sync.Mutex
	var saved []State
	probed := 0
	allSeen := make(chan struct{})
	m := &Monitor{
		Plan:    &Plan{interval: 5 * time.Millisecond, Timeout: time.Second, startInterval: 5 * time.Millisecond, retries: 2, startPeriod: 500 * time.Millisecond},
		Started: time.Now(),
		Probe: func(ctx context.Context) Result {
			mu.Lock()
			defer mu.Unlock()
			code := 1
			if probed < len(codes) {
				code = codes[probed]
			}
			probed++
			if probed == len(codes)+1 {
				close(allSeen)
			}
			return Result{ExitCode: code, End: time.Now()}
		},
		Save: func(h State) {
			mu.Lock()
			saved = append(saved, h)
			mu.Unlock()
		},
	}
	Start(m, State{Status: Starting, Log: []Result{{ExitCode: 7}}})
	select {
	case <-allSeen:
	case <-time.After(10 * time.Second):
		t.Fatal("the monitor did not probe")
	}
	m.Stop()
	m.Stop() // twice is fine
	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		status string
		streak int
	}{
		{Starting, 0}, // saved as it starts
		{Starting, 0}, // the failure within the start period does not count
		{Healthy, 0},
		{Healthy, 1},
		{Unhealthy, 2},
	}
	for i, w := range want {
		if saved[i].Status != w.status || saved[i].FailingStreak != w.streak {
			t.Fatalf("state %d: %s streak %d, want %s streak %d", i, saved[i].Status, saved[i].FailingStreak, w.status, w.streak)
		}
	}
	if saved[0].Log[0].ExitCode != 7 || saved[2].Log[0].ExitCode != 7 || len(saved[2].Log) != 3 {
		t.Fatalf("the earlier log was not kept: %+v", saved[2].Log)
	}
	if saved[1].Log[1].Start.IsZero() {
		t.Fatal("a result has no start time")
	}
	if last := saved[len(saved)-1]; last.Status != Unhealthy {
		t.Fatalf("after stop the state is %s, want unhealthy", last.Status)
	}
}

func TestHealthFile(t *testing.T) {
	dir := t.TempDir()
	if Load(dir) != nil {
		t.Fatal("health without a file")
	}
	h := State{Status: Healthy, Log: []Result{{Start: time.Unix(1, 0).UTC(), End: time.Unix(2, 0).UTC(), Output: "ok"}}}
	if err := Save(dir, h); err != nil {
		t.Fatal(err)
	}
	if got := Load(dir); got == nil || !reflect.DeepEqual(*got, h) {
		t.Fatalf("Load = %+v, want %+v", got, h)
	}
	if (&State{Status: Starting}).Label() != "health: starting" || (&State{Status: Unhealthy}).Label() != "unhealthy" {
		t.Fatal("ps labels differ from Docker's")
	}
}
