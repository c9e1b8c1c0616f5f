package e2e

// Hostile layers: entries that climb out with "..", reach through a symbolic link the same
// layer made (esc -> /dev, then esc/zero), hard links out, overlay's own xattrs; an unknown
// layer media type and wrong sizes in a manifest. Each is refused at import, load and pull
// with a one-line error naming the entry, leaving the store as it was; a layer with an
// absolute symlink and nothing under it is ordinary and saves and pushes fine.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/oci/layout"
	istorage "go.podman.io/image/v5/storage"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
	stypes "go.podman.io/storage/types"
)

// rawEntry is a tar header written as it is: no name cleaning, any PAX records.
type rawEntry struct {
	name, body, link string
	typ              byte
	mode             int64 // 0644 (0755 for directories and symlinks) when zero
	pax              map[string]string
}

func rawTar(t *testing.T, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: time.Unix(0, 0), PAXRecords: e.pax, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeDir || h.Typeflag == tar.TypeSymlink {
			h.Mode = 0o755
		}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostileLayers are layers box must refuse, with the entry the error must name.
func hostileLayers(t *testing.T) []struct {
	name, entry string
	layer       []byte
} {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name, entry string
		layer       []byte
	}{
		{"dotdot", "a/../../escaped", rawTar(t, rawEntry{name: "a/", typ: tar.TypeDir}, rawEntry{name: "a/../../escaped", body: "out\n"})},
		{"rooted-dotdot", "/../escaped", rawTar(t, rawEntry{name: "/../escaped", body: "out\n"})},
		{"devzero", "esc/zero", rawTar(t, rawEntry{name: "esc", typ: tar.TypeSymlink, link: "/dev"}, rawEntry{name: "esc/zero", body: "x"})},
		{"oracle", "h/passwd", rawTar(t, rawEntry{name: "h", typ: tar.TypeSymlink, link: "/etc"}, rawEntry{name: "h/passwd", body: string(passwd)})},
		{"hardlink", "l", rawTar(t, rawEntry{name: "f", body: "x"}, rawEntry{name: "l", typ: tar.TypeLink, link: "../../etc/passwd"})},
		{"xattr", "d/", rawTar(t, rawEntry{name: "d/", typ: tar.TypeDir, pax: map[string]string{"SCHILY.xattr.trusted.overlay.opaque": "y"}})},
	}
}

// goodLayer is a runnable rootfs with an absolute symlink (lib -> /usr/lib) and nothing
// under it: ordinary, and it must save, push and pull.
func goodLayer(t *testing.T) []byte {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is needed: %v", err)
	}
	return rawTar(t,
		rawEntry{name: "bin/", typ: tar.TypeDir},
		rawEntry{name: "bin/busybox", body: string(bb), mode: 0o755},
		rawEntry{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
		rawEntry{name: "lib", typ: tar.TypeSymlink, link: "/usr/lib"},
		rawEntry{name: "etc/", typ: tar.TypeDir},
		rawEntry{name: "etc/motd", body: "legit\n"},
	)
}

// pushRaw puts blobs and a manifest into the local registry over HTTP, byte for byte: what
// containers/image would correct (sizes) or refuse to copy gets there as it is.
func pushRaw(t *testing.T, repo, tag, mediaType string, manifest []byte, blobs ...[]byte) {
	t.Helper()
	base := "http://" + registryAddr + "/v2/" + repo
	for _, b := range blobs {
		resp, err := http.Post(base+"/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusAccepted || loc == "" {
			t.Fatalf("start upload: %s", resp.Status)
		}
		if !strings.HasPrefix(loc, "http") {
			loc = "http://" + registryAddr + loc
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+digest.FromBytes(b).String(), bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/octet-stream")
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload blob: %s", resp.Status)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/manifests/"+tag, bytes.NewReader(manifest))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest: %s: %s", resp.Status, body)
	}
}

