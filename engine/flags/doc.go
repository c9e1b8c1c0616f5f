// Package flags owns Docker's flag syntax for containers: it turns the
// strings a user gives -v/--volume, --mount, --tmpfs, -e/--env and
// --env-file, -l/--label and --label-file, -p/--publish, --restart,
// --log-driver/--log-opt, --dns/--dns-search/--dns-option/--add-host,
// --security-opt, --cap-add/--cap-drop, --volumes-from, --network,
// --ulimit, --sysctl, --expose, --annotation, --shm-size and the other
// sizes, --stop-signal, --pid/--ipc/--uts/--cgroupns and the resource
// limits (-m, --cpus, --pids-limit, ...) into typed values, and
// says what is wrong with them as a *UsageError (exit 125) whose words
// are the ones box has always used.
//
// The CLI calls it before the engine sees a run's options; the engine
// takes the typed values and never parses these spellings again. The
// package makes nothing: it may read files the user named (env and
// label files, a seccomp profile) and check that a --mount bind's
// source exists, but it creates no directory and starts no process.
// It must never import the engine.
package flags

import "box/engine/spec"

// UsageError is an option the user got wrong; nothing was made.
type UsageError = spec.UsageError
