package engine

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestAwaitGate: the gate's byte starts the container, its closing
// does not; and once the spawner is gone, a leftover process that holds
// the gate's write end open (a fork of the dead spawner, seen in CI) is
// ended and the monitor leaves, instead of waiting for ever.
func TestAwaitGate(t *testing.T) {
	alive := func() bool { return true }

	r, w, _ := os.Pipe()
	w.Write([]byte{1})
	if !awaitGate(r, alive) {
		t.Error("a gate that gave its byte did not open")
	}
	r.Close()
	w.Close()

	r, w, _ = os.Pipe()
	w.Close()
	if awaitGate(r, alive) {
		t.Error("a gate closed without its byte opened")
	}
	r.Close()

	r, w, _ = os.Pipe()
	defer r.Close()
	holder := exec.Command("sleep", "1000")
	holder.ExtraFiles = []*os.File{w}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan bool, 1)
	go func() { done <- awaitGate(r, func() bool { return false }) }()
	select {
	case ok := <-done:
		if ok {
			t.Error("the gate opened with its spawner gone")
		}
	case <-time.After(10 * time.Second):
		holder.Process.Kill()
		t.Fatal("the monitor still waits on a gate held open by a leftover of its dead spawner")
	}
	err := holder.Wait()
	if ws, ok := holder.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the process holding the gate open was not ended: %v", err)
	}
}
