package commands

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"box/storage"
)

func TestImagesFormat(t *testing.T) {
	for _, c := range []struct {
		format         string
		quiet, digests bool
		want           string
	}{
		{"", false, false, defaultImagesTable},
		{"table", false, false, defaultImagesTable},
		{"", true, false, "{{.ID}}"},
		{"", true, true, "{{.ID}}"},
		{"", false, true, defaultImagesTableWithDigest},
		// A format given wins over -q, as in Docker.
		{"{{.Repository}}", true, false, "{{.Repository}}"},
		{"table {{.ID}}", false, true, "table {{.ID}}\t{{.Digest}}"},
		{"table {{.ID}} {{.Digest}}", false, true, "table {{.ID}} {{.Digest}}"},
		{"{{.ID}}", false, true, "{{.ID}}"},
		{"json", false, true, "json"},
	} {
		if got := imagesFormat(c.format, c.quiet, c.digests); got != c.want {
			t.Errorf("imagesFormat(%q, quiet=%t, digests=%t) = %q, want %q", c.format, c.quiet, c.digests, got, c.want)
		}
	}
}

const (
	idA = "1efcd73fce9dc238e8a6eafff1a2fde912376eec7a1d3b4585669fe40d11f7a3"
	dA  = "sha256:149d5a76545263def3acde0e0c984537b4ebfc6872d9cf14ef396a0761729f54"
	dB  = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
)

func TestImageRows(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	img := &storage.Image{ID: idA, Created: now.Add(-3 * time.Hour)}
	tagged := storage.Summary{Image: img, Size: 8_090_969,
		RepoTags:    []string{"myalpine:v1", "alpine:latest", "alpine:3.20"},
		RepoDigests: []string{"alpine@" + dA},
	}
	digestOnly := storage.Summary{Image: img, RepoDigests: []string{"busybox@" + dB}}
	dangling := storage.Summary{Image: &storage.Image{ID: idA}}

	row := func(r imageRow) string { return strings.Join([]string{r.Repository, r.Tag, r.Digest, r.ID}, " ") }
	for _, c := range []struct {
		name           string
		list           []storage.Summary
		trunc, digests bool
		want           []string
	}{
		{"one row per repository and tag, sorted", []storage.Summary{tagged}, true, false, []string{
			"alpine 3.20 <none> 1efcd73fce9d", "alpine latest <none> 1efcd73fce9d", "myalpine v1 <none> 1efcd73fce9d"}},
		{"digests on the tags of their repository", []storage.Summary{tagged}, true, true, []string{
			"alpine 3.20 " + dA + " 1efcd73fce9d", "alpine latest " + dA + " 1efcd73fce9d", "myalpine v1 <none> 1efcd73fce9d"}},
		{"no-trunc", []storage.Summary{dangling}, false, false, []string{"<none> <none> <none> sha256:" + idA}},
		{"a repository known by digest only", []storage.Summary{digestOnly}, true, false, []string{"busybox <none>  1efcd73fce9d"}},
		{"a repository known by digest only, digests shown", []storage.Summary{digestOnly}, true, true, []string{"busybox <none> " + dB + " 1efcd73fce9d"}},
	} {
		var got []string
		for _, r := range imageRows(c.list, c.trunc, c.digests, now) {
			got = append(got, row(r))
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}

	r := imageRows([]storage.Summary{tagged}, true, false, now)[0]
	if r.CreatedSince != "3 hours ago" || r.Size != "8.09MB" || r.Containers != "N/A" {
		t.Errorf("row columns: CreatedSince %q, Size %q, Containers %q", r.CreatedSince, r.Size, r.Containers)
	}
	if d := imageRows([]storage.Summary{dangling}, true, false, now)[0]; d.CreatedSince != "" {
		t.Errorf("an image without a creation time: CreatedSince %q, want empty (N/A in the table)", d.CreatedSince)
	}

	// --format json: every field, keys sorted, HTML escaped as Docker's json.Marshal does.
	b, err := json.Marshal(imageRows([]storage.Summary{dangling}, true, false, now)[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"Containers":"N/A","CreatedAt":`) || !strings.Contains(string(b), `"Repository":"\u003cnone\u003e"`) {
		t.Errorf("row JSON = %s", b)
	}
}
