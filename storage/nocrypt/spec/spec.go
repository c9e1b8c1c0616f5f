// Package spec names the media types of encrypted OCI layers, so that
// go.podman.io/image/v5 can recognise (and box refuse) them.
package spec

// The encrypted layer media types of the OCI image encryption proposal.
const (
	MediaTypeLayerEnc                     = "application/vnd.oci.image.layer.v1.tar+encrypted"
	MediaTypeLayerGzipEnc                 = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
	MediaTypeLayerZstdEnc                 = "application/vnd.oci.image.layer.v1.tar+zstd+encrypted"
	MediaTypeLayerNonDistributableEnc     = "application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted"
	MediaTypeLayerNonDistributableGzipEnc = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted"
	MediaTypeLayerNonDistributableZstdEnc = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted"
)
