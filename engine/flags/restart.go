package flags

import (
	"fmt"
	"strconv"
	"strings"
)

// RestartPolicy is --restart: Name is "no", "always", "unless-stopped"
// or "on-failure", which alone takes MaximumRetryCount (0: no limit).
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// ParseRestartPolicy reads no, always, unless-stopped or
// on-failure[:max-retries], as Docker takes them; "" is no.
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
