package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/klauspost/pgzip"
	"golang.org/x/sys/unix"
)

// ErrNoCodec is a box built without its Kubernetes codec (go build
// without scripts/build).
var ErrNoCodec = errors.New("this box was built without its Kubernetes codec; build it with scripts/build")

// runCodec runs box-kube-codec VERB with in on its standard input and
// returns its standard output. The codec is a program of its own,
// carried gzipped inside box (codecGz, embedded by scripts/build), so
// that the Kubernetes API types cost nothing to the verbs that do not
// use them: it is unpacked into an anonymous memory file and run from
// there, leaving nothing on disk. Tests replace it.
var runCodec = func(verb string, in []byte) ([]byte, error) {
	if len(codecGz) == 0 {
		return nil, ErrNoCodec
	}
	exe, err := unpackCodec()
	if err != nil {
		return nil, fmt.Errorf("kube codec: %w", err)
	}
	defer exe.Close()
	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", exe.Fd()), verb)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return nil, &CodecError{Msg: msg}
		}
		return nil, fmt.Errorf("kube codec: %w", err)
	}
	return out.Bytes(), nil
}

// CodecError is what the codec refused, in its words (a document that
// does not decode names the document and the field).
type CodecError struct{ Msg string }

func (e *CodecError) Error() string { return e.Msg }

// unpackCodec is the codec in an anonymous memory file, open read-only
// (close-on-exec: the child runs it through /proc/self/fd before that
// closes). The file is written through a descriptor closed before it is
// run, so no writer is left; it is not sealed against writes, because
// adding F_SEAL_WRITE waits for every page's transient references to go
// and then fails with EBUSY (seen once in CI, under load), while nothing
// but this process ever holds the file.
func unpackCodec() (*os.File, error) {
	fd, err := unix.MemfdCreate("box-kube-codec", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memory file: %w", err)
	}
	w := os.NewFile(uintptr(fd), "box-kube-codec")
	defer w.Close()
	zr, err := pgzip.NewReader(strings.NewReader(codecGz))
	if err == nil {
		_, err = io.Copy(w, zr)
	}
	if err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	r, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen read-only: %w", err)
	}
	return r, nil
}

// encode writes objects as YAML documents through the codec, which
// decodes each strictly with the Kubernetes types first.
func encode(objects []any) ([]byte, error) {
	in, err := json.Marshal(objects)
	if err != nil {
		return nil, err
	}
	return runCodec("encode", in)
}
