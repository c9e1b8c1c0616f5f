package flags

import (
	"fmt"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
)

// Logging drivers box has.
const (
	// LogJSONFile is Docker's default: the container's output in ctr.log,
	// one JSON object per line, rotated by max-size and max-file.
	LogJSONFile = "json-file"
	// LogNone keeps nothing; `logs` refuses to read.
	LogNone = "none"
)

// LogConfig is a container's --log-driver and --log-opt values, as
// inspect shows them in HostConfig.LogConfig.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// LogRotation is what a json-file log's options ask for: rotate once the
// file holds MaxSize bytes (0: never), keeping MaxFiles files in all, the
// current one included (Docker's default 1: the full file is dropped, no
// history). Discard is the none driver: nothing is kept.
type LogRotation struct {
	MaxSize  int64
	MaxFiles int
	Discard  bool
}

// ParseLogConfig checks --log-driver ("" is json-file) and --log-opt
// KEY=VALUE values as Docker's json-file driver does (see Rotation).
func ParseLogConfig(driver string, opts []string) (LogConfig, error) {
	cfg := LogConfig{Type: driver, Config: map[string]string{}}
	if cfg.Type == "" {
		cfg.Type = LogJSONFile
	}
	if cfg.Type != LogJSONFile && cfg.Type != LogNone {
		return cfg, &UsageError{Msg: fmt.Sprintf("invalid --log-driver %q: box supports json-file and none", driver)}
	}
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return cfg, &UsageError{Msg: fmt.Sprintf("invalid --log-opt %q: want KEY=VALUE", o)}
		}
		cfg.Config[k] = v
	}
	_, err := cfg.Rotation()
	return cfg, err
}

// Rotation reads the rotation a config asks for: max-size is a size with
// a decimal unit ("10k" is 10000 bytes, "1m" 1000000), max-file a count
// of at least 1. A container's recorded config is read again with it
// each time its log is opened.
func (c LogConfig) Rotation() (LogRotation, error) {
	r := LogRotation{MaxFiles: 1, Discard: c.Type == LogNone}
	if r.Discard {
		// Docker's none driver takes whatever options it is given.
		return r, nil
	}
	bad := func(format string, a ...any) error {
		return &UsageError{Msg: "invalid --log-opt: " + fmt.Sprintf(format, a...)}
	}
	for k, v := range c.Config {
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil || n <= 0 {
				return r, bad("max-size=%s: want a positive size such as 10k or 1m", v)
			}
			r.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return r, bad("max-file=%s: want a whole number of at least 1", v)
			}
			r.MaxFiles = n
		case "compress":
			if b, err := strconv.ParseBool(v); err != nil || b {
				return r, bad("compress=%s: box does not compress rotated logs", v)
			}
		default:
			return r, bad("unknown log opt %q for json-file log driver: box knows max-size and max-file", k)
		}
	}
	return r, nil
}
