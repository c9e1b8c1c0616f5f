package logfile

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"box/engine/flags"
)

// entries writes n numbered lines through w, starting at from.
func writeLines(w *Writer, from, n int) {
	for i := from; i < from+n; i++ {
		w.write([]byte(fmt.Sprintf(`{"log":"line %d\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}`+"\n", i)))
	}
}

func readLines(r *Reader) []string {
	var got []string
	r.Read(func(e Entry) { got = append(got, strings.TrimSpace(e.Log)) })
	return got
}

func wantLines(t *testing.T, got []string, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("read %d lines (%v), want lines %d to %d", len(got), got, from, to-1)
	}
	for i, l := range got {
		if l != fmt.Sprintf("line %d", from+i) {
			t.Fatalf("line %d is %q, want %q (all: %v)", i, l, fmt.Sprintf("line %d", from+i), got)
		}
	}
}

func TestLogRotation(t *testing.T) {
	// One entry is 71 bytes: max-size 500 puts 8 entries in a file (the
	// rotation comes before the write that finds the file full).
	const perFile = 8
	for _, maxFiles := range []int{1, 3} {
		t.Run(fmt.Sprint("max-file=", maxFiles), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ctr.log")
			w, err := Open(path, flags.LogRotation{MaxSize: 500, MaxFiles: maxFiles})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			follower := OpenReader(path)
			defer follower.Close()

			writeLines(w, 0, 5*perFile)
			files := append(Rotated(path), path)
			if len(files) != maxFiles {
				t.Fatalf("files %v, want %d", files, maxFiles)
			}
			for _, f := range files {
				if st, err := os.Stat(f); err != nil || st.Size() > 500+71 {
					t.Fatalf("%s: %v, size %d", f, err, st.Size())
				}
			}
			// A fresh reader sees what is kept, oldest first.
			fresh := OpenReader(path)
			wantLines(t, readLines(fresh), (5-maxFiles)*perFile, 5*perFile)
			fresh.Close()

			// A reader that was there all along, reading only now, reads its
			// own file to the end, though it rotated out of reach, and then
			// what is kept.
			got := readLines(follower)
			wantLines(t, got[:perFile], 0, perFile)
			wantLines(t, got[perFile:], (5-maxFiles)*perFile, 5*perFile)
		})
	}
}

func TestLogFollowAcrossRotations(t *testing.T) {
	for _, maxFiles := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("max-file=", maxFiles), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ctr.log")
			w, err := Open(path, flags.LogRotation{MaxSize: 500, MaxFiles: maxFiles})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			r := OpenReader(path)
			defer r.Close()
			var got []string
			// Read between writes of a few entries, as logs -f does, with
			// at most one rotation in between when max-file is 1.
			for i := 0; i < 100; i += 3 {
				writeLines(w, i, 3)
				got = append(got, readLines(r)...)
			}
			got = append(got, readLines(r)...)
			wantLines(t, got, 0, 102)
		})
	}
}

func TestLogWriterDropsPartialWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, err := Open(path, flags.LogRotation{MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	writeLines(w, 0, 2)
	// A write that fails leaves the log as it was.
	w.f.Close()
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w.f = ro
	writeLines(w, 2, 1)
	w.f.Close()
	w.f = nil // reopened on the next write
	writeLines(w, 3, 1)
	w.Close()
	r := OpenReader(path)
	defer r.Close()
	got := readLines(r)
	if strings.Join(got, ",") != "line 0,line 1,line 3" {
		t.Fatalf("read %v", got)
	}
}

// TestLogCopyLongLinesAndBatches: a line longer than Docker's 16 kB is
// logged in pieces that read back as the line; entries written together
// still rotate one by one.
func TestLogCopyLongLinesAndBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, err := Open(path, flags.LogRotation{MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 40000)
	w.Copy(strings.NewReader(long+"\nshort\nunfinished"), "stdout")
	w.Close()
	r := OpenReader(path)
	var got []string
	r.Read(func(e Entry) { got = append(got, e.Log) })
	r.Close()
	if len(got) != 5 || len(got[0]) != MaxLine || strings.Join(got[:3], "") != long+"\n" || got[3] != "short\n" || got[4] != "unfinished" {
		t.Fatalf("read %d entries: %.80q", len(got), got)
	}

	path = filepath.Join(t.TempDir(), "ctr.log")
	w, err = Open(path, flags.LogRotation{MaxSize: 1000, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for i := range 200 {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	w.Copy(strings.NewReader(lines.String()), "stdout")
	w.Close()
	for _, f := range append(Rotated(path), path) {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		// An entry here is about 70 bytes.
		if st.Size() > 1000+100 {
			t.Errorf("%s holds %d bytes with max-size 1000", f, st.Size())
		}
	}
	r = OpenReader(path)
	got = readLines(r)
	r.Close()
	if len(got) == 0 || got[len(got)-1] != "line 199" {
		t.Fatalf("the last line is missing: %v", got)
	}
}

// TestAppendJSONString: the hand-made encoder reads back as encoding/json's.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain line\n", `quote " and \ back`, "tab\tcr\r\x00\x1f\x7f", "<a href=\"x\">&amp;</a>",
		"héllo wörld ✓ 😀", "bad \xff\xfe utf8 \xc3", "sep \u2028 \u2029 end"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rnd.IntN(40))
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		mine := appendJSONString(nil, []byte(s))
		want, _ := json.Marshal(s)
		var a, b string
		if err := json.Unmarshal(mine, &a); err != nil {
			t.Fatalf("%q encodes as invalid JSON %s: %v", s, mine, err)
		}
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Fatalf("%q: reads back as %q, encoding/json's as %q", s, a, b)
		}
	}
}
