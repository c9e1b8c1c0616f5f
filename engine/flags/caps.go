package flags

import (
	"fmt"
	"strings"

	"box/engine/spec"
)

// ParseCapabilities reads --cap-add or --cap-drop values: capability
// names with or without CAP_, in any case, or ALL. It returns them as
// the runtime spells them (CAP_NET_ADMIN, ALL), which is also what
// inspect shows, as Docker's API does since 1.40.
func ParseCapabilities(list []string) ([]string, error) {
	var out []string
	for _, c := range list {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if c != "ALL" && !spec.IsCapability(c) {
			return nil, &UsageError{Msg: fmt.Sprintf("unknown capability %q", c)}
		}
		out = append(out, c)
	}
	return out, nil
}
