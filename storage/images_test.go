package storage

import (
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
)

func TestIsSingleReference(t *testing.T) {
	const d = "@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{nil, false},
		{[]string{"docker.io/library/alpine:latest"}, true},
		{[]string{"docker.io/library/alpine:latest", "docker.io/library/alpine:3.20"}, false},
		{[]string{"docker.io/library/alpine:latest", "docker.io/library/myalpine:v1"}, false},
		{[]string{"docker.io/library/alpine:latest", "docker.io/library/alpine" + d}, true},
		{[]string{"docker.io/library/alpine:latest", "docker.io/library/other" + d}, false},
		{[]string{"docker.io/library/alpine" + d}, true},
	} {
		if got := isSingleReference(c.names); got != c.want {
			t.Errorf("isSingleReference(%q) = %t, want %t", c.names, got, c.want)
		}
	}
}

func TestOnlyReferenceLeft(t *testing.T) {
	ref, _ := ParseReference("alpine")
	const d = "@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	if !onlyReferenceLeft([]string{"docker.io/library/alpine:latest", "docker.io/library/other" + d}, ref) {
		t.Error("a digest name alone should not keep the image")
	}
	if onlyReferenceLeft([]string{"docker.io/library/alpine:latest", "docker.io/library/alpine:3"}, ref) {
		t.Error("another tag keeps the image")
	}
}

func TestRepoTagsAndDigests(t *testing.T) {
	const d = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	img := &Image{
		Names: []string{
			"docker.io/library/alpine:latest",
			"quay.io/team/app:1",
			"docker.io/library/busybox@" + d,
		},
		Digests: []digest.Digest{d},
	}
	if got := strings.Join(img.RepoTags(), ","); got != "alpine:latest,quay.io/team/app:1" {
		t.Errorf("RepoTags = %s", got)
	}
	want := "alpine@" + d + ",busybox@" + d + ",quay.io/team/app@" + d
	if got := strings.Join(img.RepoDigests(), ","); got != want {
		t.Errorf("RepoDigests = %s, want %s", got, want)
	}
	if img.Dangling() || !(&Image{}).Dangling() {
		t.Error("Dangling: a named image is not dangling; an unnamed one is")
	}
	if _, err := reference.ParseNormalizedNamed(img.RepoTags()[0]); err != nil {
		t.Errorf("RepoTags must parse back: %v", err)
	}
}

func TestIsHexPrefix(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"abc", true},
		{"ab", false},
		{"1efcd73fce9d", true},
		{"alpine", false},
		{"ABC", false},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
	} {
		if got := isHexPrefix(c.in); got != c.want {
			t.Errorf("isHexPrefix(%q) = %t, want %t", c.in, got, c.want)
		}
	}
}

// TestReferenceSetSingle: as names are taken away one by one, the set's
// answer is isSingleReference's of the names left.
func TestReferenceSetSingle(t *testing.T) {
	const d = "@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	all := [][]string{
		{"docker.io/library/alpine:latest", "docker.io/library/alpine:3.20", "docker.io/library/alpine" + d},
		{"docker.io/library/alpine" + d, "docker.io/library/other" + d, "docker.io/library/alpine:latest"},
		{"docker.io/library/a:1", "docker.io/library/b:1", "docker.io/library/b" + d, "docker.io/library/a" + d},
		{"docker.io/library/alpine:latest", "not a reference", "docker.io/library/alpine:3"},
	}
	for _, names := range all {
		rs := newReferenceSet(names)
		for i := range names {
			left := names[i:]
			if got, want := rs.single(), isSingleReference(left); got != want {
				t.Errorf("single() of %q = %t, want %t", left, got, want)
			}
			rs.remove(names[i])
		}
		if rs.single() || len(rs.names) != 0 {
			t.Errorf("after removing all of %q: single %t, %d names left", names, rs.single(), len(rs.names))
		}
	}
}

func TestIsImageID(t *testing.T) {
	id := strings.Repeat("0123456789abcdef", 4)
	for s, want := range map[string]bool{
		id: true, id[:63]: false, id + "0": false, strings.ToUpper(id): false, id[:63] + "g": false, "": false,
	} {
		if got := isImageID(s); got != want {
			t.Errorf("isImageID(%q) = %v, want %v", s, got, want)
		}
	}
}
