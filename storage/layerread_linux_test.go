package storage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// headersOf is the tar-split record the store keeps of layer.
func headersOf(t *testing.T, layer []byte) []byte {
	t.Helper()
	var rec bytes.Buffer
	r, err := asm.NewInputTarStream(bytes.NewReader(layer), storage.NewJSONPacker(&rec), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	return rec.Bytes()
}

// fileEntry is a regular file header whose content is data.
type fileEntry struct{ name, data string }

func layerWith(t *testing.T, symlinks map[string]string, files ...fileEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, target := range symlinks {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777})
	}
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data))})
		tw.Write([]byte(f.data))
	}
	tw.Close()
	return buf.Bytes()
}

// rebuild runs writeLayerTar over dir with a deadline: reading /dev/zero
// would never end.
func rebuild(t *testing.T, dir string, layer []byte) ([]byte, error) {
	t.Helper()
	root, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		err := writeLayerTar(&out, bytes.NewReader(headersOf(t, layer)), root, "l")
		done <- result{out.Bytes(), err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("rebuilding the layer did not end: it reads outside the layer")
		return nil, nil
	}
}

func TestLayerTarStaysInside(t *testing.T) {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		layer []byte
		// setup makes the layer directory as the unpacker left it.
		setup func(dir string)
		// ok: the rebuilt tar is the layer; otherwise refused or failed.
		ok bool
	}{
		{
			name:  "esc -> /dev, esc/zero unpacked inside",
			layer: layerWith(t, map[string]string{"esc": "/dev"}, fileEntry{"esc/zero", "x"}),
			setup: func(dir string) {
				os.Symlink("/dev", filepath.Join(dir, "esc"))
				os.Mkdir(filepath.Join(dir, "dev"), 0o755)
				os.WriteFile(filepath.Join(dir, "dev", "zero"), []byte("x"), 0o644)
			},
			ok: true,
		},
		{
			name:  "esc -> /dev, nothing inside",
			layer: layerWith(t, map[string]string{"esc": "/dev"}, fileEntry{"esc/zero", "x"}),
			setup: func(dir string) { os.Symlink("/dev", filepath.Join(dir, "esc")) },
		},
		{
			// The content oracle: the guess is right, yet nothing of the
			// host may be read to confirm it.
			name:  "h -> /etc, h/passwd guessed right",
			layer: layerWith(t, map[string]string{"h": "/etc"}, fileEntry{"h/passwd", string(passwd)}),
			setup: func(dir string) { os.Symlink("/etc", filepath.Join(dir, "h")) },
		},
		{
			name:  "relative symlink climbing out",
			layer: layerWith(t, map[string]string{"up": "../../../../../../etc"}, fileEntry{"up/passwd", string(passwd)}),
			setup: func(dir string) { os.Symlink("../../../../../../etc", filepath.Join(dir, "up")) },
		},
		{
			name:  "../ name, the file beside the layer",
			layer: layerWith(t, nil, fileEntry{"../beside", "secret"}),
			setup: func(dir string) { os.WriteFile(filepath.Join(dir, "..", "beside"), []byte("secret"), 0o644) },
		},
		{
			name:  "../ name, unpacked inside",
			layer: layerWith(t, nil, fileEntry{"../inside", "x"}),
			setup: func(dir string) { os.WriteFile(filepath.Join(dir, "inside"), []byte("x"), 0o644) },
			ok:    true,
		},
		{
			name:  "a FIFO where a file was",
			layer: layerWith(t, nil, fileEntry{"f", "x"}),
			setup: func(dir string) { unix.Mkfifo(filepath.Join(dir, "f"), 0o644) },
		},
		{
			name:  "a directory where a file was",
			layer: layerWith(t, nil, fileEntry{"f", "x"}),
			setup: func(dir string) { os.Mkdir(filepath.Join(dir, "f"), 0o755) },
		},
		{
			name:  "content changed",
			layer: layerWith(t, nil, fileEntry{"f", "x"}),
			setup: func(dir string) { os.WriteFile(filepath.Join(dir, "f"), []byte("y"), 0o644) },
		},
		{
			name:  "lib -> /usr/lib and a file",
			layer: layerWith(t, map[string]string{"lib": "/usr/lib"}, fileEntry{"hello", "hi\n"}),
			setup: func(dir string) {
				os.Symlink("/usr/lib", filepath.Join(dir, "lib"))
				os.WriteFile(filepath.Join(dir, "hello"), []byte("hi\n"), 0o644)
			},
			ok: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "diff")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(dir)
			out, err := rebuild(t, dir, tc.layer)
			if tc.ok {
				if err != nil || !bytes.Equal(out, tc.layer) {
					t.Fatalf("err %v; rebuilt tar equal: %v", err, bytes.Equal(out, tc.layer))
				}
				return
			}
			if err == nil {
				t.Fatal("rebuilt a layer whose file lies outside it")
			}
			if bytes.Contains(out, passwd) || bytes.Contains(out, []byte("secret")) {
				t.Fatal("content from outside the layer got into the tar")
			}
			var le *LayerEntryError
			var pe *os.PathError
			if !errors.As(err, &le) && !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *LayerEntryError or a path error", err)
			}
			if le != nil && !strings.Contains(err.Error(), le.Entry) {
				t.Fatalf("%v does not name the entry", err)
			}
		})
	}
}
