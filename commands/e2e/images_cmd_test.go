package e2e

// Docker's image verbs: images (image ls), image inspect and inspect, tag, rmi (image rm) and
// history, driven as each user against a store of the test's own, so that what a listing shows
// is exactly what the test put there.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageStore is a box store of one test's own for u: --root and --runroot under the scratch tree,
// emptied with `box system reset` when the test ends.
type imageStore struct {
	u    *User
	args []string
}

func newImageStore(t *testing.T, u *User) *imageStore {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "images-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	root, run := filepath.Join(dir, "root"), filepath.Join(dir, "run")
	for _, d := range []string{dir, root, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
	}
	s := &imageStore{u: u, args: []string{"--root", root, "--runroot", run}}
	t.Cleanup(func() {
		if r := s.box(t, "system", "reset", "-f"); r.Code != 0 {
			t.Logf("cleanup: box system reset: %s", r)
		}
	})
	return s
}

// box runs box as the store's user on the store.
func (s *imageStore) box(t *testing.T, args ...string) Result {
	t.Helper()
	return s.u.Box(t, append(append([]string{}, s.args...), args...)...)
}

// must is box that fails the test unless box exits 0.
func (s *imageStore) must(t *testing.T, args ...string) Result {
	t.Helper()
	r := s.box(t, args...)
	if r.Code != 0 {
		t.Fatalf("%s: box %s: %s", s.u.Name, quoteArgs(args), r)
	}
	return r
}

// pull pulls each name quietly, failing the test on error.
func (s *imageStore) pull(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		s.must(t, "pull", "-q", n)
	}
}

// imageID returns the full id (sha256:...) of the image name, as image inspect reports it.
func (s *imageStore) imageID(t *testing.T, name string) string {
	t.Helper()
	id := strings.TrimSpace(s.must(t, "image", "inspect", "--format", "{{.Id}}", name).Stdout)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("image inspect --format {{.Id}} %s printed %q, want sha256:<64 hex>", name, id)
	}
	return id
}

// parseTable splits a table that box printed into rows of cells: columns are at least three spaces
// apart (Docker's tabwriter padding), while a cell holds at most single spaces.
func parseTable(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		rows = append(rows, regexp.MustCompile(`\s{3,}`).Split(strings.TrimRight(line, " "), -1))
	}
	if len(rows) == 0 {
		t.Fatalf("no table in output %q", out)
	}
	return rows
}

