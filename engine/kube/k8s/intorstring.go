package k8s

import (
	"encoding/json"
	"strconv"
)

// IntOrString is a number or a name, as a probe's port is either the
// port itself or the name of one of the container's ports.
type IntOrString struct {
	Int   int32
	Str   string
	IsStr bool
}

// UnmarshalJSON takes 8080 or "http" (a quoted number stays a name, as
// the API types keep it).
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.Int, v.IsStr = 0, true
		return json.Unmarshal(b, &v.Str)
	}
	v.Str, v.IsStr = "", false
	return json.Unmarshal(b, &v.Int)
}

// MarshalJSON writes the number or the name.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsStr {
		return json.Marshal(v.Str)
	}
	return []byte(strconv.FormatInt(int64(v.Int), 10)), nil
}
