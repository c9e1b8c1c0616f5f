package e2e

import (
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestRunAppliesImageConfig runs an image whose config sets User,
// WorkingDir, Env, Entrypoint and Cmd: each applies, and each flag
// overrides its own part as in Docker.
func TestRunAppliesImageConfig(t *testing.T) {
	bb := filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci")
	manifest, _, err := readLayoutImage(bb)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := os.ReadFile(blobPath(bb, manifest.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	buildImage(t, dir, ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			User:       "daemon",
			WorkingDir: "/srv/app",
			Env:        []string{defaultPath, "GREETING=hello"},
			Entrypoint: []string{"/bin/sh", "-c"},
			Cmd:        []string{`echo "$GREETING from $(pwd) as $(id -un)"`},
		},
	}, layer)
	pushLayout(t, dir, "library/configured:latest")

	forEachUser(t, func(t *testing.T, u *User) {
		if u == NoRange {
			// daemon (uid 1) does not exist in a single-id namespace;
			// TestRunProcessOptions covers that refusal.
			r := u.Box(t, "run", "--rm", "configured")
			wantCode(t, r, 125)
			return
		}
		wantOut(t, u.MustBox(t, "run", "--rm", "configured"), "hello from /srv/app as daemon")
		wantOut(t, u.MustBox(t, "run", "--rm", "-e", "GREETING=hi", "-w", "/tmp", "-u", "root", "configured"),
			"hi from /tmp as root")
		// Arguments replace Cmd and keep the Entrypoint.
		wantOut(t, u.MustBox(t, "run", "--rm", "configured", "echo args"), "args")
		// --entrypoint drops the image's Cmd too.
		wantOut(t, u.MustBox(t, "run", "--rm", "--entrypoint", "pwd", "configured"), "/srv/app")
	})
}
