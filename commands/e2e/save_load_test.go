package e2e

// save and load: archives written and read by box, by Podman, and crafted broken ones.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// root is the store's --root.
func (s *imageStore) root() string { return s.args[1] }

// storeState is what a failed load must leave as it was: the images and the layers.
func (s *imageStore) storeState(t *testing.T) string {
	t.Helper()
	ids := s.must(t, "images", "-a", "-q", "--no-trunc").Stdout
	var layers []json.RawMessage
	data, err := os.ReadFile(filepath.Join(s.root(), "overlay-layers", "layers.json"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &layers); err != nil {
			t.Fatalf("layers.json: %v", err)
		}
	}
	return fmt.Sprintf("images:\n%slayers: %d", ids, len(layers))
}

// userFile makes path (in tempDir) writable by u: the file box writes with -o.
func userDir(t *testing.T, u *User) string {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "archives-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(u.UID), int(u.GID)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSaveLoad(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "alpine", "busybox")
		alpineID, busyboxID := s.imageID(t, "alpine"), s.imageID(t, "busybox")
		dir := userDir(t, u)

		// Several images into one archive, docker-archive by default.
		both := filepath.Join(dir, "both.tar")
		s.must(t, "save", "-o", both, "alpine", "busybox:latest")
		if info, err := os.Stat(both); err != nil || info.Size() < 1<<20 {
			t.Fatalf("save -o wrote no archive: %v", err)
		}
		members := tarNames(t, both)
		if !members["manifest.json"] {
			t.Fatalf("a docker-archive holds manifest.json; got %v", members)
		}
		// To stdout, as `docker save IMAGE > FILE`.
		r := s.must(t, "image", "save", "alpine")
		if len(r.Stdout) < 1<<20 || !bytes.Contains([]byte(r.Stdout), []byte("manifest.json")) {
			t.Fatalf("save to stdout wrote %d bytes", len(r.Stdout))
		}

		s.must(t, "system", "reset", "-f")
		r = s.must(t, "load", "-i", both)
		wantOut(t, r, "Loaded image: alpine:latest\nLoaded image: busybox:latest")
		if got := s.imageID(t, "alpine"); got != alpineID {
			t.Fatalf("alpine's id changed in save and load: %s, was %s", got, alpineID)
		}
		if got := s.imageID(t, "busybox"); got != busyboxID {
			t.Fatalf("busybox's id changed in save and load: %s, was %s", got, busyboxID)
		}
		// The archive keeps no registry manifest: no RepoDigests, as in Docker.
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{.RepoDigests}}", "alpine"), "[]")
		wantOut(t, s.must(t, "run", "--rm", "alpine", "cat", "/etc/alpine-release"), "3.20.3")
		wantOut(t, s.must(t, "run", "--rm", "busybox", "echo", "hi"), "hi")

		// oci-archive, loaded from stdin.
		oci := filepath.Join(dir, "alpine-oci.tar")
		s.must(t, "save", "--format", "oci-archive", "-o", oci, "alpine")
		if m := tarNames(t, oci); !m["index.json"] || !m["oci-layout"] || m["manifest.json"] {
			t.Fatalf("an oci-archive holds index.json and oci-layout; got %v", m)
		}
		s.must(t, "rmi", "alpine")
		data, err := os.ReadFile(oci)
		if err != nil {
			t.Fatal(err)
		}
		r = s.u.BoxWith(t, RunOpts{Stdin: string(data)}, append(s.args, "load")...)
		wantCode(t, r, 0)
		wantOut(t, r, "Loaded image: alpine:latest")
		if got := s.imageID(t, "alpine"); got != alpineID {
			t.Fatalf("alpine's id changed through oci-archive: %s, was %s", got, alpineID)
		}

		// gzip-compressed, untagged (saved by id).
		byID := filepath.Join(dir, "by-id.tar")
		s.must(t, "save", "-o", byID, strings.TrimPrefix(busyboxID, "sha256:")[:12])
		gz := gzipFile(t, byID)
		s.must(t, "rmi", "busybox")
		r = s.must(t, "load", "-q", "-i", gz)
		wantOut(t, r, "Loaded image ID: "+busyboxID)
		wantOut(t, s.must(t, "run", "--rm", busyboxID, "echo", "ok"), "ok")

		// Loading over a pulled image keeps its registry digest, and the load adds none.
		s.must(t, "rmi", "alpine")
		s.pull(t, "alpine")
		pulled := strings.TrimSpace(s.must(t, "image", "inspect", "--format", "{{.RepoDigests}}", "alpine").Stdout)
		if !strings.HasPrefix(pulled, "[alpine@sha256:") {
			t.Fatalf("a pulled image has a RepoDigest: %q", pulled)
		}
		s.must(t, "load", "-i", both)
		wantOut(t, s.must(t, "image", "inspect", "--format", "{{.RepoDigests}}", "alpine"), pulled)

		r = s.box(t, "save", "-o", filepath.Join(dir, "x.tar"), "nosuch:image")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such image: nosuch:image")
		if _, err := os.Stat(filepath.Join(dir, "x.tar")); !os.IsNotExist(err) {
			t.Fatalf("a failed save left %s behind", filepath.Join(dir, "x.tar"))
		}
		r = s.box(t, "save", "--format", "tarball", "alpine")
		wantCode(t, r, 125)
	})
}

