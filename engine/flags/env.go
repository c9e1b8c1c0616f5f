package flags

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ParseEnv reads --env-file files and -e values into the container's
// environment, files first so that -e wins: KEY=VALUE, or a bare KEY
// that takes the value of the caller's variable when the container is
// made (the runtime spec does that lookup), as Docker does.
func ParseEnv(env, files []string) ([]string, error) {
	out, err := readKeyFiles("env", files)
	if err != nil {
		return nil, err
	}
	return append(out, env...), nil
}

// ParseLabelsAndFiles reads --label-file files and then --label values
// ("key=value", or "key" for an empty value); later ones win. It returns
// nil for none.
func ParseLabelsAndFiles(labels, files []string) (map[string]string, error) {
	fromFiles, err := readKeyFiles("label", files)
	if err != nil {
		return nil, err
	}
	return ParseLabels(append(fromFiles, labels...))
}

// ParseLabels reads "key=value" (or "key") labels; nil for none.
func ParseLabels(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, l := range list {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid label %q: the key is empty", l)}
		}
		labels[k] = v
	}
	return labels, nil
}

// readKeyFiles reads files of KEY=VALUE lines (kind names them in errors:
// "env", "label"), skipping blank lines and # comments.
func readKeyFiles(kind string, files []string) ([]string, error) {
	var out []string
	for _, name := range files {
		lines, err := readKeyFile(kind, name)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return out, nil
}

func readKeyFile(kind, name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("open %s file: %v", kind, err)}
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, _ := strings.Cut(line, "=")
		if k == "" || strings.ContainsAny(k, " \t") {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid %s file %s line %d: key %q contains whitespace or is empty", kind, name, n, k)}
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s file %s: %w", kind, name, err)
	}
	return out, nil
}
