// Package filter is Docker's --filter language, parsed once for every verb
// that takes it (ps, images, volume ls, network ls, the prunes, search):
// KEY=VALUE arguments, KEY!=VALUE where a key allows it, checked against
// the keys a verb accepts, with the matchers the verbs share (labels,
// names, timestamps, booleans). It knows no containers or images: each
// verb says what a key means for its objects. Values of one key are
// alternatives (name=a --filter name=b), different keys must all hold, and
// label filters must all hold, as in Docker's daemon.
package filter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrBad marks a filter a verb cannot take.
var ErrBad = errors.New("invalid filter")

// Error is a refused filter, worded as Docker words it: "invalid filter
// 'key'" for an unknown key, "invalid filter 'key=value'" for a bad value;
// Why, when set, says what would do.
type Error struct {
	Key, Value, Why string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("invalid filter '%s'", e.Key)
	if e.Value != "" {
		msg = fmt.Sprintf("invalid filter '%s=%s'", e.Key, e.Value)
	}
	if e.Why != "" {
		msg += ": " + e.Why
	}
	return msg
}

func (e *Error) Unwrap() error { return ErrBad }

// Args are parsed filters.
type Args struct {
	values map[string][]string
	// negated holds the KEY!=VALUE values.
	negated map[string][]string
}

// Spec says which keys a verb takes, and which of them may be negated.
type Spec struct {
	Keys      []string
	Negatable []string
}

// Parse reads raw --filter arguments against spec.
func Parse(raw []string, spec Spec) (Args, error) {
	a := Args{values: map[string][]string{}, negated: map[string][]string{}}
	for _, r := range raw {
		key, value, ok := strings.Cut(r, "=")
		if !ok {
			return Args{}, &Error{Key: r}
		}
		key = strings.ToLower(strings.TrimSpace(key))
		negate := strings.HasSuffix(key, "!")
		key = strings.TrimSuffix(key, "!")
		if !contains(spec.Keys, key) || negate && !contains(spec.Negatable, key) {
			return Args{}, &Error{Key: key}
		}
		if negate {
			a.negated[key] = append(a.negated[key], value)
		} else {
			a.values[key] = append(a.values[key], value)
		}
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Empty says whether no filter was given.
func (a Args) Empty() bool { return len(a.values) == 0 && len(a.negated) == 0 }

// Has says whether key was given (negated or not).
func (a Args) Has(key string) bool { return len(a.values[key]) > 0 || len(a.negated[key]) > 0 }

// Values are key's values as given, negated ones left out.
func (a Args) Values(key string) []string { return a.values[key] }

// Match says whether some value of key satisfies ok; a key not given
// matches everything.
func (a Args) Match(key string, ok func(value string) bool) bool {
	vs := a.values[key]
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if ok(v) {
			return true
		}
	}
	return false
}

// MatchLabels says whether labels satisfy every label filter: "KEY" (set)
// or "KEY=VALUE" (equal), and none of the label!= ones.
func (a Args) MatchLabels(labels map[string]string) bool {
	has := func(f string) bool {
		key, want, withValue := strings.Cut(f, "=")
		got, ok := labels[key]
		return ok && (!withValue || got == want)
	}
	for _, f := range a.values["label"] {
		if !has(f) {
			return false
		}
	}
	for _, f := range a.negated["label"] {
		if has(f) {
			return false
		}
	}
	return true
}

// Bool is key's value read as true/1 or false/0 (the last one given);
// set is false when key was not given.
func (a Args) Bool(key string) (value, set bool, err error) {
	vs := a.values[key]
	if len(vs) == 0 {
		return false, false, nil
	}
	switch v := vs[len(vs)-1]; strings.ToLower(v) {
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	default:
		return false, false, &Error{Key: key, Value: v}
	}
}

// Time is key's value read as Docker reads until= and since= timestamps:
// a Go duration before now, RFC 3339 (with or without zone or time), or
// Unix seconds; set is false when key was not given.
func (a Args) Time(key string, now time.Time) (t time.Time, set bool, err error) {
	vs := a.values[key]
	if len(vs) == 0 {
		return time.Time{}, false, nil
	}
	v := vs[len(vs)-1]
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), true, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, true, nil
		}
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(int64(secs), 0), true, nil
	}
	return time.Time{}, false, &Error{Key: key, Value: v, Why: "want a duration (24h), an RFC 3339 time or Unix seconds"}
}

// Regexps compiles key's values as regular expressions, as Docker's name
// filters take them.
func (a Args) Regexps(key string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, v := range a.values[key] {
		re, err := regexp.Compile(v)
		if err != nil {
			return nil, &Error{Key: key, Value: v, Why: err.Error()}
		}
		out = append(out, re)
	}
	return out, nil
}

// MatchName is Docker's name filter for a container: the value exactly, or
// as a regular expression found in the name with or without its leading
// "/".
func MatchName(pattern, name string) bool {
	if pattern == name || pattern == "/"+name {
		return true
	}
	re, err := regexp.Compile(pattern)
	return err == nil && (re.MatchString(name) || re.MatchString("/"+name))
}
