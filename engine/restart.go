package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RestartPolicy is --restart, as inspect shows it in HostConfig.
type RestartPolicy struct {
	Name              string `json:"Name"` // "no", "always", "unless-stopped" or "on-failure"
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// ParseRestartPolicy reads no, always, unless-stopped or
// on-failure[:max-retries], as Docker takes them.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", "no":
		p.Name = "no"
	case "always", "unless-stopped":
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return RestartPolicy{}, &UsageError{Msg: fmt.Sprintf("invalid restart policy %q: the maximum retry count must be a number of 0 or more", s)}
			}
			p.MaximumRetryCount = n
		}
		return p, nil
	default:
		return RestartPolicy{}, &UsageError{Msg: fmt.Sprintf("invalid restart policy %q: want no, always, unless-stopped or on-failure[:max-retries]", s)}
	}
	if hasCount {
		return RestartPolicy{}, &UsageError{Msg: fmt.Sprintf("invalid restart policy %q: only on-failure takes a maximum retry count", s)}
	}
	return p, nil
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