func outLines(out string) []string {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// alpineDigests returns the manifest and config digests of the alpine test image as the
// harness pushed it.
func alpineDigests(t *testing.T) (manifest, config string) {
	t.Helper()
	dir := t.TempDir()
	desc, err := writeAlpineImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := readLayoutImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return desc.Digest.String(), m.Config.Digest.String()
}

// busyboxConfigDigest is the config digest of the BusyBox musl image (its image id).
func busyboxConfigDigest(t *testing.T) string {
	t.Helper()
	m, _, err := readLayoutImage(filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci"))
	if err != nil {
		t.Fatal(err)
	}
	return m.Config.Digest.String()
}

func TestImagesList(t *testing.T) {
	_, alpineConfig := alpineDigests(t)
	busyboxConfig := busyboxConfigDigest(t)
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		empty := parseTable(t, s.must(t, "images").Stdout)
		if len(empty) != 1 || strings.Join(empty[0], "|") != "REPOSITORY|TAG|IMAGE ID|CREATED|SIZE" {
			t.Fatalf("images on an empty store: want only the header REPOSITORY TAG IMAGE ID CREATED SIZE, got %q", empty)
		}
		s.pull(t, "alpine", "busybox")

		rows := parseTable(t, s.must(t, "images").Stdout)
		if len(rows) != 3 {
			t.Fatalf("images after pulling alpine and busybox: want header and 2 rows, got %q", rows)
		}
		// BusyBox (2026) is newer than Alpine 3.20.3 (2024): newest first, as Docker.
		want := [][]string{
			{"busybox", "latest", strings.TrimPrefix(busyboxConfig, "sha256:")[:12]},
			{"alpine", "latest", strings.TrimPrefix(alpineConfig, "sha256:")[:12]},
		}
		for i, w := range want {
			row := rows[i+1]
			if len(row) != 5 {
				t.Fatalf("row %d: want 5 columns, got %q", i+1, row)
			}
			if row[0] != w[0] || row[1] != w[1] || row[2] != w[2] {
				t.Errorf("row %d: want %s %s %s, got %q", i+1, w[0], w[1], w[2], row)
			}
			if !strings.HasSuffix(row[3], " ago") {
				t.Errorf("row %d: CREATED %q is not Docker's \"... ago\"", i+1, row[3])
			}
			if !regexp.MustCompile(`^[0-9.]+(B|kB|MB|GB)$`).MatchString(row[4]) {
				t.Errorf("row %d: SIZE %q is not Docker's human size", i+1, row[4])
			}
		}
		if rows[2][3] != "2 years ago" && !strings.Contains(rows[2][3], "years ago") {
			t.Errorf("alpine (built 2024-09-06) shows CREATED %q, want years ago", rows[2][3])
		}
		if !aboutAlpineSize(rows[2][4]) {
			t.Errorf("alpine's SIZE is %q, want about 8MB (the minirootfs unpacked)", rows[2][4])
		}

		// The noun-verb spellings list the same.
		for _, alias := range [][]string{{"image", "ls"}, {"image", "list"}} {
			if r := s.must(t, alias...); r.Stdout != s.must(t, "images").Stdout {
				t.Errorf("box %s printed\n%s\nbut box images printed\n%s", strings.Join(alias, " "), r.Stdout, s.must(t, "images").Stdout)
			}
		}

		q := outLines(s.must(t, "images", "-q").Stdout)
		if len(q) != 2 || q[0] != want[0][2] || q[1] != want[1][2] {
			t.Errorf("images -q: want %s and %s, got %q", want[0][2], want[1][2], q)
		}

		noTrunc := parseTable(t, s.must(t, "images", "--no-trunc").Stdout)
		if len(noTrunc) != 3 || noTrunc[1][2] != busyboxConfig || noTrunc[2][2] != alpineConfig {
			t.Errorf("images --no-trunc: want full ids %s and %s, got %q", busyboxConfig, alpineConfig, noTrunc)
		}

		got := outLines(s.must(t, "images", "--format", "{{.Repository}}:{{.Tag}}").Stdout)
		if strings.Join(got, ",") != "busybox:latest,alpine:latest" {
			t.Errorf("images --format {{.Repository}}:{{.Tag}}: want busybox:latest and alpine:latest, no header; got %q", got)
		}

		custom := parseTable(t, s.must(t, "images", "--format", "table {{.Repository}}\t{{.ID}}").Stdout)
		if len(custom) != 3 || strings.Join(custom[0], "|") != "REPOSITORY|IMAGE ID" || custom[1][0] != "busybox" {
			t.Errorf("images --format 'table {{.Repository}}\\t{{.ID}}': want header REPOSITORY IMAGE ID and 2 rows, got %q", custom)
		}

		// The positional REPOSITORY[:TAG] narrows the list.
		only := parseTable(t, s.must(t, "images", "busybox").Stdout)
		if len(only) != 2 || only[1][0] != "busybox" {
			t.Errorf("images busybox: want only the busybox row, got %q", only)
		}
		if r := parseTable(t, s.must(t, "images", "alpine:3.20.3").Stdout); len(r) != 1 {
			t.Errorf("images alpine:3.20.3 (a tag not pulled): want the header alone, got %q", r)
		}
	})
}

