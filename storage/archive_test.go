package storage

import (
	"box/storage/filter"

	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestDigestInName(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for name, want := range map[string]string{
		"blobs/sha256/" + hex: "sha256:" + hex,
		hex + ".json":         "sha256:" + hex,
		hex + "/layer.tar":    "",
		"blobs/sha256/xyz":    "",
		"manifest.json":       "",
	} {
		d, ok := digestInName(name)
		if ok != (want != "") || ok && d.String() != want {
			t.Errorf("digestInName(%q) = %q, %v; want %q", name, d, ok, want)
		}
	}
}

// archiveOf writes a tar of name -> content members to a file and scans it.
func archiveOf(t *testing.T, members [][2]string) (*scannedArchive, error) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m[1]))
	}
	tw.Close()
	f, err := os.CreateTemp(t.TempDir(), "a-*.tar")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(buf.Bytes())
	f.Seek(0, 0)
	t.Cleanup(func() { f.Close() })
	return scanArchive(f, t.TempDir())
}

func TestCheckDockerArchive(t *testing.T) {
	layer := func(name string) string {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Close()
		return buf.String()
	}
	archive := func(l string, diffID digest.Digest) [][2]string {
		cfg, _ := json.Marshal(v1.Image{RootFS: v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}})
		man, _ := json.Marshal([]dockerManifestItem{{Config: digest.FromBytes(cfg).Encoded() + ".json", RepoTags: []string{"x:1"}, Layers: []string{"l/layer.tar"}}})
		return [][2]string{{"l/layer.tar", l}, {digest.FromBytes(cfg).Encoded() + ".json", string(cfg)}, {"manifest.json", string(man)}}
	}
	good := layer("etc/motd")
	a, err := archiveOf(t, archive(good, digest.FromString(good)))
	if err != nil {
		t.Fatal(err)
	}
	if items, err := a.checkDockerArchive(); err != nil || len(items) != 1 || items[0].RepoTags[0] != "x:1" {
		t.Fatalf("a good archive: %v %v", items, err)
	}
	for name, members := range map[string][][2]string{
		"diff id":     archive(good, digest.FromString("other")),
		"escape":      archive(layer("a/../../x"), digest.FromString(layer("a/../../x"))),
		"missing":     archive(good, digest.FromString(good))[1:],
		"no manifest": archive(good, digest.FromString(good))[:2],
	} {
		a, err := archiveOf(t, members)
		if err == nil {
			if a.has("manifest.json") {
				_, err = a.checkDockerArchive()
			} else {
				err = badArchive("no manifest")
			}
		}
		if !errors.Is(err, ErrBadArchive) {
			t.Errorf("%s: want ErrBadArchive, got %v", name, err)
		}
	}
}

func TestScanTruncated(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o644, Size: 4096, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 4096))
	tw.Close()
	_, err := scanArchive(bytes.NewReader(buf.Bytes()[:2048]), t.TempDir())
	var ae *ArchiveError
	if !errors.As(err, &ae) || !strings.Contains(ae.Error(), "truncated") {
		t.Fatalf("a truncated archive: %v", err)
	}
}

func TestPruneFilter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	parse := func(raw ...string) (PruneFilter, error) {
		args, err := filter.Parse(raw, PruneFilters)
		if err != nil {
			return PruneFilter{}, err
		}
		return NewPruneFilter(args, now)
	}
	f, err := parse("until=1h", "label=a=b", "label!=c")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Until.Equal(now.Add(-time.Hour)) {
		t.Fatalf("until: %v", f.Until)
	}
	img := &Image{Created: now.Add(-2 * time.Hour)}
	img.Config.Config.Labels = map[string]string{"a": "b"}
	if !f.matches(img) {
		t.Fatal("an old image labelled a=b without c should match")
	}
	img.Config.Config.Labels["c"] = "x"
	if f.matches(img) {
		t.Fatal("label!=c should exclude an image labelled c")
	}
	if f.Matches(now, map[string]string{"a": "b"}) {
		t.Fatal("until=1h should keep what was made now")
	}
	for _, bad := range []string{"dangling=true", "until=yesterday", "label"} {
		if _, err := parse(bad); !errors.Is(err, filter.ErrBad) {
			t.Errorf("%q: want filter.ErrBad, got %v", bad, err)
		}
	}
}

func TestCommitConfig(t *testing.T) {
	base := []byte(`{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"],"Healthcheck":{"Test":["NONE"]}},
		"rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("1", 64) + `"]},"history":[{"created_by":"base"}],"container_config":{}}`)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err := commitConfig(base, digest.Digest("sha256:"+strings.Repeat("2", 64)), false, now, CommitOptions{
		Config: v1.ImageConfig{Cmd: []string{"sh", "-c", "x"}},
		Changes: func(c *v1.ImageConfig) error {
			c.Env = append(c.Env, "A=b")
			c.Labels = map[string]string{"k": "v"}
			return nil
		},
		Message: "msg", Author: "me", CreatedBy: "sh -c x",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(out, &got)
	cfg := got["config"].(map[string]any)
	if cfg["Healthcheck"] == nil || len(cfg["Cmd"].([]any)) != 3 || len(cfg["Env"].([]any)) != 2 {
		t.Fatalf("config section: %v", cfg)
	}
	if got["author"] != "me" || got["comment"] != "msg" || got["container_config"] != nil {
		t.Fatalf("config: %s", out)
	}
	if ids := got["rootfs"].(map[string]any)["diff_ids"].([]any); len(ids) != 2 {
		t.Fatalf("diff ids: %v", ids)
	}
	if h := got["history"].([]any); len(h) != 2 || h[1].(map[string]any)["comment"] != "msg" {
		t.Fatalf("history: %v", h)
	}
}
