// Package codec reads and writes Kubernetes YAML with the Kubernetes API
// types themselves (k8s.io/api core, apps and batch v1 and
// sigs.k8s.io/yaml), decoding strictly so that a field Kubernetes does
// not know is an error naming the document and the field.
//
// Those types cost every process that links them about 2 ms of package
// initialisation and 8 MB of binary, so box itself never imports this
// package: it is built into a program of its own (box-kube-codec),
// which box carries inside its binary and runs only for `box kube`
// (engine/kube). box works on the plain JSON this package writes.
package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Document is one decoded document: its index in the file (from 1,
// counting empty documents as a reader does), kind and name, and the
// object as the API types write it in JSON.
type Document struct {
	Index  int             `json:"index"`
	Kind   string          `json:"kind"`
	Name   string          `json:"name"`
	Object json.RawMessage `json:"object"`
}

// Decoded is a manifest: the documents of the kinds box runs, and those
// it skips ("Service web").
type Decoded struct {
	Documents []Document `json:"documents"`
	Skipped   []string   `json:"skipped,omitempty"`
}

// Kinds are the kinds box reads, each with the API type that decodes it.
var Kinds = map[string]func() any{
	"Pod":                   func() any { return &corev1.Pod{} },
	"Deployment":            func() any { return &appsv1.Deployment{} },
	"DaemonSet":             func() any { return &appsv1.DaemonSet{} },
	"Job":                   func() any { return &batchv1.Job{} },
	"ConfigMap":             func() any { return &corev1.ConfigMap{} },
	"Secret":                func() any { return &corev1.Secret{} },
	"PersistentVolumeClaim": func() any { return &corev1.PersistentVolumeClaim{} },
	"Service":               func() any { return &corev1.Service{} },
}

// played are the kinds box runs or uses; a Service is only written.
var played = map[string]bool{"Pod": true, "Deployment": true, "DaemonSet": true, "Job": true, "ConfigMap": true, "Secret": true, "PersistentVolumeClaim": true}

// Error is a document that does not decode.
type Error struct {
	Doc        int
	Kind, Name string
	Err        error
}

func (e *Error) Error() string {
	where := fmt.Sprintf("document %d", e.Doc)
	if e.Kind != "" {
		where += " (" + e.Kind
		if e.Name != "" {
			where += " " + e.Name
		}
		where += ")"
	}
	return where + ": " + strings.TrimPrefix(e.Err.Error(), "error unmarshaling JSON: while decoding JSON: ")
}

func (e *Error) Unwrap() error { return e.Err }

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// Decode reads multi-document YAML: every document of a kind box runs is
// decoded strictly into its API type and written back as JSON.
func Decode(data []byte) (*Decoded, error) {
	docs, index := documents(data)
	if len(docs) == 0 {
		return nil, fmt.Errorf("no Kubernetes objects in the YAML")
	}
	out := &Decoded{}
	for i, doc := range docs {
		var h header
		if err := yaml.Unmarshal(doc, &h); err != nil {
			return nil, &Error{Doc: index[i], Err: err}
		}
		fail := func(err error) (*Decoded, error) {
			return nil, &Error{Doc: index[i], Kind: h.Kind, Name: h.Metadata.Name, Err: err}
		}
		if h.Kind == "" {
			return fail(fmt.Errorf("no kind"))
		}
		if !played[h.Kind] {
			out.Skipped = append(out.Skipped, strings.TrimSpace(h.Kind+" "+h.Metadata.Name))
			continue
		}
		obj := Kinds[h.Kind]()
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return fail(err)
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return fail(err)
		}
		out.Documents = append(out.Documents, Document{Index: index[i], Kind: h.Kind, Name: h.Metadata.Name, Object: js})
	}
	return out, nil
}

// Run is box-kube-codec's one job: verb "decode" takes YAML and returns
// Decoded as JSON; "encode" takes a JSON array of objects and returns
// YAML.
func Run(verb string, in []byte) ([]byte, error) {
	switch verb {
	case "decode":
		d, err := Decode(in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(d)
	case "encode":
		var objs []json.RawMessage
		if err := json.Unmarshal(in, &objs); err != nil {
			return nil, err
		}
		return Encode(objs)
	}
	return nil, fmt.Errorf("box-kube-codec: unknown verb %q", verb)
}

// Encode writes objects (JSON, each with its kind) as multi-document
// YAML, each decoded strictly into its API type first: what box writes
// is what Kubernetes reads.
func Encode(objects []json.RawMessage) ([]byte, error) {
	var out bytes.Buffer
	for i, o := range objects {
		var h header
		if err := json.Unmarshal(o, &h); err != nil {
			return nil, fmt.Errorf("object %d: %w", i+1, err)
		}
		mk, ok := Kinds[h.Kind]
		if !ok {
			return nil, fmt.Errorf("object %d: kind %q is not one box writes", i+1, h.Kind)
		}
		obj := mk()
		dec := json.NewDecoder(bytes.NewReader(o))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return nil, &Error{Doc: i + 1, Kind: h.Kind, Name: h.Metadata.Name, Err: err}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// documents splits multi-document YAML at its "---" lines, dropping
// documents that hold only comments or blanks. Each comes with its
// index from 1, counting the empty ones, as a reader of the file counts.
func documents(data []byte) (docs [][]byte, index []int) {
	n := 1
	var cur bytes.Buffer
	flush := func() {
		if hasContent(cur.Bytes()) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			index = append(index, n)
		}
		cur.Reset()
	}
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			if i > 0 || hasContent(cur.Bytes()) {
				flush()
				n++
			}
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs, index
}

func hasContent(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}