func TestImagesDigestsAndJSON(t *testing.T) {
	alpineManifest, alpineConfig := alpineDigests(t)
	s := newImageStore(t, Rootless)
	s.pull(t, "alpine", "busybox")

	rows := parseTable(t, s.must(t, "images", "--digests").Stdout)
	if len(rows) != 3 || strings.Join(rows[0], "|") != "REPOSITORY|TAG|DIGEST|IMAGE ID|CREATED|SIZE" {
		t.Fatalf("images --digests: want the header REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE and 2 rows, got %q", rows)
	}
	if rows[1][0] != "busybox" || rows[1][2] != busyboxMuslDigest {
		t.Errorf("images --digests: busybox's DIGEST should be the manifest digest the registry served (%s), got row %q", busyboxMuslDigest, rows[1])
	}
	if rows[2][0] != "alpine" || rows[2][2] != alpineManifest {
		t.Errorf("images --digests: alpine's DIGEST should be %s, got row %q", alpineManifest, rows[2])
	}
	d := outLines(s.must(t, "images", "--format", "{{.Repository}} {{.Digest}}").Stdout)
	if len(d) != 2 || d[0] != "busybox "+busyboxMuslDigest {
		t.Errorf("images --format '{{.Repository}} {{.Digest}}': want %q first, got %q", "busybox "+busyboxMuslDigest, d)
	}

	out := outLines(s.must(t, "images", "--format", "json").Stdout)
	if len(out) != 2 {
		t.Fatalf("images --format json: want one JSON object per line, 2 lines, got %q", out)
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(out[1]), &obj); err != nil {
		t.Fatalf("images --format json: line %q is not a JSON object of strings: %v", out[1], err)
	}
	wantJSON := map[string]string{
		"Repository": "alpine", "Tag": "latest", "ID": strings.TrimPrefix(alpineConfig, "sha256:")[:12],
		"Containers": "N/A",
	}
	for k, v := range wantJSON {
		if obj[k] != v {
			t.Errorf("images --format json: %s = %q, want %q (object %s)", k, obj[k], v, out[1])
		}
	}
	for _, k := range []string{"CreatedSince", "CreatedAt", "Size", "Digest"} {
		if obj[k] == "" {
			t.Errorf("images --format json: field %s missing or empty in %s", k, out[1])
		}
	}
	if !strings.HasSuffix(obj["CreatedSince"], " ago") || !strings.HasPrefix(obj["CreatedAt"], "2024-09-0") {
		t.Errorf("images --format json: CreatedSince %q, CreatedAt %q: want \"... ago\" and Alpine's 2024-09-06", obj["CreatedSince"], obj["CreatedAt"])
	}

	// {{json .}} is the same object as --format json.
	if j := outLines(s.must(t, "images", "--format", "{{json .}}").Stdout); len(j) != 2 || j[1] != out[1] {
		t.Errorf("images --format '{{json .}}' printed %q, want the --format json lines %q", j, out)
	}
}

