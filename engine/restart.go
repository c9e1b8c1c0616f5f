package engine

import "time"

// RestartPolicy is a container's --restart (engine/flags parses it), as
// inspect shows it in HostConfig.
type RestartPolicy struct {
	Name              string `json:"Name"` // "no", "always", "unless-stopped" or "on-failure"
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// active says whether the policy ever restarts.
func (p RestartPolicy) active() bool { return p.Name != "" && p.Name != "no" }

// restarts says whether a container that ended with code, after
// restarted restarts so far, goes again. A stop or kill from box is
// the caller's to check: it ends every policy.
func (p RestartPolicy) restarts(code, restarted int) bool {
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaximumRetryCount == 0 || restarted < p.MaximumRetryCount)
	}
	return false
}

// Docker's back-off between restarts: 100 ms, doubling, at most a
// minute, and back to the start after a run of 10 s or more.
const (
	restartDelayFirst = 100 * time.Millisecond
	restartDelayMax   = time.Minute
	restartResetAfter = 10 * time.Second
)

func nextRestartDelay(prev, ran time.Duration) time.Duration {
	if prev == 0 || ran >= restartResetAfter {
		return restartDelayFirst
	}
	return min(2*prev, restartDelayMax)
}