// TestLoadBadArchives feeds load archives cut short, corrupted and crafted: each is refused
// with one line, exit 1, and the store keeps exactly the images and layers it had.
func TestLoadBadArchives(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		s.pull(t, "busybox")
		dir := userDir(t, u)
		good := filepath.Join(dir, "alpine.tar")
		s.pull(t, "alpine")
		s.must(t, "save", "-o", good, "alpine")
		s.must(t, "rmi", "alpine")
		before := s.storeState(t)
		data, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}

		check := func(name string, archive []byte, parts ...string) {
			t.Helper()
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, archive, 0o644); err != nil {
				t.Fatal(err)
			}
			r := s.box(t, "load", "-i", path)
			wantCode(t, r, 1)
			wantOneLineError(t, r, parts...)
			if after := s.storeState(t); after != before {
				t.Fatalf("a refused load changed the store:\nbefore %s\nafter %s", before, after)
			}
		}
		check("truncated.tar", data[:len(data)/2], "truncated")
		corrupt := bytes.Clone(data)
		for i := len(corrupt) / 2; i < len(corrupt)/2+16; i++ {
			corrupt[i] ^= 0xff
		}
		check("corrupt.tar", corrupt, "corrupt")
		gz, err := os.ReadFile(gzipFile(t, good))
		if err != nil {
			t.Fatal(err)
		}
		check("truncated.tar.gz", gz[:len(gz)*2/3], "truncated")
		check("not-an-archive.tar", []byte("hello\n"), "not a tar archive")

		// A second image whose first layer is fine and whose second climbs out of the layer:
		// nothing of it may stay, not even its good first layer.
		bb, err := os.ReadFile("/bin/busybox")
		if err != nil {
			t.Fatal(err)
		}
		evil := dockerArchive(t, "evil:1",
			mustTar(t, tarEntry{Name: "bin/", Type: tar.TypeDir}, tarEntry{Name: "bin/busybox", Body: string(bb), Mode: 0o755}),
			mustTar(t, tarEntry{Name: "a/../../escaped", Body: "out\n"}))
		check("escape.tar", evil, "outside the layer")
		if _, err := os.Stat(filepath.Join(s.root(), "..", "escaped")); err == nil {
			t.Fatal("the ../ entry was written outside the layer")
		}
	})
}

// TestLoadDeviceNodes loads an image with a character device outside /dev: rootless box
// cannot make device nodes and leaves it out, as Docker and Podman do rootless; root makes it.
func TestLoadDeviceNodes(t *testing.T) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	// makeTar has no device numbers, and 0:0 is overlay's whiteout.
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox"},
		{Name: "mnt/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "mnt/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "mnt/file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		switch h.Name {
		case "bin/busybox":
			tw.Write(bb)
		case "mnt/file":
			tw.Write([]byte("kept\n"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	archive := dockerArchive(t, "devnode:1", layer.Bytes())
	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		r := s.u.BoxWith(t, RunOpts{Stdin: string(archive)}, append(s.args, "load")...)
		wantCode(t, r, 0)
		wantOut(t, r, "Loaded image: devnode:1")
		want := "absent\nkept"
		if u.Mode == "root" {
			want = "char\nkept"
		}
		wantOut(t, s.must(t, "run", "--rm", "devnode:1", "/bin/busybox", "sh", "-c",
			"if [ -c /mnt/null ]; then echo char; elif [ -e /mnt/null ]; then echo other; else echo absent; fi; cat /mnt/file"), want)
	})
}

