// Package kube owns Kubernetes manifests on one machine: decoding them
// strictly into the Kubernetes API types (core, apps and batch v1, with
// sigs.k8s.io/yaml, never through a runtime.Scheme), turning Pods,
// Deployments, DaemonSets and Jobs into box containers (play), removing
// what play made (down), and writing running containers back as a Pod
// (generate). Like compose, it is a client of the engine: it calls the
// engine's exported API, never the CLI, and never prints; warnings go
// to the writer it is given.
//
// Start-up cost: every box process initialises the packages this one
// imports. core/apps/batch v1 and what they pull in are 34 packages
// whose initialisers take about 2 ms here (GODEBUG=inittrace=1; box
// version's wall time rose by about 1.5 ms of 50, median of 41 runs on
// a loaded machine), and the binary grows by 7.7 MB. The scheme, codec
// and client packages, which cost more, are never imported: documents
// decode straight into the typed structs.
package kube