// pushRawImage pushes an OCI image of layers (uncompressed) as repo:tag; edit may change
// the manifest before it goes.
func pushRawImage(t *testing.T, repo, tag string, edit func(*ocispec.Manifest), layers ...[]byte) {
	t.Helper()
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"},
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{defaultPath}}}
	man := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(l))
		man.Layers = append(man.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(l), Size: int64(len(l))})
	}
	cfgJSON, _ := json.Marshal(cfg)
	man.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfgJSON), Size: int64(len(cfgJSON))}
	if edit != nil {
		edit(&man)
	}
	manJSON, _ := json.Marshal(man)
	pushRaw(t, repo, tag, ocispec.MediaTypeImageManifest, manJSON, append([][]byte{cfgJSON}, layers...)...)
}

func TestHostileLayers(t *testing.T) {
	good := goodLayer(t)
	hostile := hostileLayers(t)
	repo := "hostile/" + pullUnique(t)
	for _, h := range hostile {
		// A good first layer, then the hostile one: the good one must not stay either.
		pushRawImage(t, repo, h.name, nil, good, h.layer)
	}
	pushRawImage(t, repo, "mediatype", func(m *ocispec.Manifest) { m.Layers[0].MediaType = "application/x-not-a-layer" }, good)
	pushRawImage(t, repo, "size", func(m *ocispec.Manifest) { m.Layers[0].Size += 7 }, good)

	forEachUser(t, func(t *testing.T, u *User) {
		s := newImageStore(t, u)
		dir := userDir(t, u)
		before := s.storeState(t)
		refused := func(what string, r Result, parts ...string) {
			t.Helper()
			wantCode(t, r, 1)
			wantOneLineError(t, r, parts...)
			if after := s.storeState(t); after != before {
				t.Fatalf("%s: a refused layer changed the store:\nbefore %s\nafter %s", what, before, after)
			}
		}
		for _, h := range hostile {
			path := filepath.Join(dir, h.name+".tar")
			if err := os.WriteFile(path, h.layer, 0o644); err != nil {
				t.Fatal(err)
			}
			named := fmt.Sprintf("%q", h.entry)
			refused("import "+h.name, s.box(t, "import", path, "evil:"+h.name), "import", named, "refused")

			archive := filepath.Join(dir, h.name+"-archive.tar")
			if err := os.WriteFile(archive, dockerArchive(t, "evil:"+h.name, good, h.layer), 0o644); err != nil {
				t.Fatal(err)
			}
			refused("load "+h.name, s.box(t, "load", "-i", archive), "load", named, "refused")

			refused("pull "+h.name, s.box(t, "pull", "-q", regRef(repo+":"+h.name)), "pull", named, "refused")
		}
		if _, err := os.Stat(filepath.Join(s.root(), "..", "escaped")); err == nil {
			t.Fatal("a ../ entry was written outside the layer")
		}
		refused("unknown media type", s.box(t, "pull", "-q", regRef(repo+":mediatype")), "application/x-not-a-layer", "refused")
		refused("wrong size", s.box(t, "pull", "-q", regRef(repo+":size")), "manifest says", "corrupt")

		// The ordinary image: imported, saved, loaded back, pushed and pulled back, and it runs.
		path := filepath.Join(dir, "good.tar")
		if err := os.WriteFile(path, good, 0o644); err != nil {
			t.Fatal(err)
		}
		s.must(t, "import", "-c", `CMD ["/bin/sh", "-c", "cat /etc/motd"]`, path, "legit:1")
		saved := filepath.Join(dir, "legit.tar")
		s.must(t, "save", "-o", saved, "legit:1")
		s.must(t, "rmi", "legit:1")
		s.must(t, "load", "-i", saved)
		wantOut(t, s.must(t, "run", "--rm", "legit:1"), "legit")
		dst := regRef(repo + "-" + u.Mode + ":legit")
		s.must(t, "tag", "legit:1", dst)
		s.must(t, "push", "-q", dst)
		clean := newImageStore(t, u)
		clean.must(t, "pull", "-q", dst)
		wantOut(t, clean.must(t, "run", "--rm", dst), "legit")
	})
}