// TestLoadPodmanArchive moves images between box and Debian's Podman both ways, as the
// unprivileged user, Podman with a store of its own under the test's directory.
func TestLoadPodmanArchive(t *testing.T) {
	requirePodman(t)
	u := Rootless
	s := newImageStore(t, u)
	s.pull(t, "alpine")
	alpineID := s.imageID(t, "alpine")
	dir := userDir(t, u)
	boxArchive := filepath.Join(dir, "from-box.tar")
	s.must(t, "save", "-o", boxArchive, "alpine")
	boxOCI := filepath.Join(dir, "from-box-oci.tar")
	s.must(t, "save", "--format", "oci-archive", "-o", boxOCI, "alpine")

	pm := newPodman(t, u)
	r := pm.must(t, "load", "-i", boxArchive)
	if !strings.Contains(r.Stdout, "Loaded image: docker.io/library/alpine:latest") {
		t.Fatalf("podman load of box's docker-archive: %s", r)
	}
	if got := strings.TrimSpace(pm.must(t, "image", "inspect", "--format", "{{.Id}}", "alpine").Stdout); "sha256:"+got != alpineID {
		t.Fatalf("podman sees box's alpine as %s, box as %s", got, alpineID)
	}
	pm.must(t, "rmi", "alpine")
	r = pm.must(t, "load", "-i", boxOCI)
	if !strings.Contains(r.Stdout, "alpine:latest") {
		t.Fatalf("podman load of box's oci-archive: %s", r)
	}

	podmanArchive := filepath.Join(dir, "from-podman.tar")
	pm.must(t, "save", "-o", podmanArchive, "alpine")
	podmanOCI := filepath.Join(dir, "from-podman-oci.tar")
	pm.must(t, "save", "--format", "oci-archive", "-o", podmanOCI, "alpine")
	s.must(t, "system", "reset", "-f")
	wantOut(t, s.must(t, "load", "-i", podmanArchive), "Loaded image: alpine:latest")
	if got := s.imageID(t, "alpine"); got != alpineID {
		t.Fatalf("alpine through podman save has id %s, want %s", got, alpineID)
	}
	wantOut(t, s.must(t, "run", "--rm", "alpine", "cat", "/etc/alpine-release"), "3.20.3")
	s.must(t, "rmi", "alpine")
	wantOut(t, s.must(t, "load", "-i", podmanOCI), "Loaded image: alpine:latest")
	if got := s.imageID(t, "alpine"); got != alpineID {
		t.Fatalf("alpine through podman's oci-archive has id %s, want %s", got, alpineID)
	}
}

// requirePodman fails in CI, and skips elsewhere, when Podman is not
// installed: the interoperability tests need it.
func requirePodman(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if inCI {
			t.Fatal("podman is needed for the interoperability test: scripts/test installs it")
		}
		t.Skip("podman not installed")
	}
}

// podman runs Debian's Podman as a user with a store of its own (vfs) under dir.
type podman struct {
	u    *User
	args []string
	env  []string
}

