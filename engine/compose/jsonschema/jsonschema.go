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

// validation is one check of a value against a schema: the errors found,
// and the properties of an object value that the schema evaluated (for
// unevaluatedProperties).
type validation struct {
	s         *Schema
	loc       []string
	errs      []*ValidationError
	evaluated map[string]bool
}

func (c *validation) fail(k ErrorKind, causes ...*ValidationError) {
	c.errs = append(c.errs, &ValidationError{SchemaURL: c.s.url, InstanceLocation: slices.Clone(c.loc), ErrorKind: k, Causes: causes})
}

// at checks v against node, at loc plus key when key is set; its
// errors become c's, and (when keep) so do its evaluated properties. It
// says whether v passed.
func (c *validation) at(node, v any, key string, keep bool) ([]*ValidationError, bool) {
	loc := c.loc
	if key != "" {
		loc = append(slices.Clone(loc), key)
	}
	errs, evaluated := c.s.validate(node, v, loc)
	if keep {
		for p := range evaluated {
			c.evaluated[p] = true
		}
	}
	return errs, len(errs) == 0
}

// validate checks v at loc against node; it returns the errors, and the
// properties of an object v that node evaluated.
func (s *Schema) validate(node, v any, loc []string) ([]*ValidationError, map[string]bool) {
	c := &validation{s: s, loc: loc, evaluated: map[string]bool{}}
	schema, ok := node.(map[string]any)
	switch {
	case node == true:
	case !ok:
		c.fail(&kind.FalseSchema{})
	default:
		if ref, ok := schema["$ref"].(string); ok {
			target, err := s.resolve(ref)
			if err != nil {
				c.fail(&kind.FalseSchema{})
				break
			}
			errs, _ := c.at(target, v, "", true)
			c.errs = append(c.errs, errs...)
		}
		if !c.scalar(schema, v) {
			break // another type: the rest would only repeat it
		}
		if arr, ok := v.([]any); ok {
			c.array(schema, arr)
		}
		obj, isObj := v.(map[string]any)
		if isObj {
			c.object(schema, obj)
		}
		c.combinators(schema, v)
		if isObj {
			c.unevaluated(schema, obj)
		}
	}
	return c.errs, c.evaluated
}

// scalar checks type, enum, const, minimum, maximum, pattern and format;
// it says false when v is of another type than the schema's.
func (c *validation) scalar(schema map[string]any, v any) bool {
	if t, ok := schema["type"]; ok {
		want, got := typeNames(t), typeOf(v)
		if !slices.ContainsFunc(want, func(w string) bool { return w == got || w == "number" && got == "integer" }) {
			c.fail(&kind.Type{Got: got, Want: want})
			return false
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return equal(e, v) }) {
		c.fail(&kind.Enum{Got: v, Want: enum})
	}
	if want, ok := schema["const"]; ok && !equal(want, v) {
		c.fail(&kind.Enum{Got: v, Want: []any{want}})
	}
	if num, ok := ratOf(v); ok {
		if m, ok := ratOf(schema["minimum"]); ok && num.Cmp(m) < 0 {
			c.fail(&kind.Minimum{Got: num, Want: m})
		}
		if m, ok := ratOf(schema["maximum"]); ok && num.Cmp(m) > 0 {
			c.fail(&kind.Maximum{Got: num, Want: m})
		}
	}
	if str, ok := v.(string); ok {
		if p, ok := schema["pattern"].(string); ok && !c.s.pattern(p).MatchString(str) {
			c.fail(&kind.Pattern{Got: str, Want: p})
		}
	}
	if name, ok := schema["format"].(string); ok {
		if f := c.s.formats[name]; f != nil {
			if err := f.Validate(v); err != nil {
				c.fail(&kind.Format{Got: v, Want: name, Err: err})
			}
		}
	}
	return true
}

// array checks items and uniqueItems.
func (c *validation) array(schema map[string]any, arr []any) {
	if items, ok := schema["items"]; ok {
		for i, it := range arr {
			errs, _ := c.at(items, it, strconv.Itoa(i), false)
			c.errs = append(c.errs, errs...)
		}
	}
	if unique, _ := schema["uniqueItems"].(bool); unique {
		for i := range arr {
			for j := i + 1; j < len(arr); j++ {
				if equal(arr[i], arr[j]) {
					c.fail(&kind.UniqueItems{Duplicates: [2]int{i, j}})
					return
				}
			}
		}
	}
}

// object checks required, properties, patternProperties and
// additionalProperties.
func (c *validation) object(schema map[string]any, obj map[string]any) {
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
			c.fail(&kind.Required{Missing: missing})
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
			errs, _ := c.at(sub, obj[name], name, false)
			c.errs = append(c.errs, errs...)
		}
		for p, sub := range patterns {
			if c.s.pattern(p).MatchString(name) {
				matched = true
				errs, _ := c.at(sub, obj[name], name, false)
				c.errs = append(c.errs, errs...)
			}
		}
		if matched || hasAdditional {
			c.evaluated[name] = true
		}
		if !matched && hasAdditional && c.rest(additional, obj[name], name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		c.fail(&kind.AdditionalProperties{Properties: extra})
	}
}

// rest checks the property name, which nothing else matched, against an
// additionalProperties or unevaluatedProperties schema; it says whether
// the schema is false, which refuses the property itself.
func (c *validation) rest(schema, v any, name string) bool {
	if b, ok := schema.(bool); ok {
		return !b
	}
	errs, _ := c.at(schema, v, name, false)
	c.errs = append(c.errs, errs...)
	return false
}

// combinators checks allOf, anyOf and oneOf; the subschemas that pass
// evaluate properties for unevaluatedProperties.
func (c *validation) combinators(schema map[string]any, v any) {
	if all, ok := schema["allOf"].([]any); ok {
		var causes []*ValidationError
		for _, sub := range all {
			errs, _ := c.at(sub, v, "", true)
			causes = append(causes, errs...)
		}
		if len(causes) > 0 {
			c.fail(&kind.AllOf{}, causes...)
		}
	}
	if anyOf, ok := schema["anyOf"].([]any); ok {
		if causes, passed := c.branches(anyOf, v); len(passed) == 0 {
			c.fail(&kind.AnyOf{}, causes...)
		}
	}
	if oneOf, ok := schema["oneOf"].([]any); ok {
		causes, passed := c.branches(oneOf, v)
		switch {
		case len(passed) == 0:
			c.fail(&kind.OneOf{}, causes...)
		case len(passed) > 1:
			c.fail(&kind.OneOf{Subschemas: passed[:2]})
		}
	}
}

// branches checks v against each subschema: the errors of those that
// fail, and the indexes of those that pass (whose evaluated properties
// become c's).
func (c *validation) branches(subs []any, v any) (causes []*ValidationError, passed []int) {
	for i, sub := range subs {
		errs, evaluated := c.s.validate(sub, v, c.loc)
		if len(errs) > 0 {
			causes = append(causes, errs...)
			continue
		}
		passed = append(passed, i)
		for p := range evaluated {
			c.evaluated[p] = true
		}
	}
	return causes, passed
}

// unevaluated checks unevaluatedProperties against the properties that
// no other keyword evaluated.
func (c *validation) unevaluated(schema map[string]any, obj map[string]any) {
	rest, ok := schema["unevaluatedProperties"]
	if !ok {
		return
	}
	var extra []string
	for _, name := range sortedKeys(obj) {
		if c.evaluated[name] {
			continue
		}
		c.evaluated[name] = true
		if c.rest(rest, obj[name], name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		c.fail(&kind.AdditionalProperties{Properties: extra})
	}
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
