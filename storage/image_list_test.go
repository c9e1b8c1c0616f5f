package storage

import (
	"box/storage/filter"

	"errors"
	"strings"
	"testing"
	"time"

	"go.podman.io/image/v5/docker/reference"
)

func TestMatchReference(t *testing.T) {
	for _, c := range []struct {
		pattern, ref string
		want         bool
	}{
		{"alpine", "alpine:latest", true},
		{"alpine", "alpine@sha256:149d5a76545263def3acde0e0c984537b4ebfc6872d9cf14ef396a0761729f54", true},
		{"alpine:latest", "alpine:latest", true},
		{"alpine:3.20", "alpine:latest", false},
		{"alp*", "alpine:latest", true},
		{"*alpine", "myalpine:v1", true},
		{"alpine:*", "alpine:3.20.3", true},
		{"busybox", "alpine:latest", false},
		// path.Match: * does not cross a slash.
		{"*", "library/alpine:latest", true}, // familiar: alpine:latest
		{"*", "quay.io/team/app:1", false},
		{"quay.io/*/*", "quay.io/team/app:1", true},
		{"localhost:5000/team/*", "localhost:5000/team/alpine:latest", true},
		{"docker.io/library/alpine", "alpine:latest", false}, // Docker matches familiar names only
	} {
		ref := c.ref
		if named, err := reference.ParseNormalizedNamed(c.ref); err == nil {
			ref = FamiliarString(named)
		}
		if got := MatchReference(c.pattern, ref); got != c.want {
			t.Errorf("MatchReference(%q, %q) = %t, want %t", c.pattern, ref, got, c.want)
		}
	}
}

func TestParseFiltersErrors(t *testing.T) {
	var s *Store // only before= and since= touch the store
	for _, c := range []struct {
		filter, msg string
	}{
		{"dangling=maybe", "invalid filter 'dangling=maybe'"},
		{"colour=red", "invalid filter 'colour'"},
		{"reference=[", "invalid filter 'reference=['"},
		{"dangling", "invalid filter 'dangling'"},
	} {
		args, err := filter.Parse([]string{c.filter}, ImageFilters)
		if err == nil {
			_, err = s.parseFilters(args)
		}
		if !errors.Is(err, filter.ErrBad) || err.Error() != c.msg {
			t.Errorf("filter %q: got %v, want %q", c.filter, err, c.msg)
		}
	}
	f, err := s.parseFilters(mustArgs(t, "dangling=1", "Reference=alp*", "label=a=b"))
	if err != nil {
		t.Fatal(err)
	}
	if f.dangling == nil || !*f.dangling || len(f.references) != 1 || f.args.Values("label")[0] != "a=b" {
		t.Errorf("parsed filters = %+v", f)
	}
}

func TestFilterApply(t *testing.T) {
	old := time.Date(2024, 9, 6, 0, 0, 0, 0, time.UTC)
	newer := time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)
	alpine := &Image{ID: "a", Created: old, Names: []string{
		"docker.io/library/alpine:latest", "docker.io/library/myalpine:v1"}}
	alpine.Config.Config.Labels = map[string]string{"role": "base"}
	untagged := &Image{ID: "b", Created: newer}
	byDigest := &Image{ID: "c", Created: newer, Names: []string{
		"docker.io/library/busybox@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"}}

	yes, no := true, false
	for _, c := range []struct {
		name string
		f    imageFilters
		img  *Image
		ok   bool
		tags string
	}{
		{"no filter", imageFilters{}, alpine, true, "alpine:latest,myalpine:v1"},
		{"reference keeps matching tags only", imageFilters{references: []string{"my*"}}, alpine, true, "myalpine:v1"},
		{"reference matching nothing", imageFilters{references: []string{"busybox"}}, alpine, false, ""},
		{"reference hides untagged", imageFilters{references: []string{"*"}}, untagged, false, ""},
		{"untagged listed", imageFilters{}, untagged, true, ""},
		{"dangling=true keeps untagged", imageFilters{dangling: &yes}, untagged, true, ""},
		{"dangling=true hides tagged", imageFilters{dangling: &yes}, alpine, false, ""},
		{"dangling=false hides untagged", imageFilters{dangling: &no}, untagged, false, ""},
		{"dangling=false keeps tagged", imageFilters{dangling: &no}, alpine, true, "alpine:latest,myalpine:v1"},
		{"dangling=true keeps digest-only (no tag), as Docker", imageFilters{dangling: &yes}, byDigest, true, ""},
		{"label", imageFilters{args: mustArgs(t, "label=role=base")}, alpine, true, "alpine:latest,myalpine:v1"},
		{"label mismatch", imageFilters{args: mustArgs(t, "label=role=web")}, alpine, false, ""},
		{"before", imageFilters{before: &newer}, alpine, true, "alpine:latest,myalpine:v1"},
		{"before, same time", imageFilters{before: &old}, alpine, false, ""},
		{"since", imageFilters{since: &old}, untagged, true, ""},
		{"since, older", imageFilters{since: &newer}, alpine, false, ""},
	} {
		sum, ok := c.f.apply(c.img)
		if ok != c.ok || ok && strings.Join(sum.RepoTags, ",") != c.tags {
			t.Errorf("%s: listed %t with tags %q, want %t with %q", c.name, ok, sum.RepoTags, c.ok, c.tags)
		}
	}
	sum, _ := (&imageFilters{}).apply(byDigest)
	if len(sum.RepoTags) != 0 || len(sum.RepoDigests) != 1 || !strings.HasPrefix(sum.RepoDigests[0], "busybox@sha256:") {
		t.Errorf("an image pulled by digest: tags %q, digests %q; want no tag and busybox@sha256:...", sum.RepoTags, sum.RepoDigests)
	}
}

func TestSortNewestFirst(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2025, 1, day, 0, 0, 0, 0, time.UTC) }
	list := []Summary{
		{Image: &Image{ID: "1", Created: at(1)}, RepoTags: []string{"old:latest"}},
		{Image: &Image{ID: "2", Created: at(3)}, RepoTags: []string{"zeta:latest"}},
		{Image: &Image{ID: "3"}},
		{Image: &Image{ID: "4", Created: at(3)}, RepoTags: []string{"alpha:latest"}},
		{Image: &Image{ID: "5", Created: at(3)}},
		{Image: &Image{ID: "6", Created: at(2)}, RepoTags: []string{"mid:latest"}},
	}
	sortNewestFirst(list)
	var got []string
	for _, s := range list {
		got = append(got, s.Image.ID)
	}
	if strings.Join(got, "") != "425613" {
		t.Errorf("order = %v, want newest first, same age by name, untagged after, unknown time last: 4 2 5 6 1 3", got)
	}
}

func mustArgs(t *testing.T, raw ...string) filter.Args {
	t.Helper()
	a, err := filter.Parse(raw, ImageFilters)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