func newPodman(t *testing.T, u *User) *podman {
	t.Helper()
	// Podman refuses a run root path longer than 50 characters.
	base, err := os.MkdirTemp(tempDir, "pm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(base, int(u.UID), int(u.GID)); err != nil {
		t.Fatal(err)
	}
	p := &podman{u: u, args: []string{
		"--root", filepath.Join(base, "root"), "--runroot", filepath.Join(base, "rr"),
		"--tmpdir", filepath.Join(base, "tmp"), "--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs", "--events-backend", "none",
		// crun (Podman's default where it is installed) refuses a hybrid
		// cgroup layout; runc, which scripts/test installs, works on any.
		"--runtime", "runc",
	}}
	t.Cleanup(func() {
		// Rootless Podman leaves a pause process holding its user namespace; end it by the
		// pid it recorded, then remove what it stored (owned by subordinate ids).
		if data, err := os.ReadFile(filepath.Join(base, "tmp", "pause.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		cmd := u.Cmd("podman", append(p.args, "unshare", "rm", "-rf", filepath.Join(base, "root"), filepath.Join(base, "rr"))...)
		cmd.Env = append(cmd.Env, p.env...)
		_ = cmd.Run()
		if data, err := os.ReadFile(filepath.Join(base, "tmp", "pause.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return p
}

func (p *podman) must(t *testing.T, args ...string) Result {
	t.Helper()
	cmd := p.u.Cmd("podman", append(append([]string{}, p.args...), args...)...)
	cmd.Env = append(cmd.Env, p.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
	t.Logf("%s$ podman %s => exit %d (%.2fs)", p.u.Mode, quoteArgs(args), r.Code, time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", quoteArgs(args), err, r)
	}
	return r
}

// tarNames lists the members of a tar file.
func tarNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[strings.TrimSuffix(h.Name, "/")] = true
	}
	return names
}

// gzipFile writes path+".gz" and returns its name.
func gzipFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	out := path + ".gz"
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	data, err := makeTar(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dockerArchive crafts a classic docker-archive of one image tagged tag with the given
// uncompressed layers, consistent in every digest.
func dockerArchive(t *testing.T, tag string, layers ...[]byte) []byte {
	t.Helper()
	var diffIDs, paths []string
	var entries []tarEntry
	for _, l := range layers {
		sum := sha256.Sum256(l)
		h := hex.EncodeToString(sum[:])
		diffIDs = append(diffIDs, "sha256:"+h)
		paths = append(paths, h+"/layer.tar")
		entries = append(entries, tarEntry{Name: h + "/", Type: tar.TypeDir}, tarEntry{Name: h + "/layer.tar", Body: string(l)})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}, "Env": []string{defaultPath}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": paths}})
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries, tarEntry{Name: cfgName, Body: string(cfg)}, tarEntry{Name: "manifest.json", Body: string(manifest)})
	return mustTar(t, entries...)
}

// TestLoadDocker25Archive loads the layout `docker save` writes since Docker 25: an OCI
// image layout (index.json, blobs/sha256/...) with manifest.json beside it naming blobs.
func TestLoadDocker25Archive(t *testing.T) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	layer := mustTar(t, tarEntry{Name: "bin/", Type: tar.TypeDir}, tarEntry{Name: "bin/busybox", Body: string(bb), Mode: 0o755},
		tarEntry{Name: "bin/sh", Type: tar.TypeSymlink, Linkname: "busybox"}, tarEntry{Name: "etc/", Type: tar.TypeDir},
		tarEntry{Name: "etc/motd", Body: "docker 25\n"})
	layerDigest := sha256.Sum256(layer)
	layerHex := hex.EncodeToString(layerDigest[:])
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh", "-c", "cat /etc/motd"}, "Env": []string{defaultPath}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerHex}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgDigest := sha256.Sum256(cfg)
	cfgHex := hex.EncodeToString(cfgDigest[:])
	man, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfgHex, "size": len(cfg)},
		"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + layerHex, "size": len(layer)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	manDigest := sha256.Sum256(man)
	manHex := hex.EncodeToString(manDigest[:])
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + manHex, "size": len(man),
			"annotations": map[string]string{"io.containerd.image.name": "docker.io/library/d25:v1", "org.opencontainers.image.ref.name": "v1"},
		}},
	})
	manifestJSON, _ := json.Marshal([]map[string]any{{
		"Config": "blobs/sha256/" + cfgHex, "RepoTags": []string{"d25:v1"}, "Layers": []string{"blobs/sha256/" + layerHex},
	}})
	archive := mustTar(t,
		tarEntry{Name: "blobs/", Type: tar.TypeDir}, tarEntry{Name: "blobs/sha256/", Type: tar.TypeDir},
		tarEntry{Name: "blobs/sha256/" + layerHex, Body: string(layer)},
		tarEntry{Name: "blobs/sha256/" + cfgHex, Body: string(cfg)},
		tarEntry{Name: "blobs/sha256/" + manHex, Body: string(man)},
		tarEntry{Name: "index.json", Body: string(index)},
		tarEntry{Name: "manifest.json", Body: string(manifestJSON)},
		tarEntry{Name: "oci-layout", Body: `{"imageLayoutVersion": "1.0.0"}`},
	)
	u := Rootless
	s := newImageStore(t, u)
	r := s.u.BoxWith(t, RunOpts{Stdin: string(archive)}, append(s.args, "load")...)
	wantCode(t, r, 0)
	wantOut(t, r, "Loaded image: d25:v1")
	wantOut(t, s.must(t, "image", "inspect", "--format", "{{.Id}}", "d25:v1"), "sha256:"+cfgHex)
	wantOut(t, s.must(t, "run", "--rm", "d25:v1"), "docker 25")

	// The same layout without manifest.json is an oci-archive, named by containerd's annotation.
	s.must(t, "rmi", "d25:v1")
	var entries []tarEntry
	entries = append(entries, tarEntry{Name: "blobs/sha256/" + layerHex, Body: string(layer)},
		tarEntry{Name: "blobs/sha256/" + cfgHex, Body: string(cfg)}, tarEntry{Name: "blobs/sha256/" + manHex, Body: string(man)},
		tarEntry{Name: "index.json", Body: string(index)}, tarEntry{Name: "oci-layout", Body: `{"imageLayoutVersion": "1.0.0"}`})
	r = s.u.BoxWith(t, RunOpts{Stdin: string(mustTar(t, entries...))}, append(s.args, "load")...)
	wantCode(t, r, 0)
	wantOut(t, r, "Loaded image: d25:v1")
}
