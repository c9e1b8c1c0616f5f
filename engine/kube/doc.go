// Package kube owns Kubernetes manifests on one machine: turning Pods,
// Deployments, DaemonSets and Jobs into box containers (play), removing
// what play made (down), and writing running containers back as Pods,
// Deployments, DaemonSets or Jobs and Services (generate). Like compose,
// it is a client of the engine: it calls the engine's exported API, never
// the CLI, and never prints; warnings go to the writer it is given.
//
// The Kubernetes API types themselves (k8s.io/api, sigs.k8s.io/yaml)
// would cost every box process about 2 ms of package initialisation and
// the binary 8 MB, so box does not link them: they live in box's
// Kubernetes codec (package codec, built as its own program by
// scripts/build and carried gzipped inside box), which this package runs
// from memory to decode a manifest strictly and to write YAML. Between
// the two, objects travel as the API types' JSON, which box reads into
// the few fields it uses (package k8s).
package kube
