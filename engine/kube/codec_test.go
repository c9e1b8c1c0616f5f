package kube

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"box/engine/kube/codec"
)

// The unit tests run the codec in this process; the end-to-end tests
// run the one scripts/build embeds.
func init() {
	runCodec = func(verb string, in []byte) ([]byte, error) {
		out, err := codec.Run(verb, in)
		if err != nil {
			return nil, &CodecError{Msg: err.Error()}
		}
		return out, nil
	}
}

// TestBoxLinksNoKubernetesTypes: the Kubernetes API types would cost
// every box process their initialisers; only the codec may link them.
func TestBoxLinksNoKubernetesTypes(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper seccomp urfave_cli_no_docs", "box").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "box/engine/kube\n") {
		t.Fatalf("go list -deps box does not list box/engine/kube:\n%s", out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "k8s.io/") || strings.HasPrefix(p, "sigs.k8s.io/") || p == "box/engine/kube/codec" {
			t.Errorf("box links %s", p)
		}
	}
}

// TestUnpackCodec: the codec is unpacked into a memory file that this
// process holds read-only (no writer left, so it can be run) and that
// runs; many times over, as it failed once in CI when it was sealed.
func TestUnpackCodec(t *testing.T) {
	// A program, not a script: a script's interpreter would open the
	// close-on-exec file after it closed.
	echo, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(echo)
	_ = zw.Close()
	saved := codecGz
	codecGz = gz.String()
	t.Cleanup(func() { codecGz = saved })
	for i := 0; i < 200; i++ {
		exe, err := unpackCodec()
		if err != nil {
			t.Fatalf("unpack %d: %v", i, err)
		}
		flags, err := unix.FcntlInt(exe.Fd(), unix.F_GETFL, 0)
		if err != nil || flags&unix.O_ACCMODE != unix.O_RDONLY {
			t.Fatalf("the codec's file is open with flags %#x (%v), want read-only", flags, err)
		}
		out, err := exec.Command(fmt.Sprintf("/proc/self/fd/%d", exe.Fd()), "encode").Output()
		exe.Close()
		if err != nil || string(out) != "encode\n" {
			t.Fatalf("run %d: %q, %v", i, out, err)
		}
	}
}
