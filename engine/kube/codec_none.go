//go:build !kubecodec

package kube

// codecGz is empty in a box built without scripts/build: its kube verbs
// say so (ErrNoCodec).
var codecGz string
