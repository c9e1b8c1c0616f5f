package engine

import (
	"maps"
	"path/filepath"
	"strconv"

	"go.podman.io/storage/pkg/stringid"

	"box/engine/events"
	"box/engine/usernet"
)

// The engine's side of the event log (box/engine/events): every verb and
// monitor notes what it did in one line, through the helpers below, so
// that an emission point stays one call.

// eventLog is where this store's events go: beside the run state, as
// Podman's file backend keeps them.
func eventLog(runRoot string) *events.Log {
	return events.Open(filepath.Join(runRoot, "events"))
}

// containerAttrs are Docker's attributes of a container's events: its
// labels, image and name.
func containerAttrs(name, image string, labels map[string]string, extra ...string) map[string]string {
	attrs := make(map[string]string, len(labels)+2+len(extra)/2)
	maps.Copy(attrs, labels)
	attrs["name"], attrs["image"] = name, image
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	return attrs
}

// recordEvent notes action on the container rec describes; extra are
// attribute pairs (key, value, ...).
func (e *Engine) recordEvent(action string, rec *record, extra ...string) {
	if rec == nil {
		return
	}
	e.events.Emit(events.Container, action, rec.ID, containerAttrs(rec.Name, rec.Image, rec.Labels, extra...))
}

// containerEvent notes action on c.
func (e *Engine) containerEvent(action string, c *Container, extra ...string) {
	if c == nil {
		return
	}
	e.events.Emit(events.Container, action, c.ID, containerAttrs(c.Name, c.Image, c.Labels, extra...))
}

// dieEvent notes a container's end with its exit code.
func (e *Engine) dieEvent(rec *record, code int) {
	e.recordEvent("die", rec, "exitCode", strconv.Itoa(code))
}

// objectEvent notes action on a network or volume named name.
func (e *Engine) objectEvent(typ, action, id, name string, extra ...string) {
	attrs := map[string]string{"name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	e.events.Emit(typ, action, id, attrs)
}

// execEvent notes an exec's action in the monitor's container, under
// execID (a new one when empty), which it returns. The monitor logs exec
// events, as it sees every exec end, detached ones too.
func (s *controlServer) execEvent(action, execID string, extra ...string) string {
	if execID == "" {
		execID = stringid.GenerateRandomID()
	}
	if s.event != nil {
		s.event(action, append([]string{"execID", execID}, extra...)...)
	}
	return execID
}

// logEvents has ctl log its events as those of the container in dir,
// read afresh each time (a rename since the start shows). It is set once,
// before the container first runs: execs come only while it runs.
func (e *Engine) logEvents(ctl *controlServer, rec *record, dir string) {
	if ctl.event != nil {
		return
	}
	ctl.event = func(action string, extra ...string) {
		if r, err := loadRecord(dir); err == nil {
			rec = r
		}
		e.recordEvent(action, rec, extra...)
	}
}

// networkEvent notes that the container rec describes joined or left
// each of its user networks (none for box's other network modes).
func (e *Engine) networkEvent(action string, rec *record) {
	if !isUserNetworkMode(rec.NetworkMode) {
		return
	}
	s, err := e.networkStore()
	if err != nil {
		return
	}
	var on []*usernet.Network
	_ = s.Read(func(list []*usernet.Network) error {
		for _, n := range list {
			if n.Endpoints[rec.ID] != nil {
				on = append(on, n)
			}
		}
		return nil
	})
	for _, n := range on {
		e.objectEvent(events.Network, action, n.ID, n.Name, "container", rec.ID, "type", "bridge")
	}
}

// volumeEvent notes action on the local volume name.
func (e *Engine) volumeEvent(action, name string) {
	e.objectEvent(events.Volume, action, name, name, "driver", "local")
}

// userNetworkEvent notes action on the user network n.
func (e *Engine) userNetworkEvent(action string, n *usernet.Network) {
	e.objectEvent(events.Network, action, n.ID, n.Name, "type", "bridge")
}
