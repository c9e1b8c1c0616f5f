// Package fscopy copies files between two trees, as `box cp` and `box
// export` do: a tree is the host's file system or a container's root,
// where every path resolves within the root (symlinks to "/" or ".." never
// lead out). It owns Docker's rules of what lands where (rules.go), the
// tar stream files travel in, and the extraction that writes it, with the
// owners asked for. It knows nothing of containers, monitors or the store:
// the engine opens a container's root and hands it over.
package fscopy
