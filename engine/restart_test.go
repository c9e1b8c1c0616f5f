package engine

import (
	"testing"
	"time"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want RestartPolicy
		bad  bool
	}{
		{"", RestartPolicy{Name: "no"}, false},
		{"no", RestartPolicy{Name: "no"}, false},
		{"always", RestartPolicy{Name: "always"}, false},
		{"unless-stopped", RestartPolicy{Name: "unless-stopped"}, false},
		{"on-failure", RestartPolicy{Name: "on-failure"}, false},
		{"on-failure:2", RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, false},
		{"on-failure:-1", RestartPolicy{}, true},
		{"on-failure:x", RestartPolicy{}, true},
		{"always:3", RestartPolicy{}, true},
		{"sometimes", RestartPolicy{}, true},
	} {
		got, err := ParseRestartPolicy(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want %+v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestRestarts(t *testing.T) {
	onFailure2 := RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}
	for _, c := range []struct {
		p               RestartPolicy
		code, restarted int
		want            bool
	}{
		{onFailure2, 1, 0, true},
		{onFailure2, 1, 1, true},
		{onFailure2, 1, 2, false}, // three runs in all
		{onFailure2, 0, 0, false},
		{RestartPolicy{Name: "on-failure"}, 3, 100, true},
		{RestartPolicy{Name: "always"}, 0, 100, true},
		{RestartPolicy{Name: "unless-stopped"}, 0, 0, true},
		{RestartPolicy{Name: "no"}, 1, 0, false},
	} {
		if got := c.p.restarts(c.code, c.restarted); got != c.want {
			t.Errorf("%+v.restarts(%d, %d) = %v, want %v", c.p, c.code, c.restarted, got, c.want)
		}
	}
	d := nextRestartDelay(0, 0)
	for range 20 {
		d = nextRestartDelay(d, time.Second)
	}
	if d != restartDelayMax || nextRestartDelay(d, restartResetAfter) != restartDelayFirst {
		t.Errorf("back-off: %s", d)
	}
}
