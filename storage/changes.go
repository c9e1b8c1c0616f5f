package storage

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ApplyChanges applies Dockerfile-style instructions (`--change "CMD
// [\"sh\"]"`) to an image configuration, as `docker import -c` does: CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
// WORKDIR.
func ApplyChanges(cfg *v1.ImageConfig, changes []string) error {
	for _, c := range changes {
		instr, arg, _ := strings.Cut(strings.TrimSpace(c), " ")
		arg = strings.TrimSpace(arg)
		bad := func(why string) error { return fmt.Errorf("invalid change %q: %s", c, why) }
		switch strings.ToUpper(instr) {
		case "CMD", "ENTRYPOINT":
			cmd, err := commandForm(arg)
			if err != nil {
				return bad(err.Error())
			}
			if strings.ToUpper(instr) == "CMD" {
				cfg.Cmd = cmd
			} else {
				cfg.Entrypoint = cmd
			}
		case "ENV":
			pairs, err := keyValues(arg)
			if err != nil {
				return bad(err.Error())
			}
			for _, kv := range pairs {
				cfg.Env = setEnv(cfg.Env, kv[0]+"="+kv[1])
			}
		case "LABEL":
			pairs, err := keyValues(arg)
			if err != nil {
				return bad(err.Error())
			}
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range pairs {
				cfg.Labels[kv[0]] = kv[1]
			}
		case "EXPOSE":
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(arg) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				cfg.ExposedPorts[p] = struct{}{}
			}
		case "VOLUME":
			vols := strings.Fields(arg)
			if strings.HasPrefix(arg, "[") {
				if err := json.Unmarshal([]byte(arg), &vols); err != nil {
					return bad("want a JSON array or paths")
				}
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			for _, v := range vols {
				cfg.Volumes[v] = struct{}{}
			}
		case "USER":
			cfg.User = arg
		case "WORKDIR":
			cfg.WorkingDir = arg
		case "STOPSIGNAL":
			cfg.StopSignal = arg
		case "ONBUILD":
			// Kept as Docker keeps it; the image-spec config has no field.
		default:
			return bad("unknown instruction " + instr)
		}
		if arg == "" && strings.ToUpper(instr) != "ONBUILD" {
			return bad("missing argument")
		}
	}
	return nil
}

// commandForm reads the exec form (a JSON array) or the shell form.
func commandForm(arg string) ([]string, error) {
	if strings.HasPrefix(arg, "[") {
		var cmd []string
		if err := json.Unmarshal([]byte(arg), &cmd); err != nil {
			return nil, fmt.Errorf("not a JSON array of strings")
		}
		return cmd, nil
	}
	return []string{"/bin/sh", "-c", arg}, nil
}

// keyValues reads `k=v k2="v 2"` or the legacy `k v w` form.
func keyValues(arg string) ([][2]string, error) {
	first, rest, _ := strings.Cut(arg, " ")
	if !strings.Contains(first, "=") {
		if first == "" {
			return nil, fmt.Errorf("missing key")
		}
		return [][2]string{{first, strings.TrimSpace(rest)}}, nil
	}
	var out [][2]string
	for s := strings.TrimSpace(arg); s != ""; s = strings.TrimSpace(s) {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("want key=value pairs")
		}
		s = v
		if strings.HasPrefix(s, `"`) {
			end := strings.Index(s[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			v, s = s[1:end+1], s[end+2:]
		} else {
			v, s, _ = strings.Cut(s, " ")
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}
