package commands

import (
	"io"
	"strings"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, tc := range []struct{ in, want string }{
		// Flags move ahead of positionals, except where a program follows.
		{"box rmi alpine -f", "box rmi --force alpine"},
		{"box --root /r images alpine --format {{.ID}} -q", "box --root=/r images --format={{.ID}} --quiet alpine"},
		{"box image ls alpine -a", "box image ls --all alpine"},
		{"box run alpine ls -l", "box run alpine ls -l"},
		{"box run --rm alpine echo -n", "box run --rm alpine echo -n"},
		{"box tag a b", "box tag a b"},
		{"box rmi -- -weird -f", "box rmi -- -weird -f"},
		{"box rmi a -- -weird", "box rmi a -- -weird"},
		{"box run alpine -- ls", "box run alpine -- ls"},
		{"box images --filter=dangling=true x", "box images --filter=dangling=true x"},
		// Every spelling of a flag becomes its primary name.
		{"box run -e A=1 --env B=2 -l x -v /a:/b alpine -e C", "box run --env=A=1 --env=B=2 --label=x --volume=/a:/b alpine -e C"},
		{"box images -f dangling=true", "box images --filter=dangling=true"},
		{"box run --net host alpine", "box run --network=host alpine"},
		// Values attached to short flags, as pflag reads them.
		{"box stop -t0 c", "box stop --timeout=0 c"},
		{"box stop -t=0 c", "box stop --timeout=0 c"},
		{"box stop -t 0 c", "box stop --timeout=0 c"},
		{"box ps -n1", "box ps --last=1"},
		{"box ps -an1", "box ps --all --last=1"},
		{"box run -eBAR=baz -p8080:80 -v/a:/b alpine", "box run --env=BAR=baz --publish=8080:80 --volume=/a:/b alpine"},
		// Grouped booleans, the last letter of a group taking a value.
		{"box run -it alpine sh", "box run --interactive --tty alpine sh"},
		{"box run -dit alpine", "box run --detach --interactive --tty alpine"},
		{"box run -itd alpine", "box run --interactive --tty --detach alpine"},
		{"box run -itp 80:80 alpine", "box run --interactive --tty --publish=80:80 alpine"},
		{"box run -itp80:80 alpine", "box run --interactive --tty --publish=80:80 alpine"},
		{"box run -pi alpine", "box run --publish=i alpine"},
		{"box run -i=false alpine", "box run --interactive=false alpine"},
		{"box exec -it c sh -c x", "box exec --interactive --tty c sh -c x"},
		{"box container rm -fv c", "box container rm --force --volumes c"},
		// -h is help where it is no flag; run's -h is --hostname.
		{"box ps -h", "box ps --help"},
		{"box ps -ah", "box ps --help"},
		{"box -h", "box --help"},
		{"box run -h x alpine", "box run --hostname=x alpine"},
		{"box ps --help", "box ps --help"},
		// Commands that read their own arguments are left alone.
		{"box top c -ef", "box top c -ef"},
		{"box volume", "box volume"},
	} {
		args, err := normalizeArgs(app, strings.Fields(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := strings.Join(args, " "); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeArgsErrors(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, tc := range []struct{ in, want string }{
		{"box run -h", "flag needs an argument: 'h' in -h\nSee 'box run --help'."},
		{"box run -ith", "flag needs an argument: 'h' in -ith\nSee 'box run --help'."},
		{"box run --name", "flag needs an argument: --name\nSee 'box run --help'."},
		{"box run --foo alpine", "unknown flag: --foo\nSee 'box run --help'."},
		{"box run -x alpine", "unknown shorthand flag: 'x' in -x\nSee 'box run --help'."},
		{"box ps -aX", "unknown shorthand flag: 'X' in -aX\nSee 'box ps --help'."},
		{"box container ls --bogus", "unknown flag: --bogus\nSee 'box container ls --help'."},
		{"box --foo ps", "unknown flag: --foo\nSee 'box --help'."},
		{"box --root", "flag needs an argument: --root\nSee 'box --help'."},
		{"box ps -nx", "invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\nSee 'box ps --help'."},
		{"box ps ---a", "bad flag syntax: ---a\nSee 'box ps --help'."},
		// A single dash does not spell a long name.
		{"box run -rm alpine", "unknown shorthand flag: 'r' in -rm\nSee 'box run --help'."},
	} {
		_, err := normalizeArgs(app, strings.Fields(tc.in))
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.in, tc.want)
			continue
		}
		if exitCode(err) != exitBoxFailed {
			t.Errorf("%q: exit code %d, want %d", tc.in, exitCode(err), exitBoxFailed)
		}
		if err.Error() != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, err.Error(), tc.want)
		}
	}
}

func TestComposeAlias(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"box ps -a", "box ps -a"},
		{"/usr/bin/docker-compose up -d", "/usr/bin/docker-compose compose up -d"},
		{"box-compose -f x.yaml ps", "box-compose compose -f x.yaml ps"},
		{"docker-compose --root /r --runroot=/rr -p x down", "docker-compose --root /r --runroot=/rr compose -p x down"},
		{"docker-compose", "docker-compose compose"},
	} {
		if got := strings.Join(composeAlias(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitImageRef(t *testing.T) {
	for in, want := range map[string][2]string{
		"busybox": {"busybox", "latest"}, "localhost:5000/a/b:1": {"localhost:5000/a/b", "1"},
		"localhost:5000/a": {"localhost:5000/a", "latest"}, "alpine@sha256:abc": {"alpine", ""},
	} {
		if r, tag := splitImageRef(in); r != want[0] || tag != want[1] {
			t.Errorf("%q: %q %q", in, r, tag)
		}
	}
}
