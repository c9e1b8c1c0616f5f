package engine

import (
	"testing"
	"time"
)

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