func TestImagesFilters(t *testing.T) {
	s := newImageStore(t, Rootless)

	// An image with labels, in the registry as docker.io/library/labeled, built between
	// Alpine 3.20.3 (2024) and BusyBox 1.38 (2026).
	dir := filepath.Join(t.TempDir(), "labeled")
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	buildImage(t, dir, ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Cmd:    []string{"true"},
			Labels: map[string]string{"com.example.role": "web", "com.example.tier": "front"},
		},
	}, tarLayer(t, tarEntry{Name: "hello", Body: "hello\n"}))
	pushLayout(t, dir, "library/labeled:latest")
	s.pull(t, "alpine", "busybox", "labeled")
	s.must(t, "tag", "alpine", "myalpine:v1")

	repoTags := func(args ...string) []string {
		t.Helper()
		out := outLines(s.must(t, append([]string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, args...)...).Stdout)
		sort.Strings(out)
		return out
	}
	cases := []struct {
		filters []string
		want    string
	}{
		{[]string{"reference=alpine"}, "alpine:latest"},
		{[]string{"reference=*alpine"}, "alpine:latest,myalpine:v1"},
		{[]string{"reference=myalpine:v1"}, "myalpine:v1"},
		{[]string{"reference=busybox:*"}, "busybox:latest"},
		{[]string{"reference=alpine", "reference=busybox"}, "alpine:latest,busybox:latest"},
		{[]string{"reference=nothing*"}, ""},
		{[]string{"label=com.example.role"}, "labeled:latest"},
		{[]string{"label=com.example.role=web"}, "labeled:latest"},
		{[]string{"label=com.example.role=db"}, ""},
		{[]string{"label=com.example.role", "label=com.example.tier=front"}, "labeled:latest"},
		{[]string{"dangling=false"}, "alpine:latest,busybox:latest,labeled:latest,myalpine:v1"},
		{[]string{"dangling=true"}, ""},
		{[]string{"before=busybox"}, "alpine:latest,labeled:latest,myalpine:v1"},
		{[]string{"since=alpine"}, "busybox:latest,labeled:latest"},
		{[]string{"since=alpine", "before=busybox"}, "labeled:latest"},
	}
	for _, c := range cases {
		var args []string
		for _, f := range c.filters {
			args = append(args, "--filter", f)
		}
		if got := strings.Join(repoTags(args...), ","); got != c.want {
			t.Errorf("images %s: want [%s], got [%s]", quoteArgs(args), c.want, got)
		}
	}
	// -f is --filter's short form.
	if got := strings.Join(repoTags("-f", "reference=busybox"), ","); got != "busybox:latest" {
		t.Errorf("images -f reference=busybox: want busybox:latest, got %s", got)
	}

	// busybox:glibc pulled and retagged as busybox:latest leaves the musl image without a
	// name: dangling, listed as <none> <none>.
	muslID := s.imageID(t, "busybox")
	s.pull(t, "busybox:glibc")
	s.must(t, "tag", "busybox:glibc", "busybox:latest")
	dangling := parseTable(t, s.must(t, "images", "--filter", "dangling=true").Stdout)
	if len(dangling) != 2 || dangling[1][0] != "<none>" || dangling[1][1] != "<none>" || dangling[1][2] != strings.TrimPrefix(muslID, "sha256:")[:12] {
		t.Errorf("images --filter dangling=true: want one <none> <none> row for the untagged musl image %s, got %q", muslID, dangling)
	}
	if got := strings.Join(repoTags("--filter", "dangling=false"), ","); strings.Contains(got, "<none>") {
		t.Errorf("images --filter dangling=false lists an untagged image: %s", got)
	}
	if got := repoTags(); !hasString(got, "<none>:<none>") {
		t.Errorf("images without filters should list the untagged image as <none>:<none>, got %q", got)
	}
	if got := repoTags("--filter", "reference=*"); hasString(got, "<none>:<none>") {
		t.Errorf("a reference filter should hide untagged images, as Docker; got %q", got)
	}

	for _, bad := range []struct{ filter, msg string }{
		{"dangling=maybe", "invalid filter 'dangling=maybe'"},
		{"colour=red", "invalid filter 'colour'"},
		{"before=nothing-here", "No such image: nothing-here"},
	} {
		r := s.box(t, "images", "--filter", bad.filter)
		if r.Code != 1 || !strings.Contains(r.Stderr, "Error: "+bad.msg) {
			t.Errorf("images --filter %s: want exit 1 and %q, got %s", bad.filter, "Error: "+bad.msg, r)
		}
	}
	if r := s.box(t, "images", "--filter", "dangling"); r.Code != 125 || !strings.Contains(r.Stderr, "bad format of filter (expected name=value)") {
		t.Errorf("images --filter dangling (no value): want exit 125 and Docker's flag error, got %s", r)
	}
}

// aboutAlpineSize reports whether a human size is the unpacked Alpine minirootfs: between 7.5
// and 8.5 MB (Docker counts file contents, 7.8MB; box, like Podman, the layer's tar, 8.09MB).
func aboutAlpineSize(s string) bool {
	var mb float64
	if _, err := fmt.Sscanf(s, "%gMB", &mb); err != nil || !strings.HasSuffix(s, "MB") {
		return false
	}
	return mb >= 7.5 && mb <= 8.5
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// imageInspect is the part of `image inspect`'s JSON the tests read.
type imageInspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Parent       string
	Created      string
	Architecture string
	Os           string
	Size         int64
	Config       struct {
		Cmd        []string
		Env        []string
		Entrypoint []string
		Labels     map[string]string
	}
	RootFS struct {
		Type   string
		Layers []string
	}
	Metadata struct {
		LastTagTime string
	}
}

