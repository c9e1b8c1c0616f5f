// Package jsonschema validates JSON values against a JSON Schema, for
// compose-go's check of compose files (see go.mod for why box has its own).
// It covers the keywords of draft 2020-12 that the Compose Specification's
// schema uses; references are local ("#/$defs/...") or to a resource added
// by name. Nothing is compiled before Compile is called.
package jsonschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/message"

	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// ErrorKind is what a ValidationError is about.
type ErrorKind interface {
	KeywordPath() []string
	LocalizedString(*message.Printer) string
}

// ValidationError is a value that fails a schema: where in the value
// (InstanceLocation, its keys and indexes), why, and the errors under it.
type ValidationError struct {
	SchemaURL        string
	InstanceLocation []string
	ErrorKind        ErrorKind
	Causes           []*ValidationError
}

func (e *ValidationError) Error() string {
	p := message.NewPrinter(message.MatchLanguage("en"))
	leaf := e
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	return fmt.Sprintf("jsonschema validation failed: at '/%s': %s", strings.Join(leaf.InstanceLocation, "/"), leaf.ErrorKind.LocalizedString(p))
}

// Format is a named format and its check.
type Format struct {
	Name     string
	Validate func(v any) error
}

// UnmarshalJSON reads one JSON value, numbers as json.Number.
func UnmarshalJSON(r io.Reader) (any, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}

// Compiler holds the schema documents and formats that Compile uses.
type Compiler struct {
	resources map[string]any
	formats   map[string]*Format
}

// NewCompiler returns a compiler with no resources.
func NewCompiler() *Compiler {
	return &Compiler{resources: map[string]any{}, formats: map[string]*Format{}}
}

// AddResource adds the schema document doc under url.
func (c *Compiler) AddResource(url string, doc any) error {
	if _, ok := c.resources[url]; ok {
		return fmt.Errorf("resource %s already added", url)
	}
	c.resources[url] = doc
	return nil
}

// RegisterFormat makes f's check apply to the "format" keyword.
func (c *Compiler) RegisterFormat(f *Format) { c.formats[f.Name] = f }

// Compile returns the schema of the resource added as url.
func (c *Compiler) Compile(url string) (*Schema, error) {
	doc, ok := c.resources[url]
	if !ok {
		return nil, fmt.Errorf("jsonschema: no resource %s", url)
	}
	s := &Schema{url: url, doc: doc, formats: c.formats, patterns: map[string]*regexp.Regexp{}}
	if err := s.check(doc, "#"); err != nil {
		return nil, err
	}
	return s, nil
}

// Schema is a compiled schema.
type Schema struct {
	url     string
	doc     any
	formats map[string]*Format

	mu       sync.Mutex
	patterns map[string]*regexp.Regexp
}

// check refuses what this validator cannot honour, so that a schema it
// would misread fails loudly instead of passing everything.
func (s *Schema) check(node any, at string) error {
	switch n := node.(type) {
	case bool:
		return nil
	case map[string]any:
		for k, v := range n {
			switch k {
			case "$schema", "$id", "$comment", "title", "description", "default", "deprecated", "examples",
				"type", "enum", "const", "minimum", "maximum", "pattern", "uniqueItems", "required", "format":
			case "$ref":
				ref, _ := v.(string)
				if _, err := s.resolve(ref); err != nil {
					return fmt.Errorf("jsonschema: %s: %w", at, err)
				}
			case "$defs", "definitions", "properties", "patternProperties":
				m, ok := v.(map[string]any)
				if !ok {
					return fmt.Errorf("jsonschema: %s/%s is not an object", at, k)
				}
				for name, sub := range m {
					if k == "patternProperties" {
						if _, err := regexp.Compile(name); err != nil {
							return fmt.Errorf("jsonschema: %s/%s: %w", at, k, err)
						}
					}
					if err := s.check(sub, at+"/"+k+"/"+name); err != nil {
						return err
					}
				}
			case "additionalProperties", "unevaluatedProperties", "items":
				if err := s.check(v, at+"/"+k); err != nil {
					return err
				}
			case "allOf", "anyOf", "oneOf":
				list, ok := v.([]any)
				if !ok {
					return fmt.Errorf("jsonschema: %s/%s is not an array", at, k)
				}
				for i, sub := range list {
					if err := s.check(sub, fmt.Sprintf("%s/%s/%d", at, k, i)); err != nil {
						return err
					}
				}
			default:
				return fmt.Errorf("jsonschema: %s: keyword %q is not supported by box's validator", at, k)
			}
		}
		return nil
	}
	return fmt.Errorf("jsonschema: %s is not a schema", at)
}

