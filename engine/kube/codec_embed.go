//go:build kubecodec

package kube

import _ "embed" // for codecGz

// codecGz is box-kube-codec, gzipped; scripts/build makes it and builds
// box with the kubecodec tag.
//
//go:embed box-kube-codec.gz
var codecGz string
