package commands

import "testing"

func TestSplitCpArg(t *testing.T) {
	for _, c := range []struct{ arg, ctr, path string }{
		{"ctr:/etc/hosts", "ctr", "/etc/hosts"},
		{"ctr:etc", "ctr", "etc"},
		{"ctr:", "ctr", ""},
		{"/abs/with:colon", "", "/abs/with:colon"},
		{"./rel:name", "", "./rel:name"},
		{"plain", "", "plain"},
		{"-", "", "-"},
		{"a:b:c", "a", "b:c"},
	} {
		ctr, path := splitCpArg(c.arg)
		if ctr != c.ctr || path != c.path {
			t.Errorf("splitCpArg(%q) = %q, %q; want %q, %q", c.arg, ctr, path, c.ctr, c.path)
		}
	}
}