// resolve finds a local reference ("#/$defs/name", JSON pointer syntax).
func (s *Schema) resolve(ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		if rest, found := strings.CutPrefix(ref, s.url+"#"); found {
			ptr = rest
		} else {
			return nil, fmt.Errorf("reference %q is not local", ref)
		}
	}
	node := s.doc
	if ptr == "" {
		return node, nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("reference %q not found", ref)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("reference %q not found", ref)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("reference %q not found", ref)
		}
	}
	return node, nil
}

func (s *Schema) pattern(p string) *regexp.Regexp {
	s.mu.Lock()
	defer s.mu.Unlock()
	re, ok := s.patterns[p]
	if !ok {
		re = regexp.MustCompile(p) // checked by Compile
		s.patterns[p] = re
	}
	return re
}

// Validate checks v, a value as encoding/json decodes it (into any), or
// as UnmarshalJSON does.
func (s *Schema) Validate(v any) error {
	errs, _ := s.validate(s.doc, v, nil)
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{SchemaURL: s.url, ErrorKind: &kind.Schema{Location: s.url + "#"}, Causes: errs}
}

// validate checks v at loc against node; it returns the errors, and the
// properties of an object v that node evaluated (for unevaluatedProperties).
func (s *Schema) validate(node, v any, loc []string) (errs []*ValidationError, evaluated map[string]bool) {
	fail := func(k ErrorKind, causes ...*ValidationError) {
		errs = append(errs, &ValidationError{SchemaURL: s.url, InstanceLocation: slices.Clone(loc), ErrorKind: k, Causes: causes})
	}
	evaluated = map[string]bool{}
	switch n := node.(type) {
	case bool:
		if !n {
			fail(&kind.FalseSchema{})
		}
		return errs, evaluated
	case map[string]any:
		schema := n
		if ref, ok := schema["$ref"].(string); ok {
			target, err := s.resolve(ref)
			if err != nil {
				fail(&kind.FalseSchema{})
				return errs, evaluated
			}
			e, ev := s.validate(target, v, loc)
			errs = append(errs, e...)
			for p := range ev {
				evaluated[p] = true
			}
		}
		if t, ok := schema["type"]; ok {
			want := typeNames(t)
			got := typeOf(v)
			if !slices.ContainsFunc(want, func(w string) bool { return w == got || w == "number" && got == "integer" }) {
				fail(&kind.Type{Got: got, Want: want})
				return errs, evaluated
			}
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return equal(e, v) }) {
			fail(&kind.Enum{Got: v, Want: enum})
		}
		if c, ok := schema["const"]; ok && !equal(c, v) {
			fail(&kind.Enum{Got: v, Want: []any{c}})
		}
		if num, ok := ratOf(v); ok {
			if m, ok := ratOf(schema["minimum"]); ok && num.Cmp(m) < 0 {
				fail(&kind.Minimum{Got: num, Want: m})
			}
			if m, ok := ratOf(schema["maximum"]); ok && num.Cmp(m) > 0 {
				fail(&kind.Maximum{Got: num, Want: m})
			}
		}
		if str, ok := v.(string); ok {
			if p, ok := schema["pattern"].(string); ok && !s.pattern(p).MatchString(str) {
				fail(&kind.Pattern{Got: str, Want: p})
			}
		}
		if name, ok := schema["format"].(string); ok {
			if f := s.formats[name]; f != nil {
				if err := f.Validate(v); err != nil {
					fail(&kind.Format{Got: v, Want: name, Err: err})
				}
			}
		}
		if arr, ok := v.([]any); ok {
			if items, ok := schema["items"]; ok {
				for i, it := range arr {
					e, _ := s.validate(items, it, append(slices.Clone(loc), strconv.Itoa(i)))
					errs = append(errs, e...)
				}
			}
			if u, _ := schema["uniqueItems"].(bool); u {
			dup:
				for i := range arr {
					for j := i + 1; j < len(arr); j++ {
						if equal(arr[i], arr[j]) {
							fail(&kind.UniqueItems{Duplicates: [2]int{i, j}})
							break dup
						}
					}
				}
			}
		}
		obj, isObj := v.(map[string]any)
		if isObj {
			if req, ok := schema["required"].([]any); ok {
				var missing []string
				for _, r := range req {
					if name, _ := r.(string); name != "" {
						if _, ok := obj[name]; !ok {
							missing = append(missing, name)
						}
					}
				}
				if len(missing) > 0 {
					fail(&kind.Required{Missing: missing})
				}
			}
			props, _ := schema["properties"].(map[string]any)
			patterns, _ := schema["patternProperties"].(map[string]any)
			additional, hasAdditional := schema["additionalProperties"]
			var extra []string
			for _, name := range sortedKeys(obj) {
				matched := false
				if sub, ok := props[name]; ok {
					matched = true
					e, _ := s.validate(sub, obj[name], append(slices.Clone(loc), name))
					errs = append(errs, e...)
				}
				for p, sub := range patterns {
					if s.pattern(p).MatchString(name) {
						matched = true
						e, _ := s.validate(sub, obj[name], append(slices.Clone(loc), name))
						errs = append(errs, e...)
					}
				}
				if matched {
					evaluated[name] = true
					continue
				}
				if !hasAdditional {
					continue
				}
				evaluated[name] = true
				if b, ok := additional.(bool); ok {
					if !b {
						extra = append(extra, name)
					}
					continue
				}
				e, _ := s.validate(additional, obj[name], append(slices.Clone(loc), name))
				errs = append(errs, e...)
			}
			if len(extra) > 0 {
				fail(&kind.AdditionalProperties{Properties: extra})
			}
		}
		if all, ok := schema["allOf"].([]any); ok {
			var causes []*ValidationError
			for _, sub := range all {
				e, ev := s.validate(sub, v, loc)
				causes = append(causes, e...)
				for p := range ev {
					evaluated[p] = true
				}
			}
			if len(causes) > 0 {
				fail(&kind.AllOf{}, causes...)
			}
		}
		if anyOf, ok := schema["anyOf"].([]any); ok {
			var causes []*ValidationError
			passed := false
			for _, sub := range anyOf {
				e, ev := s.validate(sub, v, loc)
				if len(e) == 0 {
					passed = true
					for p := range ev {
						evaluated[p] = true
					}
				}
				causes = append(causes, e...)
			}
			if !passed {
				fail(&kind.AnyOf{}, causes...)
			}
		}
		if oneOf, ok := schema["oneOf"].([]any); ok {
			var causes []*ValidationError
			var passed []int
			for i, sub := range oneOf {
				e, ev := s.validate(sub, v, loc)
				if len(e) == 0 {
					passed = append(passed, i)
					for p := range ev {
						evaluated[p] = true
					}
				}
				causes = append(causes, e...)
			}
			switch {
			case len(passed) == 0:
				fail(&kind.OneOf{}, causes...)
			case len(passed) > 1:
				fail(&kind.OneOf{Subschemas: passed[:2]})
			}
		}
		if isObj {
			if unevaluated, ok := schema["unevaluatedProperties"]; ok {
				var extra []string
				for _, name := range sortedKeys(obj) {
					if evaluated[name] {
						continue
					}
					evaluated[name] = true
					if b, ok := unevaluated.(bool); ok {
						if !b {
							extra = append(extra, name)
						}
						continue
					}
					e, _ := s.validate(unevaluated, obj[name], append(slices.Clone(loc), name))
					errs = append(errs, e...)
				}
				if len(extra) > 0 {
					fail(&kind.AdditionalProperties{Properties: extra})
				}
			}
		}
		return errs, evaluated
	}
	fail(&kind.FalseSchema{})
	return errs, evaluated
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func typeNames(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// typeOf is v's JSON type; a whole number is "integer".
func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	if r, ok := ratOf(v); ok {
		if r.IsInt() {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// ratOf is v as an exact number, if it is one.
func ratOf(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch v := v.(type) {
	case json.Number:
		if _, ok := r.SetString(string(v)); ok {
			return r, true
		}
	case float64:
		if r.SetFloat64(v) != nil {
			return r, true
		}
	case float32:
		if r.SetFloat64(float64(v)) != nil {
			return r, true
		}
	case int:
		return r.SetInt64(int64(v)), true
	case int64:
		return r.SetInt64(v), true
	case uint64:
		return r.SetUint64(v), true
	}
	return nil, false
}

// equal is JSON equality: numbers by value, whatever their Go type.
func equal(a, b any) bool {
	if x, ok := ratOf(a); ok {
		y, ok := ratOf(b)
		return ok && x.Cmp(y) == 0
	}
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