func TestImageInspect(t *testing.T) {
	alpineManifest, alpineConfig := alpineDigests(t)
	for _, u := range []*User{Rootless, requireRoot(t)} {
		t.Run(u.Mode, func(t *testing.T) {
			s := newImageStore(t, u)
			s.pull(t, "alpine", "busybox")

			r := s.must(t, "image", "inspect", "alpine", "busybox")
			var got []imageInspect
			if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
				t.Fatalf("image inspect printed no JSON array: %v\n%s", err, r.Stdout)
			}
			if len(got) != 2 {
				t.Fatalf("image inspect alpine busybox: want 2 objects, got %d", len(got))
			}
			a := got[0]
			if a.ID != alpineConfig {
				t.Errorf("Id = %s, want the config digest %s", a.ID, alpineConfig)
			}
			if strings.Join(a.RepoTags, ",") != "alpine:latest" {
				t.Errorf("RepoTags = %q, want [alpine:latest]", a.RepoTags)
			}
			if strings.Join(a.RepoDigests, ",") != "alpine@"+alpineManifest {
				t.Errorf("RepoDigests = %q, want [alpine@%s]", a.RepoDigests, alpineManifest)
			}
			if a.Architecture != "amd64" || a.Os != "linux" {
				t.Errorf("Architecture/Os = %s/%s, want amd64/linux", a.Architecture, a.Os)
			}
			if a.Created != "2024-09-06T00:00:00Z" {
				t.Errorf("Created = %q, want 2024-09-06T00:00:00Z", a.Created)
			}
			if a.RootFS.Type != "layers" || len(a.RootFS.Layers) != 1 || !strings.HasPrefix(a.RootFS.Layers[0], "sha256:") {
				t.Errorf("RootFS = %+v, want type layers and the one diff id", a.RootFS)
			}
			if strings.Join(a.Config.Cmd, " ") != "/bin/sh" || len(a.Config.Env) != 1 {
				t.Errorf("Config = %+v, want Cmd [/bin/sh] and the PATH Env", a.Config)
			}
			if a.Size < 7_500_000 || a.Size > 8_500_000 {
				t.Errorf("Size = %d, want the unpacked minirootfs, about 8 MB", a.Size)
			}
			if a.Metadata.LastTagTime != "0001-01-01T00:00:00Z" {
				t.Errorf("Metadata.LastTagTime = %q for a pulled image, want Docker's zero time", a.Metadata.LastTagTime)
			}
			b := got[1]
			if strings.Join(b.RepoDigests, ",") != "busybox@"+busyboxMuslDigest || strings.Join(b.Config.Cmd, " ") != "sh" {
				t.Errorf("busybox: RepoDigests %q, Cmd %q; want [busybox@%s] and [sh]", b.RepoDigests, b.Config.Cmd, busyboxMuslDigest)
			}
			// Keys Docker always prints are there, even when empty.
			for _, key := range []string{`"Parent": ""`, `"Comment": ""`, `"Entrypoint": null`, `"Labels": null`, `"Hostname": ""`, `"GraphDriver"`} {
				if !strings.Contains(r.Stdout, key) {
					t.Errorf("image inspect output lacks %s:\n%s", key, r.Stdout)
				}
			}

			for _, c := range []struct{ format, want string }{
				{"{{.Id}}", alpineConfig},
				{"{{.Config.Cmd}}", "[/bin/sh]"},
				{"{{json .Config.Cmd}}", `["/bin/sh"]`},
				{"{{.Architecture}}/{{.Os}}", "amd64/linux"},
				{"{{len .RootFS.Layers}}", "1"},
				{"{{json .RootFS.Layers}}", `["` + a.RootFS.Layers[0] + `"]`},
				{"{{index .RepoTags 0}}", "alpine:latest"},
			} {
				out := s.must(t, "image", "inspect", "--format", c.format, "alpine").Stdout
				if out != c.want+"\n" {
					t.Errorf("image inspect --format %q: got %q, want %q", c.format, out, c.want+"\n")
				}
			}
			// A field neither Docker's struct nor its JSON has is an error, not "<no value>".
			if r := s.box(t, "image", "inspect", "-f", "{{.Nope}}", "alpine"); r.Code != 1 || !strings.Contains(r.Stderr, "template parsing error") {
				t.Errorf("image inspect -f '{{.Nope}}': want exit 1 and a template error, got %s", r)
			}
			// By short id, and through `box inspect`, the same image.
			short := strings.TrimPrefix(alpineConfig, "sha256:")[:12]
			if out := s.must(t, "image", "inspect", "-f", "{{.Id}}", short).Stdout; out != alpineConfig+"\n" {
				t.Errorf("image inspect %s (short id): got %q, want %s", short, out, alpineConfig)
			}
			if out := s.must(t, "inspect", "-f", "{{.Id}} {{.Os}}", "alpine").Stdout; out != alpineConfig+" linux\n" {
				t.Errorf("inspect alpine: got %q, want %q", out, alpineConfig+" linux")
			}
			if out := s.must(t, "inspect", "--type", "image", "-f", "{{.Id}}", "alpine").Stdout; out != alpineConfig+"\n" {
				t.Errorf("inspect --type image alpine: got %q", out)
			}

			// A missing name fails with exit 1 after printing the ones found.
			r = s.box(t, "image", "inspect", "alpine", "nope")
			if r.Code != 1 || !strings.Contains(r.Stderr, "Error: No such image: nope") {
				t.Errorf("image inspect alpine nope: want exit 1 and \"Error: No such image: nope\", got %s", r)
			}
			var partial []imageInspect
			if err := json.Unmarshal([]byte(r.Stdout), &partial); err != nil || len(partial) != 1 || partial[0].ID != alpineConfig {
				t.Errorf("image inspect alpine nope: stdout should still hold alpine's object: %v\n%s", err, r.Stdout)
			}
			r = s.box(t, "image", "inspect", "nope")
			if r.Code != 1 || strings.TrimSpace(r.Stdout) != "[]" {
				t.Errorf("image inspect nope: want exit 1 and [] on stdout, as Docker; got %s", r)
			}
			r = s.box(t, "inspect", "nope", "alsonope")
			if r.Code != 1 || !strings.Contains(r.Stderr, "Error: No such object: nope\n") || !strings.Contains(r.Stderr, "Error: No such object: alsonope") {
				t.Errorf("inspect nope alsonope: want exit 1 and \"Error: No such object: ...\" for each, got %s", r)
			}
		})
	}
}

