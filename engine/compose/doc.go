// Package compose owns Compose projects: loading compose files with the
// Compose Specification's own loader (compose-go), Docker Compose's names
// and com.docker.compose.* labels, turning a service into the engine's
// run options, the orchestration of up, down, create, start, stop,
// restart, kill, pause, rm, run (one-off containers), logs and ps, in
// dependency order, and services' images: build (through the engine's
// Build, the path box build takes), pull, push and down --rmi. It is a
// client of the engine like the CLI is: it calls the engine's exported
// API, never the CLI, and never prints; warnings go to the writer it is
// given.
package compose
