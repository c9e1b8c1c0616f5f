// Package e2e holds box's end-to-end tests: they drive the built box binary, as an
// unprivileged user with a subordinate ID range (the product's main path), as a user without
// one, and as root, against a real registry on 127.0.0.1 that stands in for docker.io.
//
// The package has no code outside its tests. Run it with scripts/test, or directly:
//
//	scripts/build
//	BOX_BIN=$PWD/bin/box go test -tags "containers_image_openpgp exclude_graphdriver_btrfs \
//	    exclude_graphdriver_devicemapper seccomp" -count=1 -v ./commands/e2e/
//
// It needs the shared test images in ../shared/testdata beside the repository and Debian's
// docker-registry and uidmap packages. Run as root (as CI does), it creates the test users
// boxtest (with a subuid/subgid range) and boxnorange (without); run as anyone else, it tests
// that user only and skips the root-only modes (in CI, with CI=true, they fail instead).
// BOX_E2E_KEEP=1 keeps the scratch tree for a post-mortem.
package e2e
