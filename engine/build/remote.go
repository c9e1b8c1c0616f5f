package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// isURL says whether an ADD source is a remote file.
func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// download fetches ADD's remote sources into a new directory under tmp
// (which the caller removes) and returns it with the file names to copy
// from it. Each file is named after the URL's last path element, gets
// mode 0600 and the server's Last-Modified time, as Docker does; checksum
// ("sha256:HEX"), when given, must match a single source.
func download(ctx context.Context, tmp string, sources []string, checksum string) (string, []string, error) {
	if checksum != "" && len(sources) != 1 {
		return "", nil, fmt.Errorf("ADD --checksum takes a single source")
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(tmp, "add-")
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, src := range sources {
		name, err := fetch(ctx, dir, src, checksum)
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("ADD %s: %w", src, err)
		}
		names = append(names, name)
	}
	return dir, names, nil
}

func fetch(ctx context.Context, dir, src, checksum string) (string, error) {
	u, err := url.Parse(src)
	if err != nil {
		return "", err
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		return "", fmt.Errorf("cannot tell a file name from the URL: give the destination as a file path")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the server answered %s", resp.Status)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if checksum != "" {
		algo, want, _ := strings.Cut(checksum, ":")
		if algo != "sha256" || want == "" {
			return "", fmt.Errorf("invalid --checksum %q: want sha256:HEX", checksum)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return "", fmt.Errorf("checksum mismatch: got sha256:%s, want %s", got, checksum)
		}
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		_ = os.Chtimes(p, time.Now(), lm)
	}
	return name, nil
}
