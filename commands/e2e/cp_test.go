package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hostDir makes a directory in the scratch tree that u owns, with files
// written as spec says: path -> content ("/" at the end: a directory),
// each owned by u with the mode given in modes (default 0644 / 0755).
func hostDir(t *testing.T, u *User, files map[string]string, modes map[string]os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp(tempDir, "cp-"+u.Mode+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	chown := func(p string) {
		if err := os.Lchown(p, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	chown(dir)
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		for d := filepath.Dir(p); d != dir; d = filepath.Dir(d) {
			chown(d)
		}
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		chown(p)
	}
	for name, m := range modes {
		if err := os.Chmod(filepath.Join(dir, name), m); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tarEntries reads a tar archive: entry name -> content ("" for others
// than regular files), and the headers by name.
func tarEntries(t *testing.T, data string) (map[string]string, map[string]*tar.Header) {
	t.Helper()
	files := map[string]string{}
	hdrs := map[string]*tar.Header{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		body, _ := io.ReadAll(tr)
		files[hdr.Name] = string(body)
		hdrs[hdr.Name] = hdr
	}
	return files, hdrs
}

func cpTar(t *testing.T, entries ...*tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname = ""
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return buf.String()
}

func wantFile(t *testing.T, p, content string, mode os.FileMode, uid uint32) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("want %s copied out: %v", p, err)
	}
	if string(data) != content {
		t.Fatalf("%s holds %q, want %q", p, data, content)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Fatalf("%s has mode %v, want %v", p, fi.Mode().Perm(), mode)
	}
	if owner := fileOwner(fi); owner != uid {
		t.Fatalf("%s belongs to uid %d, want the caller's %d", p, owner, uid)
	}
}

func TestCpRunning(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "cp-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", name, "busybox", "sleep", "600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		host := hostDir(t, u, map[string]string{
			"top.txt":         "top\n",
			"src/a.txt":       "alpha\n",
			"src/sub/b.sh":    "#!/bin/sh\necho beta\n",
			"src/sub/deeper/": "",
		}, map[string]os.FileMode{"top.txt": 0o640, "src/sub/b.sh": 0o755, "src/sub/": 0o750})
		stat := func(p string) string {
			return strings.TrimSpace(u.MustBox(t, "exec", name, "stat", "-c", "%a %u:%g", p).Stdout)
		}
		cat := func(p string) string { return u.MustBox(t, "exec", name, "cat", p).Stdout }

		// A file into an existing directory keeps its name and mode, and
		// belongs to the container's root.
		u.MustBox(t, "cp", host+"/top.txt", name+":/tmp/")
		if got := cat("/tmp/top.txt"); got != "top\n" {
			t.Fatalf("/tmp/top.txt holds %q", got)
		}
		if got := stat("/tmp/top.txt"); got != "640 0:0" {
			t.Fatalf("/tmp/top.txt: %s, want 640 0:0", got)
		}
		// A file to a new name; over an existing file.
		u.MustBox(t, "cp", host+"/src/a.txt", name+":/tmp/renamed")
		u.MustBox(t, "cp", host+"/top.txt", name+":/tmp/renamed")
		if got := cat("/tmp/renamed"); got != "top\n" {
			t.Fatalf("/tmp/renamed holds %q after the overwrite", got)
		}

		// A directory to a new path becomes that path; into an existing
		// directory it goes under its own name; "SRC/." copies the contents.
		u.MustBox(t, "cp", host+"/src", name+":/tmp/dst")
		if got := cat("/tmp/dst/sub/b.sh"); got != "#!/bin/sh\necho beta\n" {
			t.Fatalf("/tmp/dst/sub/b.sh holds %q", got)
		}
		if got := stat("/tmp/dst/sub/b.sh"); got != "755 0:0" {
			t.Fatalf("/tmp/dst/sub/b.sh: %s", got)
		}
		if got := stat("/tmp/dst/sub"); got != "750 0:0" {
			t.Fatalf("/tmp/dst/sub: %s", got)
		}
		u.MustBox(t, "exec", name, "test", "-d", "/tmp/dst/sub/deeper")
		u.MustBox(t, "cp", host+"/src", name+":/tmp/dst")
		u.MustBox(t, "exec", name, "test", "-f", "/tmp/dst/src/a.txt")
		u.MustBox(t, "exec", name, "mkdir", "/tmp/dot")
		u.MustBox(t, "cp", host+"/src/.", name+":/tmp/dot")
		u.MustBox(t, "exec", name, "test", "-f", "/tmp/dot/a.txt")
		if r := u.Box(t, "exec", name, "test", "-e", "/tmp/dot/src"); r.Code == 0 {
			t.Fatal("SRC/. into a directory made SRC inside it")
		}

		// Docker's error cases.
		r := u.Box(t, "cp", host+"/top.txt", name+":/tmp/nodir/")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "no such directory")
		r = u.Box(t, "cp", host+"/src", name+":/tmp/top.txt")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "cannot copy directory")
		r = u.Box(t, "cp", host+"/top.txt", name+":/nope/x")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "Could not find the file /nope in container "+name)

		// Out again: contents, modes, a nested directory, the caller as owner.
		out := hostDir(t, u, nil, nil)
		u.MustBox(t, "cp", name+":/tmp/dst", out+"/dst")
		wantFile(t, out+"/dst/a.txt", "alpha\n", 0o644, u.UID)
		wantFile(t, out+"/dst/sub/b.sh", "#!/bin/sh\necho beta\n", 0o755, u.UID)
		if fi, err := os.Stat(out + "/dst/sub/deeper"); err != nil || !fi.IsDir() {
			t.Fatalf("nested directory not copied out: %v", err)
		}
		u.MustBox(t, "cp", name+":/tmp/top.txt", out)
		wantFile(t, out+"/top.txt", "top\n", 0o640, u.UID)
		u.MustBox(t, "cp", name+":/tmp/dst/.", out+"/dotted")
		wantFile(t, out+"/dotted/a.txt", "alpha\n", 0o644, u.UID)
		r = u.Box(t, "cp", name+":/tmp/top.txt", out+"/missing/")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "no such directory")
		r = u.Box(t, "cp", name+":/tmp/top.txt", out+"/no/such/dir")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "invalid output path")
		r = u.Box(t, "cp", name+":/tmp/top.txt/", out+"/x")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "not a directory")
		r = u.Box(t, "cp", name+":/nope", out)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "Could not find the file /nope in container "+name)
		if r.Stderr != "Error: Could not find the file /nope in container "+name+"\n" {
			t.Fatalf("want Docker's wording, got %q", r.Stderr)
		}
		r = u.Box(t, "cp", "no-such-ctr:/x", out)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container: no-such-ctr")
		r = u.Box(t, "cp", out, host)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "must specify at least one container source")
		r = u.Box(t, "cp", name+":/a", name+":/b")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "copying between containers is not supported")

		// -L copies what a link points to, under the link's name.
		u.MustBox(t, "exec", name, "ln", "-s", "/tmp/dst/a.txt", "/tmp/link")
		u.MustBox(t, "cp", "-L", name+":/tmp/link", out)
		wantFile(t, out+"/link", "alpha\n", 0o644, u.UID)
		u.MustBox(t, "cp", name+":/tmp/link", out+"/rawlink")
		if target, err := os.Readlink(out + "/rawlink"); err != nil || target != "/tmp/dst/a.txt" {
			t.Fatalf("without -L the link itself: %q, %v", target, err)
		}

		// A tar stream out, and one in.
		r = u.MustBox(t, "cp", name+":/tmp/dst", "-")
		files, hdrs := tarEntries(t, r.Stdout)
		if files["dst/a.txt"] != "alpha\n" || files["dst/sub/b.sh"] != "#!/bin/sh\necho beta\n" || hdrs["dst/sub/deeper/"] == nil {
			t.Fatalf("tar out of /tmp/dst lists %v", keys(files))
		}
		if h := hdrs["dst/sub/b.sh"]; h.Mode != 0o755 || h.Uid != 0 {
			t.Fatalf("dst/sub/b.sh in the tar: mode %o uid %d", h.Mode, h.Uid)
		}
		in := cpTar(t,
			&tar.Header{Name: "in/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 123, Gid: 456},
			&tar.Header{Name: "in/x.txt", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 123, Gid: 456, Linkname: "from tar\n"},
			&tar.Header{Name: "in/l", Typeflag: tar.TypeSymlink, Linkname: "x.txt", Uid: 123, Gid: 456})
		u.MustBox(t, "exec", name, "mkdir", "/tmp/t1", "/tmp/t2")
		u.BoxIn(t, in, "cp", "-", name+":/tmp/t1")
		if got := cat("/tmp/t1/in/l"); got != "from tar\n" {
			t.Fatalf("/tmp/t1/in/l from the tar holds %q", got)
		}
		// As Docker, a tar keeps its owners without -a too; where box
		// cannot map them (no subordinate range), root owns the files.
		wantIDs := "600 123:456"
		if u.Mode == "norange" {
			wantIDs = "600 0:0"
		}
		if got := stat("/tmp/t1/in/x.txt"); got != wantIDs {
			t.Fatalf("without -a, /tmp/t1/in/x.txt: %s, want %s", got, wantIDs)
		}
		r = u.BoxIn(t, in, "cp", "-a", "-", name+":/tmp/t2")
		if u.Mode == "norange" {
			// Only the user's own id is mapped: 123 cannot be had.
			wantCode(t, r, 1)
			wantOneLineError(t, r, "not mapped")
		} else {
			wantCode(t, r, 0)
			if got := stat("/tmp/t2/in/x.txt"); got != "600 123:456" {
				t.Fatalf("with -a, /tmp/t2/in/x.txt: %s, want 600 123:456", got)
			}
		}
		r = u.BoxIn(t, in, "cp", "-", name+":/tmp/top.txt")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "must be a directory")

		// Links in the container resolve inside it, never on the host.
		u.MustBox(t, "exec", name, "sh", "-c", "echo inside > /etc/marker; ln -s / /tmp/esc; ln -s "+host+" /tmp/hostlink")
		r = u.MustBox(t, "cp", name+":/tmp/esc/etc/marker", "-")
		if files, _ := tarEntries(t, r.Stdout); files["marker"] != "inside\n" {
			t.Fatalf("cp through /tmp/esc -> / read %v", files)
		}
		r = u.Box(t, "cp", name+":/tmp/esc"+host+"/top.txt", "-")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "Could not find the file")
		u.MustBox(t, "cp", host+"/top.txt", name+":/tmp/esc/tmp/via-esc")
		u.MustBox(t, "exec", name, "test", "-f", "/tmp/via-esc")
		if _, err := os.Stat("/tmp/via-esc"); err == nil {
			os.Remove("/tmp/via-esc")
			t.Fatal("copying through /tmp/esc -> / wrote on the host")
		}
		for _, dst := range []string{"/tmp/hostlink/", "/tmp/hostlink/new.txt", "/tmp/esc" + host + "/new.txt"} {
			r = u.Box(t, "cp", host+"/src/a.txt", name+":"+dst)
			wantCode(t, r, 1)
			if _, err := os.Stat(host + "/new.txt"); err == nil {
				t.Fatalf("copying to %s wrote into the host's %s", dst, host)
			}
			if _, err := os.Stat(host + "/a.txt"); err == nil {
				t.Fatalf("copying to %s wrote into the host's %s", dst, host)
			}
		}
	})
}