// TestHostileLayerStoredBefore puts hostile layers into a rootful store the way box stored
// them before it checked layers (containers/image straight into the store, which unpacks
// esc/zero through the layer's own esc -> /dev into the layer), then saves and pushes the
// image: save used to spin on the host's /dev/zero and push to read the host's files (a
// right guess of h/hostname pushed, a wrong one failed), and a /../ name made an image
// that could never be saved. All must now finish, carrying the files as the layer holds
// them, whatever the host has; pulling it back is refused.
func TestHostileLayerStoredBefore(t *testing.T) {
	u := requireRoot(t)
	s := newImageStore(t, u)
	hostname, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	guess := "not " + string(hostname)
	layout := filepath.Join(t.TempDir(), "layout")
	buildImage(t, layout, ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		goodLayer(t),
		rawTar(t, rawEntry{name: "esc", typ: tar.TypeSymlink, link: "/dev"}, rawEntry{name: "esc/zero", body: "layer's own zero"},
			rawEntry{name: "/../dotdot", body: "kept inside"}),
		rawTar(t, rawEntry{name: "h", typ: tar.TypeSymlink, link: "/etc"}, rawEntry{name: "h/hostname", body: guess}))
	storeWithoutChecks(t, layout, s.args[1], s.args[3], "docker.io/library/stored:evil")

	saved := filepath.Join(t.TempDir(), "saved.tar")
	r := s.u.BoxWith(t, RunOpts{Timeout: 90 * time.Second}, append(append([]string{}, s.args...), "save", "-o", saved, "stored:evil")...)
	wantCode(t, r, 0)
	contents := layerFiles(t, saved)
	if got := contents["esc/zero"]; got != "layer's own zero" {
		t.Errorf("saved esc/zero holds %q, want the layer's own content", truncate(got, 40))
	}
	if got := contents["/../dotdot"]; got != "kept inside" {
		t.Errorf("saved /../dotdot holds %q, want the layer's own content", got)
	}
	if got := contents["h/hostname"]; got != guess {
		t.Errorf("saved h/hostname holds %q, want the layer's %q", got, guess)
	}

	dst := regRef("hostile/stored-" + pullUnique(t) + ":evil")
	s.must(t, "tag", "stored:evil", dst)
	r = s.u.BoxWith(t, RunOpts{Timeout: 90 * time.Second}, append(append([]string{}, s.args...), "push", "-q", dst)...)
	wantCode(t, r, 0)
	clean := newImageStore(t, u)
	r = clean.box(t, "pull", "-q", dst)
	wantCode(t, r, 1)
	wantOneLineError(t, r, `"esc/zero"`, "refused")
}

// The store unpacks layers in a re-executed copy of the process: the test binary must
// answer as containers/storage's helper when it is run as one.
func init() {
	if reexec.Init() {
		os.Exit(0)
	}
}

// layerFiles reads a docker-archive and returns the regular files of all its layers.
func layerFiles(t *testing.T, archive string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".tar") {
			continue
		}
		lr := tar.NewReader(tr)
		for {
			lh, err := lr.Next()
			if err != nil {
				break
			}
			if lh.Typeflag == tar.TypeReg {
				b, _ := io.ReadAll(lr)
				files[strings.TrimPrefix(lh.Name, "./")] = string(b)
			}
		}
	}
	return files
}

// storeWithoutChecks copies the OCI layout at dir into the rootful store at root as name
// with containers/image, bypassing box.
func storeWithoutChecks(t *testing.T, dir, root, runroot, name string) {
	t.Helper()
	store, err := cstorage.GetStore(stypes.StoreOptions{GraphRoot: root, RunRoot: runroot, GraphDriverName: "overlay"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Shutdown(true)
	src, err := layout.NewReference(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := istorage.Transport.ParseStoreReference(store, name)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := acceptAnything()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Destroy()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := copy.Image(ctx, pc, dst, src, &copy.Options{}); err != nil {
		t.Fatalf("store the image without box's checks: %v", err)
	}
}
