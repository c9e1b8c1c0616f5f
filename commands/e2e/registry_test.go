package e2e

// The local registry the suite pulls from: Debian's docker-registry (the CNCF distribution
// registry) on 127.0.0.1, filled from the shared test images with containers/image, and
// named in registries.conf as the mirror of docker.io.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

const registryBinary = "/usr/bin/docker-registry"

// Manifest digests of the BusyBox images as pushed: the shared layouts' manifests, unchanged.
const (
	busyboxMuslDigest  = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	busyboxGlibcDigest = "sha256:1cfa4e2b09e127b9c4ed43578d3f3c18e7d44ea47b9ea98475c0cbe9086525f8"
)

// registry is a running docker-registry process.
type registry struct {
	addr   string // 127.0.0.1:PORT
	cmd    *exec.Cmd
	log    string        // its stdout and stderr
	exited chan struct{} // closed once cmd.Wait has returned
}

// startRegistry starts a registry storing its blobs under dir and waits until it answers.
// A port picked free can be taken before the registry binds it, so it tries a few times.
func startRegistry(dir string) (*registry, error) {
	if _, err := os.Stat(registryBinary); err != nil {
		return nil, fmt.Errorf("registry: %w (install Debian's docker-registry package)", err)
	}
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		r, err := tryStartRegistry(dir)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func tryStartRegistry(dir string) (*registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &registry{addr: fmt.Sprintf("127.0.0.1:%d", port), log: filepath.Join(dir, "registry.log")}
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "config.yml")
	yaml := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, storage, r.addr)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r.cmd = exec.Command(registryBinary, "serve", config)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	// If the test binary dies without its teardown (go test's -timeout panics), the
	// kernel kills the registry too.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	var waitErr error
	r.exited = make(chan struct{})
	go func() { waitErr = r.cmd.Wait(); close(r.exited) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("registry on %s exited early (%v): %s", r.addr, waitErr, tail(r.log))
		default:
		}
		resp, err := client.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.stop()
	return nil, fmt.Errorf("registry on %s did not answer GET /v2/ within 15s: %s", r.addr, tail(r.log))
}

// stop kills the registry process (by its PID) and waits until the goroutine running
// cmd.Wait has reaped it.
func (r *registry) stop() {
	if r == nil {
		return
	}
	r.cmd.Process.Kill()
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last part of a log file, for error messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	if s == "" {
		return "(log empty)"
	}
	return s
}

// acceptAnything is the signature policy of the suite's own copies: the
// images are the shared test data, checked by digest where it matters.
func acceptAnything() (*signature.PolicyContext, error) {
	policy, err := signature.NewPolicyFromBytes([]byte(`{"default":[{"type":"insecureAcceptAnything"}]}`))
	if err != nil {
		return nil, err
	}
	return signature.NewPolicyContext(policy)
}

// copyToRegistry copies the image src into the local registry as repoTag
// ("library/alpine:latest"). With all set, every image of a multi-platform source is copied
// and the index kept; otherwise a list source is narrowed to linux/amd64.
func copyToRegistry(ctx context.Context, src types.ImageReference, repoTag string, all bool) error {
	dst, err := docker.ParseReference("//" + registryAddr + "/" + repoTag)
	if err != nil {
		return err
	}
	policyContext, err := acceptAnything()
	if err != nil {
		return err
	}
	defer policyContext.Destroy()
	sys := &types.SystemContext{
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
		SystemRegistriesConfPath:    registriesConf,
		AuthFilePath:                filepath.Join(tempDir, "no-auth.json"),
		OSChoice:                    "linux",
		ArchitectureChoice:          "amd64",
	}
	opts := &copy.Options{SourceCtx: sys, DestinationCtx: sys}
	if all {
		opts.ImageListSelection = copy.CopyAllImages
	}
	if _, err := copy.Image(ctx, policyContext, dst, src, opts); err != nil {
		return fmt.Errorf("push %s to %s: %w", src.StringWithinTransport(), dst.StringWithinTransport(), err)
	}
	return nil
}

// pushLayoutImage pushes the single entry of the OCI layout at dir (an image or an index)
// into the local registry as repoTag. dir is only read.
func pushLayoutImage(ctx context.Context, dir, repoTag string, all bool) error {
	src, err := layout.NewReference(dir, "")
	if err != nil {
		return err
	}
	return copyToRegistry(ctx, src, repoTag, all)
}

// pushLayout is pushLayoutImage for tests: it pushes the image or index written into dir
// (by buildImage or buildIndex) into the local registry as repoTag, keeping every platform.
func pushLayout(t *testing.T, dir, repoTag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pushLayoutImage(ctx, dir, repoTag, true); err != nil {
		t.Fatalf("%v", err)
	}
}

// pushTestImages fills the registry with the images every test may pull. The repository
// names are Docker Hub's, as the registry stands in for docker.io:
//
//	library/busybox:latest, :musl  BusyBox 1.38.0 musl (shared OCI layout, manifest as-is)
//	library/busybox:glibc          BusyBox 1.38.0 glibc (shared OCI layout, manifest as-is)
//	library/alpine:3.20.3, :latest Alpine 3.20.3 minirootfs, built by writeAlpineImage
//	library/multi:latest           linux/arm64 + linux/amd64 index, see writeMultiArchImage
func pushTestImages(ctx context.Context, scratch string) error {
	musl := filepath.Join(sharedTestdata, "busybox-1.38.0-musl-amd64-oci")
	glibc := filepath.Join(sharedTestdata, "busybox-1.38.0-glibc-amd64-oci")
	alpine := filepath.Join(scratch, "alpine")
	if _, err := writeAlpineImage(alpine); err != nil {
		return fmt.Errorf("alpine image: %w", err)
	}
	multi := filepath.Join(scratch, "multi")
	if _, err := writeMultiArchImage(multi); err != nil {
		return fmt.Errorf("multi-arch image: %w", err)
	}
	pushes := []struct {
		dir, repoTag string
		all          bool
	}{
		{musl, "library/busybox:latest", false},
		{musl, "library/busybox:musl", false},
		{glibc, "library/busybox:glibc", false},
		{alpine, "library/alpine:3.20.3", false},
		{alpine, "library/alpine:latest", false},
		{multi, "library/multi:latest", true},
	}
	for _, p := range pushes {
		if err := pushLayoutImage(ctx, p.dir, p.repoTag, p.all); err != nil {
			return err
		}
	}
	return nil
}
