package kube

import (
	"os/exec"
	"strings"
	"testing"

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