// A running container's volumes are part of what cp sees, both ways.
func TestCpVolume(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "cpvol-" + u.Mode
		vol := hostDir(t, u, map[string]string{"on-host.txt": "from the volume\n"}, nil)
		u.MustBox(t, "run", "-d", "--name", name, "-v", vol+":/vol", "busybox", "sleep", "600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		r := u.MustBox(t, "cp", name+":/vol/on-host.txt", "-")
		if files, _ := tarEntries(t, r.Stdout); files["on-host.txt"] != "from the volume\n" {
			t.Fatalf("cp out of a volume: %v", files)
		}
		src := hostDir(t, u, map[string]string{"in.txt": "into the volume\n"}, nil)
		u.MustBox(t, "cp", src+"/in.txt", name+":/vol/")
		// Container root is the user on the host (or root, rootful).
		wantFile(t, vol+"/in.txt", "into the volume\n", 0o644, u.UID)
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCpStopped(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		name := "cpstop-" + u.Mode
		u.MustBox(t, "create", "--name", name, "busybox", "cat", "/in/top.txt")
		t.Cleanup(func() { u.Box(t, "rm", "-f", name) })
		host := hostDir(t, u, map[string]string{"d/top.txt": "first\n", "top.txt": "copied while stopped\n"}, nil)

		r := u.Box(t, "cp", host+"/top.txt", name+":/in/")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "no such directory")
		u.MustBox(t, "cp", host+"/d", name+":/in")
		u.MustBox(t, "cp", host+"/top.txt", name+":/in/")
		r = u.MustBox(t, "cp", name+":/in/top.txt", "-")
		if files, _ := tarEntries(t, r.Stdout); files["top.txt"] != "copied while stopped\n" {
			t.Fatalf("tar out of a created container: %v", files)
		}
		// The copy is there when the container runs, and out again once
		// it has exited.
		r = u.MustBox(t, "start", "-a", name)
		wantOut(t, r, "copied while stopped")
		u.MustBox(t, "cp", name+":/in", host+"/back")
		wantFile(t, host+"/back/top.txt", "copied while stopped\n", 0o644, u.UID)
		r = u.Box(t, "cp", name+":/nope", host)
		wantCode(t, r, 1)
		wantOneLineError(t, r, "Could not find the file /nope in container "+name)
	})
}

