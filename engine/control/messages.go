package control

import (
	"encoding/json"

	"box/engine/spec"
)

// ExecRequest is `box exec` asking the monitor to start a process.
type ExecRequest struct {
	spec.ExecOptions
	// Stdin says the first file sent is the process's stdin.
	Stdin bool `json:"stdin"`
}

// AttachRequest is `box attach` asking for the container's output and,
// with Stdin, a way into its input.
type AttachRequest struct {
	Stdin bool `json:"stdin"`
}

// What a RootRequest asks for.
const (
	// TreeRoot is the container as its processes see it: its rootfs with
	// its volumes and bind mounts, and /proc and /sys.
	TreeRoot = "root"
	// TreeRootfs is the container's own file system alone.
	TreeRootfs = "rootfs"
)

// RootRequest is `box cp` or `box export` asking the monitor for a
// directory of the running container; the answer is MsgFile with it.
type RootRequest struct {
	What string `json:"what"` // TreeRoot or TreeRootfs
}

// SignalMessage passes a signal on.
type SignalMessage struct {
	Signal int `json:"signal"`
}

// ResizeMessage is the client's terminal size.
type ResizeMessage struct {
	Width  uint16 `json:"width"`
	Height uint16 `json:"height"`
}

// StartedReport says the request is under way: the process's pid.
type StartedReport struct {
	Pid int `json:"pid"`
}

// ExitReport is how the process ended.
type ExitReport struct {
	Code int `json:"code"`
	// Guest is what a network guest reported.
	Guest *GuestResult `json:"guest,omitempty"`
}

// GuestEnvelope is the part of a guest request that the server reads:
// the engine call the guest makes (Run or Start, exactly one) is the
// guest's to decode, from the payload it is handed whole. Env and Dir
// are the client's.
type GuestEnvelope struct {
	Run   json.RawMessage `json:"run,omitempty"`
	Start json.RawMessage `json:"start,omitempty"`
	Env   []string        `json:"env"`
	Dir   string          `json:"dir"`
}

// Valid says whether exactly one engine call is asked for.
func (g GuestEnvelope) Valid() bool {
	present := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	return present(g.Run) != present(g.Start)
}

// GuestResult is how the guest's engine call ended: the container's id,
// its exit code when it ran attached, or the error.
type GuestResult struct {
	ID    string       `json:"id,omitempty"`
	Code  int          `json:"code,omitempty"`
	Error *ErrorReport `json:"error,omitempty"`
}
