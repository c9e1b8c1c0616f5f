package e2e

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	units "github.com/docker/go-units"
)

// rawSize is an image's size in bytes as image inspect reports it.
func (s *imageStore) rawSize(t *testing.T, name string) int64 {
	t.Helper()
	out := strings.TrimSpace(s.must(t, "image", "inspect", "--format", "{{.Size}}", name).Stdout)
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		t.Fatalf("image inspect --format {{.Size}} %s printed %q", name, out)
	}
	return n
}

// alpineLayerSize is the unpacked size of the alpine test image's one layer: its tarball,
// decompressed.
func alpineLayerSize(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedTestdata, "alpine-3.20.3", "alpine-minirootfs-3.20.3-x86_64.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dfRows reads `system df` into TYPE -> cells.
func dfRows(t *testing.T, r Result) map[string][]string {
	t.Helper()
	rows := parseTable(t, r.Stdout)
	if got := strings.Join(rows[0], "|"); got != "TYPE|TOTAL|ACTIVE|SIZE|RECLAIMABLE" {
		t.Fatalf("system df header: %q", got)
	}
	out := map[string][]string{}
	for _, row := range rows[1:] {
		out[row[0]] = row[1:]
	}
	for _, typ := range []string{"Images", "Containers", "Local Volumes", "Build Cache"} {
		if _, ok := out[typ]; !ok {
			t.Fatalf("system df has no %s row: %s", typ, r)
		}
	}
	return out
}

func human(n int64) string { return units.HumanSize(float64(n)) }

func percent(n, total int64) string {
	return human(n) + " (" + strconv.FormatInt(n*100/total, 10) + "%)"
}

// TestPruneAndDf builds a store whose figures are known (alpine, an image committed on top
// of it that shares its layer, a dangling import) and checks df, image prune and system
// prune against them.
func TestPruneAndDf(t *testing.T) {
	layerA := alpineLayerSize(t)
	rootfs, err := makeTar(tarEntry{Name: "hello", Body: strings.Repeat("x", 100000)})
	if err != nil {
		t.Fatal(err)
	}
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine")
		alpineID := s.imageID(t, "alpine")
		s.must(t, "run", "--name", "writer", "alpine", "sh", "-c", "head -c 50000 /dev/zero > /data")
		s.must(t, "commit", "writer", "derived:1")
		s.must(t, "rm", "writer")
		derivedID := s.imageID(t, "derived:1")
		s.must(t, "run", "--name", "user", "-v", "used:/vol", "derived:1", "sh", "-c", "head -c 30000 /dev/zero > /vol/f")
		// An anonymous volume its container left behind (rm without -v).
		s.must(t, "run", "--name", "anon", "-v", "/anon", "alpine", "true")
		s.must(t, "rm", "anon")
		r := s.u.BoxWith(t, RunOpts{Stdin: string(rootfs)}, append(s.args, "import", "-")...)
		wantCode(t, r, 0)
		dangling := strings.TrimSpace(r.Stdout)

		alpine, derived, imported := s.rawSize(t, "alpine"), s.rawSize(t, "derived:1"), s.rawSize(t, dangling)
		total := alpine + derived + imported - layerA // alpine's layer counted once
		// derived is in use; alpine's layer with it. What goes: alpine's own data and the import.
		reclaim := alpine - layerA + imported
		df := dfRows(t, s.must(t, "system", "df"))
		want := []string{"3", "1", human(total), percent(reclaim, total)}
		if strings.Join(df["Images"], "|") != strings.Join(want, "|") {
			t.Fatalf("system df Images row: got %v, want %v", df["Images"], want)
		}
		if df["Containers"][0] != "1" || df["Containers"][1] != "0" {
			t.Fatalf("system df Containers row: %v, want 1 total, 0 active", df["Containers"])
		}
		// The used volume holds 30000 bytes, the left-behind one nothing.
		if strings.Join(df["Local Volumes"], "|") != "2|1|"+human(30000)+"|0B (0%)" || strings.Join(df["Build Cache"], "|") != "0|0|0B|0B" {
			t.Fatalf("system df: %v", df)
		}
		r = s.must(t, "system", "df", "-v")
		if !strings.Contains(r.Stdout, "Images space usage:") || !strings.Contains(r.Stdout, "derived") {
			t.Fatalf("system df -v: %s", r)
		}

		// The import is new: an until filter of an hour keeps it.
		wantOut(t, s.must(t, "image", "prune", "-f", "--filter", "until=1h"), "Total reclaimed space: 0B")
		r = s.must(t, "image", "prune", "-f")
		wantOut(t, r, "Deleted Images:\ndeleted: "+dangling+"\n\nTotal reclaimed space: "+human(imported))

		// -a takes alpine too, but not derived:1, which a container uses; alpine's layer stays.
		r = s.must(t, "image", "prune", "-a", "-f")
		wantLines(t, r.Stdout, "Deleted Images:", "untagged: alpine:latest", "deleted: "+alpineID,
			"Total reclaimed space: "+human(alpine-layerA))
		wantOut(t, s.must(t, "run", "--rm", "derived:1", "wc", "-c", "/data"), "50000 /data")

		r = s.must(t, "system", "prune", "-a", "-f", "--volumes")
		wantLines(t, r.Stdout, "Deleted Containers:", "Deleted Volumes:", "Deleted Images:", "untagged: derived:1", "deleted: "+derivedID)
		// Anonymous volumes go, named ones stay (Docker 23's rule).
		if vols := s.must(t, "volume", "ls", "-q").Stdout; vols != "used\n" {
			t.Fatalf("system prune --volumes should leave the named volume only: %q", vols)
		}
		wantOut(t, s.must(t, "images", "-a", "-q"), "")
		df = dfRows(t, s.must(t, "system", "df"))
		if strings.Join(df["Images"], "|") != "0|0|0B|0B" || strings.Join(df["Containers"], "|") != "0|0|0B|0B" {
			t.Fatalf("system df after system prune -a: %v", df)
		}
		r = s.box(t, "image", "prune", "-f", "--filter", "color=red")
		wantCode(t, r, 125)
	})
}

// wantLines fails unless out holds each part, each at the start of some line, in order.
func wantLines(t *testing.T, out string, parts ...string) {
	t.Helper()
	lines := outLines(out)
	i := 0
	for _, l := range lines {
		if i < len(parts) && strings.HasPrefix(l, parts[i]) {
			i++
		}
	}
	if i < len(parts) {
		t.Fatalf("output lacks %q (in this order: %q):\n%s", parts[i], parts, out)
	}
}
