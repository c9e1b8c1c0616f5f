// This module stands in for github.com/containers/ocicrypt (see the replace
// directive in box's go.mod): box neither encrypts nor decrypts image layers,
// and the real module's key-provider support links gRPC and protobuf (about a
// hundred packages) into every box process, whose package initialisers every
// invocation pays for before main runs. go.podman.io/image/v5 uses only the
// names declared here.
module github.com/containers/ocicrypt

go 1.25.0

require (
	github.com/opencontainers/go-digest v1.0.0
	github.com/opencontainers/image-spec v1.1.1
)
