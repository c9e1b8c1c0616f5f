// This module stands in for github.com/santhosh-tekuri/jsonschema/v6 (see the
// replace directive in box's go.mod). compose-go validates compose files with
// it, and the real module compiles five JSON Schema meta-schemas in a package
// initialiser: some 20 ms that every box process paid before main, compose or
// not. This one is a validator of our own for what the Compose Specification's
// schema uses (draft 2020-12: type, $ref, properties, patternProperties,
// additionalProperties, unevaluatedProperties, items, required, enum,
// minimum, maximum, pattern, uniqueItems, allOf, anyOf, oneOf, format), with
// the names and error kinds compose-go reads; it compiles nothing until asked.
module github.com/santhosh-tekuri/jsonschema/v6

go 1.25.0

require golang.org/x/text v0.43.0
