package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestBuildResultIsLastStep builds a Dockerfile that ends with a step that
// makes a layer: the tagged image is that step's image (the id the step
// printed), images -a lists one image per step and no more, nothing is
// dangling, and a rebuild from the cache gives the same id and no new
// image. A build of FROM alone is its base image.
func TestBuildResultIsLastStep(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		ctx := buildContext(t, u, map[string]string{
			"Dockerfile": "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n",
		})
		before := outLines(s.must(t, "images", "-a", "-q", "--no-trunc").Stdout)
		r := s.must(t, "build", "-t", "laststep", ctx)
		steps := regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})$`).FindAllStringSubmatch(r.Stdout+r.Stderr, -1)
		if len(steps) < 3 {
			t.Fatalf("want the base and two step ids in the build's output: %s", r)
		}
		last := steps[len(steps)-1][1]
		id := s.imageID(t, "laststep")
		if !strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), last) {
			t.Fatalf("the tagged image %s should be the last step's image %s: %s", id, last, r)
		}
		if !strings.Contains(r.Stdout+r.Stderr, "Successfully built "+last) {
			t.Fatalf("the build should report the last step's id %s: %s", last, r)
		}
		after := outLines(s.must(t, "images", "-a", "-q", "--no-trunc").Stdout)
		// busybox, the first RUN's image and the result: one image per step.
		if len(after) != len(before)+2 {
			t.Fatalf("images -a: want %d images (one per step), have %d:\nbefore %q\nafter %q", len(before)+2, len(after), before, after)
		}
		if d := s.must(t, "images", "-q", "--filter", "dangling=true"); strings.TrimSpace(d.Stdout) != "" {
			t.Fatalf("a build should leave no dangling image: %s", d)
		}
		wantOut(t, s.must(t, "run", "--rm", "laststep", "cat", "/one", "/two"), "one\ntwo")

		r = s.must(t, "build", "-t", "laststep", ctx)
		if again := s.imageID(t, "laststep"); again != id {
			t.Fatalf("a rebuild from the cache should give the same image %s, gave %s: %s", id, again, r)
		}
		if n := len(outLines(s.must(t, "images", "-a", "-q", "--no-trunc").Stdout)); n != len(after) {
			t.Fatalf("a rebuild from the cache added images: %d before, %d after", len(after), n)
		}
		if d := s.must(t, "images", "-q", "--filter", "dangling=true"); strings.TrimSpace(d.Stdout) != "" {
			t.Fatalf("a rebuild should leave no dangling image: %s", d)
		}

		// An untagged build's result is listed by images, as <none>.
		untagged := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\nRUN echo three > /three\n"})
		uid := strings.TrimSpace(s.must(t, "build", "-q", untagged).Stdout)
		if !strings.Contains(s.must(t, "images", "-q", "--no-trunc").Stdout, uid) {
			t.Fatalf("the untagged result %s should be listed by images", uid)
		}

		from := buildContext(t, u, map[string]string{"Dockerfile": "FROM busybox\n"})
		s.must(t, "build", "-t", "same", from)
		if got, want := s.imageID(t, "same"), s.imageID(t, "busybox"); got != want {
			t.Fatalf("FROM busybox alone should build busybox's image %s, built %s", want, got)
		}
	})
}
