package kube

import (
	"encoding/json"
	"fmt"

	"box/engine/kube/k8s"
)

// Manifest is what a multi-document YAML file holds, by kind.
type Manifest struct {
	Workloads  []Workload
	ConfigMaps map[string]*k8s.ConfigMap
	Secrets    map[string]*k8s.Secret
	Claims     map[string]*k8s.PersistentVolumeClaim
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
	Spec       k8s.PodSpec
}

// MaxReplicas bounds a Deployment's replicas: one machine, not a cluster.
const MaxReplicas = 100

// Decode reads a manifest. The codec decodes every document strictly
// into its kind's Kubernetes API type, so a field the type does not have
// is an error naming the document and the field; box reads what it uses
// of each from the codec's JSON.
func Decode(data []byte) (*Manifest, error) {
	out, err := runCodec("decode", data)
	if err != nil {
		return nil, err
	}
	var d struct {
		Documents []struct {
			Index      int
			Kind, Name string
			Object     json.RawMessage
		}
		Skipped []string
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("kube codec: %w", err)
	}
	m := &Manifest{
		ConfigMaps: map[string]*k8s.ConfigMap{},
		Secrets:    map[string]*k8s.Secret{},
		Claims:     map[string]*k8s.PersistentVolumeClaim{},
		Skipped:    d.Skipped,
	}
	for _, doc := range d.Documents {
		fail := func(err error) (*Manifest, error) {
			return nil, &DecodeError{Doc: doc.Index, Kind: doc.Kind, Name: doc.Name, Err: err}
		}
		if doc.Name == "" {
			return fail(fmt.Errorf("metadata.name is required"))
		}
		if !validName(doc.Name) {
			return fail(fmt.Errorf("metadata.name %q: a name is lower-case letters, digits, '-' and '.'", doc.Name))
		}
		into := func(v any) error { return json.Unmarshal(doc.Object, v) }
		switch doc.Kind {
		case "Pod":
			var p k8s.Pod
			err = into(&p)
			m.Workloads = append(m.Workloads, Workload{Kind: "Pod", Name: p.Name, Replicas: 1, Labels: p.Labels, Spec: p.Spec})
		case "Deployment":
			var d k8s.Deployment
			if err = into(&d); err != nil {
				break
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
			var d k8s.DaemonSet
			err = into(&d)
			m.Workloads = append(m.Workloads, Workload{Kind: "DaemonSet", Name: d.Name, Replicas: 1, Labels: d.Spec.Template.Labels, Spec: d.Spec.Template.Spec})
		case "Job":
			var j k8s.Job
			err = into(&j)
			m.Workloads = append(m.Workloads, Workload{Kind: "Job", Name: j.Name, Replicas: 1, Labels: j.Spec.Template.Labels, Spec: j.Spec.Template.Spec})
		case "ConfigMap":
			var c k8s.ConfigMap
			err = into(&c)
			m.ConfigMaps[c.Name] = &c
		case "Secret":
			var s k8s.Secret
			err = into(&s)
			m.Secrets[s.Name] = &s
		case "PersistentVolumeClaim":
			var c k8s.PersistentVolumeClaim
			err = into(&c)
			m.Claims[c.Name] = &c
		default:
			m.Skipped = append(m.Skipped, doc.Kind+" "+doc.Name)
		}
		if err != nil {
			return fail(err)
		}
	}
	return m, nil
}

// DecodeError is a document box refuses after the codec read it: its
// index (from 1), kind and name, and what is wrong.
type DecodeError struct {
	Doc        int
	Kind, Name string
	Err        error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("document %d (%s %s): %v", e.Doc, e.Kind, e.Name, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

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
