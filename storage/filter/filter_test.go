package filter

import (
	"errors"
	"testing"
	"time"
)

var spec = Spec{Keys: []string{"label", "name", "dangling", "until"}, Negatable: []string{"label"}}

func mustParse(t *testing.T, raw ...string) Args {
	t.Helper()
	a, err := Parse(raw, spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestMatchLabels(t *testing.T) {
	labels := map[string]string{"role": "web", "tier": "", "a=b": "c"}
	for _, c := range []struct {
		filters []string
		want    bool
	}{
		{nil, true},
		{[]string{"label=role"}, true},
		{[]string{"label=role=web"}, true},
		{[]string{"label=role=db"}, false},
		{[]string{"label=tier"}, true},
		{[]string{"label=tier="}, true},
		{[]string{"label=nope"}, false},
		{[]string{"label=role=web", "label=tier"}, true},
		{[]string{"label=role=web", "label=nope"}, false},
		{[]string{"label!=nope"}, true},
		{[]string{"label!=role=web"}, false},
		{[]string{"label=role", "label!=role=db"}, true},
	} {
		if got := mustParse(t, c.filters...).MatchLabels(labels); got != c.want {
			t.Errorf("MatchLabels(%q) = %t, want %t", c.filters, got, c.want)
		}
	}
	if mustParse(t, "label=role").MatchLabels(nil) {
		t.Error("nothing labelled matched label=role")
	}
}

func TestParseErrors(t *testing.T) {
	for raw, msg := range map[string]string{
		"colour=red":    "invalid filter 'colour'",
		"dangling":      "invalid filter 'dangling'",
		"name!=x":       "invalid filter 'name'",
		"dangling=mayb": "invalid filter 'dangling=mayb'",
		"until=soon":    "invalid filter 'until=soon': want a duration (24h), an RFC 3339 time or Unix seconds",
		"name=[":        "invalid filter 'name=[': error parsing regexp: missing closing ]: `[`",
	} {
		a, err := Parse([]string{raw}, spec)
		if err == nil {
			_, _, err = a.Bool("dangling")
		}
		if err == nil {
			_, _, err = a.Time("until", time.Now())
		}
		if err == nil {
			_, err = a.Regexps("name")
		}
		if !errors.Is(err, ErrBad) || err.Error() != msg {
			t.Errorf("%q: got %v, want %q", raw, err, msg)
		}
	}
}

func TestMatchAlternatives(t *testing.T) {
	a := mustParse(t, "name=a", "name=b")
	if !a.Match("name", func(v string) bool { return v == "b" }) || a.Match("name", func(v string) bool { return v == "c" }) {
		t.Error("values of one key are alternatives")
	}
	if !a.Match("dangling", func(string) bool { return false }) {
		t.Error("a key not given matches")
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if tm, set, err := mustParse(t, "until=90m").Time("until", now); err != nil || !set || !tm.Equal(now.Add(-90*time.Minute)) {
		t.Errorf("until=90m: %v %v %v", tm, set, err)
	}
	if !MatchName("web", "web") || !MatchName("/web", "web") || !MatchName("^w", "web") || MatchName("^x", "web") {
		t.Error("MatchName")
	}
}
