// Package usernet is the room of user-defined networks (`box network
// create`): their records (store.go, networks.json under one lock), the
// addresses handed out on them (ipam.go, endpoints.go), and the network
// holder (holder.go, ports.go), the process that keeps the shared network
// namespace with a bridge per network, each joined container's name
// server and its published ports, with the messages its clients send it.
// The model is described in the engine's usernet.go, which decides who
// joins what and starts the holder as a process role; this package never
// imports the engine; what the holder needs of it comes as Hooks.
package usernet
