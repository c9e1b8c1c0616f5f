package commands

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestIntersperse(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, tc := range []struct{ in, want string }{
		{"box rmi alpine -f", "box rmi -f alpine"},
		{"box --root /r images alpine --format {{.ID}} -q", "box --root /r images --format {{.ID}} -q alpine"},
		{"box image ls alpine -a", "box image ls -a alpine"},
		{"box run alpine ls -l", "box run alpine ls -l"},
		{"box run --rm alpine echo -n", "box run --rm alpine echo -n"},
		{"box tag a b", "box tag a b"},
		{"box rmi -- -weird -f", "box rmi -- -weird -f"},
		{"box images --filter=dangling=true x", "box images --filter=dangling=true x"},
		{"box run -e A=1 --env B=2 -l x -v /a:/b alpine -e C", "box run --env A=1 --env B=2 --label x --volume /a:/b alpine -e C"},
		{"box images -f dangling=true", "box images --filter dangling=true"},
	} {
		got := strings.Join(intersperse(app, strings.Fields(tc.in)), " ")
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
