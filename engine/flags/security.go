package flags

import (
	"fmt"
	"os"
	"strings"
)

// SecurityOptions are --security-opt values, checked.
type SecurityOptions struct {
	NoNewPrivileges bool `json:"no_new_privileges,omitempty"`
	// Seccomp is "" for box's default profile, "unconfined", or the
	// JSON text of the profile file the user named.
	Seccomp string `json:"seccomp,omitempty"`
}

// ParseSecurityOpts reads --security-opt no-new-privileges[=true|false],
// seccomp=unconfined|PROFILE (the file is read here), and label and
// apparmor, which are accepted and ignored (box applies no SELinux or
// AppArmor confinement; accepting them keeps Docker scripts working).
// KEY:VALUE is taken for KEY=VALUE, as Docker's older spelling.
func ParseSecurityOpts(opts []string) (SecurityOptions, error) {
	var so SecurityOptions
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if !strings.Contains(o, "=") {
			k, v, _ = strings.Cut(o, ":")
		}
		switch k {
		case "no-new-privileges":
			switch v {
			case "", "true":
				so.NoNewPrivileges = true
			case "false":
				so.NoNewPrivileges = false
			default:
				return SecurityOptions{}, &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: no-new-privileges takes true or false", o)}
			}
		case "seccomp":
			switch v {
			case "unconfined":
				so.Seccomp = "unconfined"
			case "":
				return SecurityOptions{}, &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: seccomp takes unconfined or a profile path", o)}
			default:
				data, err := os.ReadFile(v)
				if err != nil {
					return SecurityOptions{}, &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: %v", o, err)}
				}
				so.Seccomp = string(data)
			}
		case "label", "apparmor":
		default:
			return SecurityOptions{}, &UsageError{Msg: fmt.Sprintf("invalid --security-opt %q: box knows no-new-privileges, seccomp=unconfined|PROFILE, label and apparmor", o)}
		}
	}
	return so, nil
}