func TestTagAndRmi(t *testing.T) {
	alpineManifest, _ := alpineDigests(t)
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine")
		id := s.imageID(t, "alpine")
		short := strings.TrimPrefix(id, "sha256:")[:12]

		if r := s.must(t, "tag", "alpine", "myalpine:v1"); r.Stdout != "" {
			t.Errorf("tag printed %q, want nothing", r.Stdout)
		}
		s.must(t, "image", "tag", "alpine", "localhost:5000/team/alpine")
		rows := parseTable(t, s.must(t, "images").Stdout)
		var names []string
		for _, row := range rows[1:] {
			names = append(names, row[0]+":"+row[1])
			if row[2] != short {
				t.Errorf("images: row %q should show the one image id %s", row, short)
			}
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "alpine:latest,localhost:5000/team/alpine:latest,myalpine:v1" {
			t.Errorf("images after two tags: want alpine:latest, localhost:5000/team/alpine:latest and myalpine:v1, got %q", names)
		}
		if tagTime := s.must(t, "image", "inspect", "-f", "{{.Metadata.LastTagTime}}", "alpine").Stdout; strings.HasPrefix(tagTime, "0001-01-01") {
			t.Errorf("Metadata.LastTagTime after a tag is still zero: %q", tagTime)
		}
		// A digest belongs to the repository the image was pulled from, not to local tags.
		if d := s.must(t, "image", "inspect", "-f", "{{json .RepoDigests}}", "myalpine:v1").Stdout; d != `["alpine@`+alpineManifest+`"]`+"\n" {
			t.Errorf("RepoDigests of a tagged image: got %s, want only alpine@%s", d, alpineManifest)
		}
		digestRows := outLines(s.must(t, "images", "--digests", "--format", "{{.Repository}} {{.Digest}}").Stdout)
		sort.Strings(digestRows)
		if strings.Join(digestRows, ",") != "alpine "+alpineManifest+",localhost:5000/team/alpine <none>,myalpine <none>" {
			t.Errorf("images --digests after tagging: want the digest on alpine only, got %q", digestRows)
		}

		// Removing one of several names only untags it.
		r := s.must(t, "rmi", "myalpine:v1")
		if r.Stdout != "Untagged: myalpine:v1\n" {
			t.Errorf("rmi myalpine:v1: want only \"Untagged: myalpine:v1\", got %q", r.Stdout)
		}
		s.must(t, "image", "rm", "localhost:5000/team/alpine")
		if got := outLines(s.must(t, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").Stdout); strings.Join(got, ",") != "alpine:latest "+short {
			t.Errorf("images after untagging: want alpine:latest %s alone, got %q", short, got)
		}

		// By id, an image with several tags needs -f.
		s.must(t, "tag", "alpine", "myalpine:v1")
		r = s.box(t, "rmi", short)
		if r.Code != 1 || !strings.Contains(r.Stderr, "Error: conflict: unable to delete "+short+" (must be forced) - image is referenced in multiple repositories") {
			t.Errorf("rmi %s with two tags: want exit 1 and Docker's conflict, got %s", short, r)
		}
		if n := len(outLines(s.must(t, "images", "-q").Stdout)); n != 2 {
			t.Errorf("a refused rmi removed something: images -q has %d lines, want 2", n)
		}
		r = s.must(t, "rmi", "-f", short)
		want := "Untagged: alpine:latest\nUntagged: myalpine:v1\nUntagged: alpine@" + alpineManifest + "\nDeleted: " + id + "\n"
		if r.Stdout != want {
			t.Errorf("rmi -f %s: want\n%s\ngot\n%s", short, want, r.Stdout)
		}
		if rows := parseTable(t, s.must(t, "images").Stdout); len(rows) != 1 {
			t.Errorf("images after rmi -f: want the header alone, got %q", rows)
		}

		// The last name of an image deletes it.
		s.pull(t, "busybox")
		bbID := s.imageID(t, "busybox")
		r = s.must(t, "rmi", "busybox")
		if r.Stdout != "Untagged: busybox:latest\nUntagged: busybox@"+busyboxMuslDigest+"\nDeleted: "+bbID+"\n" {
			t.Errorf("rmi busybox: got %q", r.Stdout)
		}

		// A missing name fails, but the others are still removed.
		s.pull(t, "alpine")
		r = s.box(t, "rmi", "nope", "alpine")
		if r.Code != 1 || !strings.Contains(r.Stderr, "Error: No such image: nope") || !strings.Contains(r.Stdout, "Deleted: "+id) {
			t.Errorf("rmi nope alpine: want alpine deleted, \"Error: No such image: nope\" and exit 1; got %s", r)
		}
		// With -f, Docker reports a missing name but does not fail.
		r = s.box(t, "rmi", "-f", "nope")
		if r.Code != 0 || !strings.Contains(r.Stderr, "Error: No such image: nope") {
			t.Errorf("rmi -f nope: want exit 0 with the error reported, got %s", r)
		}
	})
}