func TestExport(t *testing.T) {
	forEachUser(t, func(t *testing.T, u *User) {
		running := "export-" + u.Mode
		u.MustBox(t, "run", "-d", "--name", running, "busybox", "sleep", "600")
		t.Cleanup(func() { u.Box(t, "rm", "-f", running) })
		u.MustBox(t, "exec", running, "sh", "-c", "echo made > /made-here")
		r := u.MustBox(t, "export", running)
		checkExport(t, r.Stdout, "made-here", "made\n")
		u.MustBox(t, "container", "export", running) // Docker's other spelling

		stopped := "export-stopped-" + u.Mode
		u.MustBox(t, "run", "--name", stopped, "busybox", "sh", "-c", "echo bye > /gone")
		t.Cleanup(func() { u.Box(t, "rm", "-f", stopped) })
		out := hostDir(t, u, nil, nil)
		u.MustBox(t, "export", "-o", out+"/stopped.tar", stopped)
		data, err := os.ReadFile(out + "/stopped.tar")
		if err != nil {
			t.Fatal(err)
		}
		checkExport(t, string(data), "gone", "bye\n")

		r = u.Box(t, "export", "no-such-ctr")
		wantCode(t, r, 1)
		wantOneLineError(t, r, "No such container: no-such-ctr")

		pty := startOnPty(t, u, "export", running)
		if code := pty.exit(t); code != 1 {
			t.Fatalf("export to a terminal: exit %d, want 1; it showed %q", code, pty.text())
		}
		<-pty.copied
		if !strings.Contains(pty.text(), "cowardly refusing to save to a terminal. Use the -o flag or redirect") {
			t.Fatalf("export to a terminal showed %q", pty.text())
		}
	})
}

// checkExport checks an exported archive: the image's files, one the
// container made, nothing of /proc's contents.
func checkExport(t *testing.T, data, made, content string) {
	t.Helper()
	files, hdrs := tarEntries(t, data)
	if hdrs["bin/busybox"] == nil {
		t.Fatalf("export has no bin/busybox; it lists %d entries", len(files))
	}
	if files[made] != content {
		t.Fatalf("export has %s = %q, want %q", made, files[made], content)
	}
	for name := range files {
		if strings.HasPrefix(name, "proc/") && name != "proc/" || strings.HasPrefix(name, "sys/") && name != "sys/" {
			t.Fatalf("export holds %s", name)
		}
		if strings.HasPrefix(name, "/") || strings.HasPrefix(name, "./") {
			t.Fatalf("export entry %q is not relative to the root as Docker's are", name)
		}
	}
}

func fileOwner(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return ^uint32(0)
}
