// Package kube owns Kubernetes manifests on one machine: decoding them
// strictly into the Kubernetes API types (core, apps and batch v1, with
// sigs.k8s.io/yaml, never through a runtime.Scheme), turning Pods,
// Deployments, DaemonSets and Jobs into box containers (play), removing
// what play made (down), and writing running containers back as a Pod
// (generate). Like compose, it is a client of the engine: it calls the
// engine's exported API, never the CLI, and never prints; warnings go
// to the writer it is given.
//
// Start-up cost: k8s.io/api registers its types in package initialisers.
// Importing core/apps/batch v1 adds about 2-3 ms of init to every box
// process (34 packages, measured with GODEBUG=inittrace=1); the scheme,
// codec and client packages, which cost more, are never imported here.
package kube