func TestTagErrors(t *testing.T) {
	s := newImageStore(t, Rootless)
	s.pull(t, "alpine")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"tag", "nope", "x"}, "Error: No such image: nope\n"},
		{[]string{"tag", "alpine", "Bad:Name"}, `Error: parsing reference: "Bad:Name" is not a valid repository/tag: invalid reference format`},
		{[]string{"tag", "alpine", "a b"}, `Error: parsing reference: "a b" is not a valid repository/tag: invalid reference format`},
		{[]string{"tag", "alpine", "x@" + busyboxMuslDigest}, "Error: refusing to create a tag with a digest reference\n"},
	} {
		r := s.box(t, c.args...)
		if r.Code != 1 || !strings.HasPrefix(r.Stderr, c.msg) {
			t.Errorf("box %s: want exit 1 and stderr starting %q, got %s", quoteArgs(c.args), c.msg, r)
		}
	}
	if r := s.box(t, "tag", "alpine"); r.Code != 125 {
		t.Errorf("tag with one argument: want usage error 125, got %s", r)
	}
	if n := len(outLines(s.must(t, "images", "-q").Stdout)); n != 1 {
		t.Errorf("failed tags changed the store: images -q has %d lines, want 1", n)
	}
}

// TestRmiImageInUse: an image a container was made from cannot be deleted; the refusal is one
// clear line, and -f takes the name away but leaves the image for the container.
func TestRmiImageInUse(t *testing.T) {
	s := newImageStore(t, Rootless)
	s.pull(t, "busybox")
	id := s.imageID(t, "busybox")
	short := strings.TrimPrefix(id, "sha256:")[:12]
	s.must(t, "run", "busybox", "true")

	r := s.box(t, "rmi", "busybox")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, `Error: conflict: unable to remove repository reference "busybox" (must force) - container `) ||
		!strings.HasSuffix(r.Stderr, " is using its referenced image "+short+"\n") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("rmi of an image a container uses: want exit 1 and Docker's one-line conflict, got %s", r)
	}
	r = s.box(t, "rmi", short)
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "Error: conflict: unable to delete "+short+" (must be forced) - image is being used by container ") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("rmi by id of an image a container uses: want exit 1 and one conflict line, got %s", r)
	}
	r = s.must(t, "rmi", "-f", "busybox")
	if !strings.HasPrefix(r.Stdout, "Untagged: busybox:latest\n") || strings.Contains(r.Stdout, "Deleted:") {
		t.Errorf("rmi -f of an image in use: want it untagged and kept, got %q", r.Stdout)
	}
	rows := parseTable(t, s.must(t, "images").Stdout)
	if len(rows) != 2 || rows[1][0] != "<none>" || rows[1][2] != short {
		t.Errorf("images after rmi -f of an image in use: want it as <none> <none> %s, got %q", short, rows)
	}
}

