package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shellAsUser runs a shell command line as u with box on PATH, as a user
// who installed it would have it, and returns its output.
func shellAsUser(t *testing.T, u *User, shell, script string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		if inCI {
			t.Fatalf("%s is not installed (scripts/test installs it)", shell)
		}
		t.Skipf("%s is not installed", shell)
	}
	dir := filepath.Join(tempDir, "completion-path")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "box")); err != nil {
		if err := os.Symlink(boxBin, filepath.Join(dir, "box")); err != nil {
			t.Fatal(err)
		}
	}
	cmd := u.Cmd(shell, "-c", script)
	cmd.Env = append(cmd.Env, "PATH="+dir+":"+strings.TrimPrefix(cleanPath, "PATH="))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	done := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	err := cmd.Run()
	done.Stop()
	t.Logf("%s$ %s -c %q => %v\n%s", u.Mode, shell, script, err, out.String())
	return out.String(), err
}

// bashComplete is what bash does on TAB after line: it fills COMP_* as
// bash's own word splitting (':' breaks words) would and calls the
// function `complete -p box` names; it prints "LINE=>" and the candidates.
const bashComplete = `
comp() {
	local line=$1
	COMP_LINE=$line COMP_POINT=${#line}
	local split=${line//:/ : }
	read -r -a COMP_WORDS <<< "$split"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMPREPLY=()
	local fn; fn=$(complete -p box | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	"$fn" box "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	echo "$line=>${COMPREPLY[*]}"
}
`

// TestCompletion loads each shell's script as a user would and asks for
// completions that need box's verbs in both spellings and the names in
// the user's own store.
func TestCompletion(t *testing.T) {
	u := requireUser(t, Rootless, "rootless")
	u.MustBox(t, "create", "--name", "compl-ctr", "busybox", "true")
	t.Cleanup(func() { u.Box(t, "rm", "-f", "compl-ctr") })
	u.MustBox(t, "network", "create", "compl-net")
	t.Cleanup(func() { u.Box(t, "network", "rm", "compl-net") })

	t.Run("bash", func(t *testing.T) {
		out, err := shellAsUser(t, u, "bash", `source <(box completion bash); complete -p box`)
		if err != nil || !strings.Contains(out, "-F _box box") {
			t.Fatalf("bash should load the script and register _box for box: %v\n%s", err, out)
		}
		out, err = shellAsUser(t, u, "bash", `source <(box completion bash)`+bashComplete+`
comp 'box ru'
comp 'box container ru'
comp 'box rm '
comp 'box start '
comp 'box stop '
comp 'box container rm compl-'
comp 'box rmi '
comp 'box rmi busybox:la'
comp 'box network rm '
comp 'box run --network-a'
comp 'box stats --no-s'
`)
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		for _, want := range []string{
			"box ru=>run\n",
			"box container ru=>run\n",
			"box container rm compl-=>compl-ctr\n",
			"box rmi busybox:la=>latest\n", // bash's word after the ':'
			"box run --network-a=>--network-alias\n",
			"box stats --no-s=>--no-stream\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("bash completion: want %q in:\n%s", want, out)
			}
		}
		for line, want := range map[string]string{
			"box rm ":         "compl-ctr",
			"box rmi ":        "busybox:latest",
			"box network rm ": "compl-net",
		} {
			if !strings.Contains(lineOf(out, line+"=>"), want) {
				t.Errorf("bash completion of %q should offer %s:\n%s", line, want, out)
			}
		}
		if !strings.Contains(lineOf(out, "box start =>"), "compl-ctr") || strings.Contains(lineOf(out, "box stop =>"), "compl-ctr") {
			t.Errorf("a created container should be offered to start, not to stop:\n%s", out)
		}
		if strings.Contains(lineOf(out, "box network rm =>"), "compl-ctr") {
			t.Errorf("network rm should offer networks, not containers:\n%s", out)
		}
	})

	t.Run("zsh", func(t *testing.T) {
		out, err := shellAsUser(t, u, "zsh", `autoload -U compinit; compinit; source <(box completion zsh) && print -r -- "box:$_comps[box]"`)
		if err != nil || !strings.Contains(out, "box:_box") {
			t.Fatalf("zsh should load the script and register _box for box: %v\n%s", err, out)
		}
	})

	t.Run("fish", func(t *testing.T) {
		out, err := shellAsUser(t, u, "fish", `box completion fish | source; complete -C'box ru'; echo ---; complete -C'box rm '; echo ---; complete -C'box cp /et'`)
		if err != nil {
			t.Fatalf("fish should load the script: %v\n%s", err, out)
		}
		parts := strings.Split(out, "---")
		if len(parts) != 3 || !strings.Contains(parts[0], "run") || !strings.Contains(parts[1], "compl-ctr") {
			t.Fatalf("fish should complete box ru to run and box rm to compl-ctr:\n%s", out)
		}
		if !strings.Contains(parts[2], "/etc/") || strings.Contains(parts[1], "/") {
			t.Fatalf("fish should offer files to cp, and only names to rm:\n%s", out)
		}
	})
}

// lineOf is the first line of out that starts with prefix.
func lineOf(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
