package kube

import (
	"bytes"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Manifest is what a multi-document YAML file holds, by kind.
type Manifest struct {
	Workloads  []Workload
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
	Claims     map[string]*corev1.PersistentVolumeClaim
	// Skipped are the documents of kinds box does not run ("Service
	// web"), for a warning.
	Skipped []string
}

// Workload is something that runs Pods: a Pod, a Deployment (Replicas
// of them), a DaemonSet or a Job (one each).
type Workload struct {
	Kind, Name string
	Replicas   int
	Labels     map[string]string
	Spec       corev1.PodSpec
}

// MaxReplicas bounds a Deployment's replicas: one machine, not a cluster.
const MaxReplicas = 100

// DecodeError is a document that does not decode: its index (from 1),
// kind and name when known, and what is wrong.
type DecodeError struct {
	Doc        int
	Kind, Name string
	Err        error
}

func (e *DecodeError) Error() string {
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

func (e *DecodeError) Unwrap() error { return e.Err }

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

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// Decode reads a manifest: every document is decoded strictly into its
// kind's API type, so a field the type does not have is an error naming
// the document and the field.
func Decode(data []byte) (*Manifest, error) {
	m := &Manifest{
		ConfigMaps: map[string]*corev1.ConfigMap{},
		Secrets:    map[string]*corev1.Secret{},
		Claims:     map[string]*corev1.PersistentVolumeClaim{},
	}
	docs, index := documents(data)
	if len(docs) == 0 {
		return nil, fmt.Errorf("no Kubernetes objects in the YAML")
	}
	for i, doc := range docs {
		var h header
		if err := yaml.Unmarshal(doc, &h); err != nil {
			return nil, &DecodeError{Doc: index[i], Err: err}
		}
		fail := func(err error) (*Manifest, error) {
			return nil, &DecodeError{Doc: index[i], Kind: h.Kind, Name: h.Metadata.Name, Err: err}
		}
		if h.Kind == "" {
			return fail(fmt.Errorf("no kind"))
		}
		strict := func(v any) error { return yaml.UnmarshalStrict(doc, v) }
		switch h.Kind {
		case "Pod":
			var p corev1.Pod
			if err := strict(&p); err != nil {
				return fail(err)
			}
			m.Workloads = append(m.Workloads, Workload{Kind: "Pod", Name: p.Name, Replicas: 1, Labels: p.Labels, Spec: p.Spec})
		case "Deployment":
			var d appsv1.Deployment
			if err := strict(&d); err != nil {
				return fail(err)
			}
			n := 1
			if d.Spec.Replicas != nil {
				n = int(*d.Spec.Replicas)
			}
			if n < 0 || n > MaxReplicas {
				return fail(fmt.Errorf("replicas %d: box runs from 0 to %d replicas on one machine", n, MaxReplicas))
			}
			m.Workloads = append(m.Workloads, Workload{Kind: "Deployment", Name: d.Name, Replicas: n, Labels: d.Spec.Template.Labels, Spec: d.Spec.Template.Spec})
		case "DaemonSet":
			var d appsv1.DaemonSet
			if err := strict(&d); err != nil {
				return fail(err)
			}
			m.Workloads = append(m.Workloads, Workload{Kind: "DaemonSet", Name: d.Name, Replicas: 1, Labels: d.Spec.Template.Labels, Spec: d.Spec.Template.Spec})
		case "Job":
			var j batchv1.Job
			if err := strict(&j); err != nil {
				return fail(err)
			}
			m.Workloads = append(m.Workloads, Workload{Kind: "Job", Name: j.Name, Replicas: 1, Labels: j.Spec.Template.Labels, Spec: j.Spec.Template.Spec})
		case "ConfigMap":
			var c corev1.ConfigMap
			if err := strict(&c); err != nil {
				return fail(err)
			}
			m.ConfigMaps[c.Name] = &c
		case "Secret":
			var s corev1.Secret
			if err := strict(&s); err != nil {
				return fail(err)
			}
			m.Secrets[s.Name] = &s
		case "PersistentVolumeClaim":
			var c corev1.PersistentVolumeClaim
			if err := strict(&c); err != nil {
				return fail(err)
			}
			m.Claims[c.Name] = &c
		default:
			m.Skipped = append(m.Skipped, strings.TrimSpace(h.Kind+" "+h.Metadata.Name))
			continue
		}
		if h.Metadata.Name == "" {
			return fail(fmt.Errorf("metadata.name is required"))
		}
		if !validName(h.Metadata.Name) {
			return fail(fmt.Errorf("metadata.name %q: a name is lower-case letters, digits, '-' and '.'", h.Metadata.Name))
		}
	}
	return m, nil
}

// validName is Kubernetes' DNS subdomain name, which is also a name box
// accepts for containers and volumes.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '.') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// PodNames are the names of the Pods a workload runs: a Pod's own name;
// NAME-pod for the first replica of the others, NAME-pod-N after it
// (Podman's names).
func (w Workload) PodNames() []string {
	if w.Kind == "Pod" {
		return []string{w.Name}
	}
	out := make([]string, 0, w.Replicas)
	for i := range w.Replicas {
		if i == 0 {
			out = append(out, w.Name+"-pod")
		} else {
			out = append(out, fmt.Sprintf("%s-pod-%d", w.Name, i))
		}
	}
	return out
}
