package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestStartPortTaken: a created container whose host port another process took
// meanwhile fails to start with one line that names the port once, says "start
// container" once, and stays startable once the port is free.
func TestStartPortTaken(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		port := hostPort(t)
		name := "porttaken-" + u.Mode
		u.MustBox(t, "create", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "sleep", "60")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		r := u.Box(t, "start", name)
		l.Close()
		wantCode(t, r, 1)
		wantOneLineError(t, r, fmt.Sprintf("host port %d is already in use", port))
		if n := strings.Count(r.Stderr, "start container:"); n > 1 {
			t.Fatalf("the error repeats \"start container:\" %d times: %s", n, r)
		}
		u.MustBox(t, "start", name)
	})
}
