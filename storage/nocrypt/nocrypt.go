// Package ocicrypt is box's stand-in for github.com/containers/ocicrypt:
// the two entry points go.podman.io/image/v5/copy calls, which it reaches
// only when its caller asks for layer encryption or decryption. box never
// does; an encrypted layer is refused by box's pull before copy sees it,
// and these say so should that ever change.
package ocicrypt

import (
	"errors"
	"io"

	"github.com/containers/ocicrypt/config"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrUnsupported is what both entry points return.
var ErrUnsupported = errors.New("encrypted image layers are not supported by box")

// EncryptLayerFinalizer has the real module's shape.
type EncryptLayerFinalizer func() (map[string]string, error)

// EncryptLayer refuses: box does not encrypt layers.
func EncryptLayer(*config.EncryptConfig, io.Reader, ocispec.Descriptor) (io.Reader, EncryptLayerFinalizer, error) {
	return nil, nil, ErrUnsupported
}

// DecryptLayer refuses: box does not decrypt layers.
func DecryptLayer(*config.DecryptConfig, io.Reader, ocispec.Descriptor, bool) (io.Reader, digest.Digest, error) {
	return nil, "", ErrUnsupported
}
