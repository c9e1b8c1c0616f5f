package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fuzz targets for the build's front end (issue 17's standing guards):
// what box does with a Dockerfile before any step runs, --change lines,
// and .dockerignore rules. `go test` runs the seeds; scripts/fuzz runs
// them for longer.

var dockerfileSeeds = []string{
	"FROM busybox\nRUN echo hi\n",
	"FROM busybox AS a\nENV A=1 B=\"two words\"\nLABEL x=y\nEXPOSE 80/tcp 53/udp\nWORKDIR /w\nUSER 1000:1000\nFROM a\nCOPY --from=a /x /y\nCMD [\"sh\"]\n",
	"# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo `\n  continued\n",
	"FROM busybox\nRUN <<EOF\necho heredoc\nEOF\nCOPY <<-EOT /f\n\tinline\nEOT\n",
	"ARG V=1\nFROM busybox:${V}\nARG V\nENV X=$V\nHEALTHCHECK --interval=5s CMD true\nSHELL [\"/bin/sh\", \"-c\"]\nSTOPSIGNAL SIGTERM\nONBUILD RUN true\nVOLUME /data\nENTRYPOINT [\"/bin/sh\"]\n",
	"FROM scratch\nADD --chown=1:1 --chmod=644 a b /\n",
	"FROM busybox\nENV A=${B:-default} C=${A:+set}\nLABEL \"quoted key\"=\"v\"\n",
	"from busybox\nrun true\n",
	"FROM\n", "RUN x\n", "FROM a\nENV\n", "FROM a\nEXPOSE 99999\n", "FROM a\nHEALTHCHECK --interval=bogus CMD true\n",
}

// FuzzDockerfile parses a Dockerfile as Build does and applies every
// instruction that only changes the image's config, as a stage would.
func FuzzDockerfile(f *testing.F) {
	for _, s := range dockerfileSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		res, err := parser.Parse(bytes.NewReader([]byte(text)))
		if err != nil {
			return
		}
		stages, _, err := instructions.Parse(res.AST, nil)
		if err != nil {
			return
		}
		lex := shell.NewLex(res.EscapeToken)
		for _, st := range stages {
			c := imageConfig{}
			expand := func(w string) (string, error) {
				s, _, err := lex.ProcessWord(w, shell.EnvsFromSlice(c.config.Env))
				return s, err
			}
			for _, cmd := range st.Commands {
				if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
					if ex.Expand(expand) != nil {
						continue
					}
				}
				_ = expandHeredocs(cmd, c.config.Env)
				_, _, _ = c.apply(cmd, expand)
			}
		}
	})
}

// FuzzChanges reads --change lines as commit and import do: whatever is
// accepted applies again to the config it was checked against.
func FuzzChanges(f *testing.F) {
	for _, s := range []string{
		"CMD [\"sh\"]", "ENTRYPOINT /bin/sh -c", "ENV A=1 B=2", "EXPOSE 8080/udp", "LABEL a=b",
		"ONBUILD RUN true", "USER nobody", "VOLUME [\"/v\"]", "WORKDIR $HOME/x", "STOPSIGNAL 9",
		"RUN true", "FROM x", "ENV", "CMD", "EXPOSE -1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") {
			return // one line per change, as the flag takes them
		}
		ch, err := ParseChanges([]string{line})
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error for %q is not one line: %q", line, msg)
			}
			return
		}
		var cfg v1.ImageConfig
		if err := ch.Apply(&cfg); err != nil {
			t.Fatalf("%q was accepted but does not apply: %v", line, err)
		}
	})
}

// FuzzIgnore reads a .dockerignore as a build does and asks it about
// paths: reading must not fail in ways other than a clear error, and an
// exclusion must be a pure function of the rules.
func FuzzIgnore(f *testing.F) {
	for _, s := range []struct{ rules, path string }{
		{"*.log\n!keep.log\n", "a/b.log"},
		{"**/node_modules\n", "x/node_modules/y"},
		{"# comment\n\n/abs\n./rel\n", "rel"},
		{"[a-\n", "a"},
		{"!\n", ""},
		{"dir/\n!dir/file\n", "dir/file"},
	} {
		f.Add(s.rules, s.path)
	}
	f.Fuzz(func(t *testing.T, rules, path string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
		tr, err := openContext(dir, "")
		if err != nil {
			return
		}
		first := tr.excluded(path)
		if again := tr.excluded(path); again != first {
			t.Fatalf("rules %q: %q excluded %v then %v", rules, path, first, again)
		}
		if tr.excluded(".") || tr.excluded("") {
			t.Fatalf("rules %q exclude the context's root", rules)
		}
	})
}