func TestHistory(t *testing.T) {
	_, alpineConfig := alpineDigests(t)
	short := strings.TrimPrefix(alpineConfig, "sha256:")[:12]
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine")

		rows := parseTable(t, s.must(t, "history", "alpine").Stdout)
		if len(rows) != 3 || strings.Join(rows[0], "|") != "IMAGE|CREATED|CREATED BY|SIZE|COMMENT" {
			t.Fatalf("history alpine: want the header IMAGE CREATED CREATED BY SIZE COMMENT and 2 rows, got %q", rows)
		}
		// Newest first: the CMD (no layer) on the image id, then the ADD layer as <missing>.
		if rows[1][0] != short || rows[1][2] != `/bin/sh -c #(nop)  CMD ["/bin/sh"]` || rows[1][3] != "0B" {
			t.Errorf("history row 1: want %s, the CMD line and 0B; got %q", short, rows[1])
		}
		addLine := "/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.20.3-x86_64.tar.gz in / "
		if rows[2][0] != "<missing>" || rows[2][2] != addLine[:44]+"…" || !aboutAlpineSize(rows[2][3]) {
			t.Errorf("history row 2: want <missing>, the ADD line cut to 45 columns (%q) and about 8MB; got %q", addLine[:44]+"…", rows[2])
		}
		if !strings.HasSuffix(rows[1][1], "years ago") {
			t.Errorf("history CREATED %q: want \"N years ago\" for 2024-09-06", rows[1][1])
		}
		s.must(t, "image", "history", "alpine") // the noun-verb spelling

		full := s.must(t, "history", "--no-trunc", "alpine").Stdout
		if !strings.Contains(full, addLine) || !strings.Contains(full, alpineConfig) {
			t.Errorf("history --no-trunc: want the whole ADD line and the full id %s:\n%s", alpineConfig, full)
		}
		if q := outLines(s.must(t, "history", "-q", "alpine").Stdout); strings.Join(q, ",") != short+",<missing>" {
			t.Errorf("history -q: want %s and <missing>, got %q", short, q)
		}
		raw := outLines(s.must(t, "history", "--human=false", "--format", "{{.CreatedSince}} {{.Size}}", "alpine").Stdout)
		if len(raw) != 2 || raw[0] != "2024-09-06T00:00:00Z 0" || !regexp.MustCompile(`^2024-09-06T00:00:00Z [78][0-9]{6}$`).MatchString(raw[1]) {
			t.Errorf("history --human=false: want RFC 3339 times and sizes in bytes, got %q", raw)
		}
		if r := s.box(t, "history", "nope"); r.Code != 1 || !strings.Contains(r.Stderr, "Error: No such image: nope") {
			t.Errorf("history nope: want exit 1 and \"Error: No such image: nope\", got %s", r)
		}
	})
}
