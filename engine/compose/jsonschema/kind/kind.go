// Package kind holds the kinds of validation error, as compose-go reads them.
package kind

import (
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/text/message"
)

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Schema is a value that fails its schema; the causes say why.
type Schema struct{ Location string }

func (*Schema) KeywordPath() []string { return nil }
func (k *Schema) LocalizedString(p *message.Printer) string {
	return p.Sprintf("jsonschema validation failed with %s", "'"+k.Location+"'")
}

// Type is a value of another JSON type than the schema's.
type Type struct {
	Got  string
	Want []string
}

func (*Type) KeywordPath() []string { return []string{"type"} }
func (k *Type) LocalizedString(p *message.Printer) string {
	return p.Sprintf("got %s, want %s", k.Got, strings.Join(k.Want, " or "))
}

// Minimum is a number below its minimum.
type Minimum struct{ Got, Want *big.Rat }

func (*Minimum) KeywordPath() []string { return []string{"minimum"} }
func (k *Minimum) LocalizedString(p *message.Printer) string {
	return p.Sprintf("minimum: got %s, want %s", k.Got.RatString(), k.Want.RatString())
}

// Maximum is a number above its maximum.
type Maximum struct{ Got, Want *big.Rat }

func (*Maximum) KeywordPath() []string { return []string{"maximum"} }
func (k *Maximum) LocalizedString(p *message.Printer) string {
	return p.Sprintf("maximum: got %s, want %s", k.Got.RatString(), k.Want.RatString())
}

// AdditionalProperties are properties the schema does not allow.
type AdditionalProperties struct{ Properties []string }

func (*AdditionalProperties) KeywordPath() []string { return []string{"additionalProperties"} }
func (k *AdditionalProperties) LocalizedString(p *message.Printer) string {
	return p.Sprintf("additional properties %s not allowed", quoted(k.Properties))
}

// Required are properties that are missing.
type Required struct{ Missing []string }

func (*Required) KeywordPath() []string { return []string{"required"} }
func (k *Required) LocalizedString(p *message.Printer) string {
	return p.Sprintf("missing %s %s", plural(len(k.Missing), "property", "properties"), quoted(k.Missing))
}

// Enum is a value that is none of the schema's.
type Enum struct {
	Got  any
	Want []any
}

func (*Enum) KeywordPath() []string { return []string{"enum"} }
func (k *Enum) LocalizedString(p *message.Printer) string {
	want := make([]string, len(k.Want))
	for i, w := range k.Want {
		want[i] = fmt.Sprint(w)
	}
	return p.Sprintf("value must be one of %s", quoted(want))
}

// Pattern is a string that does not match the schema's pattern.
type Pattern struct{ Got, Want string }

func (*Pattern) KeywordPath() []string { return []string{"pattern"} }
func (k *Pattern) LocalizedString(p *message.Printer) string {
	return p.Sprintf("'%s' does not match pattern '%s'", k.Got, k.Want)
}

// UniqueItems are two equal items of an array that wants none.
type UniqueItems struct{ Duplicates [2]int }

func (*UniqueItems) KeywordPath() []string { return []string{"uniqueItems"} }
func (k *UniqueItems) LocalizedString(p *message.Printer) string {
	return p.Sprintf("items at %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
}

// Format is a value that is not of the schema's format.
type Format struct {
	Got  any
	Want string
	Err  error
}

func (*Format) KeywordPath() []string { return []string{"format"} }
func (k *Format) LocalizedString(p *message.Printer) string {
	return p.Sprintf("%v is not valid %s: %v", k.Got, k.Want, k.Err)
}

// OneOf is a value valid against none, or more than one, of oneOf's
// schemas (Subschemas: the indexes it is valid against).
type OneOf struct{ Subschemas []int }

func (*OneOf) KeywordPath() []string { return []string{"oneOf"} }
func (k *OneOf) LocalizedString(p *message.Printer) string {
	if len(k.Subschemas) == 0 {
		return p.Sprintf("oneOf failed, none matched")
	}
	return p.Sprintf("oneOf failed, subschemas %d, %d matched", k.Subschemas[0], k.Subschemas[1])
}

// AnyOf is a value valid against none of anyOf's schemas.
type AnyOf struct{}

func (*AnyOf) KeywordPath() []string { return []string{"anyOf"} }
func (*AnyOf) LocalizedString(p *message.Printer) string {
	return p.Sprintf("anyOf failed")
}

// AllOf is a value invalid against some of allOf's schemas.
type AllOf struct{}

func (*AllOf) KeywordPath() []string { return []string{"allOf"} }
func (*AllOf) LocalizedString(p *message.Printer) string {
	return p.Sprintf("allOf failed")
}

// FalseSchema is a value where the schema allows none.
type FalseSchema struct{}

func (*FalseSchema) KeywordPath() []string { return nil }
func (*FalseSchema) LocalizedString(p *message.Printer) string {
	return p.Sprintf("false schema")
}
