package codec

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, imagee: x}]}\n", `document 1 (Pod a): json: unknown field "imagee"`},
		{"---\n# only a comment\n---\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: many}\n", "document 2 (Deployment d): "},
		{"kind: [\n", "document 1: "},
		{"apiVersion: v1\nmetadata: {name: a}\n", "document 1: no kind"},
		{"# nothing\n", "no Kubernetes objects"},
	} {
		_, err := Decode([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Decode(%q) = %v, want one line with %q", c.yaml, err, c.want)
		}
	}
}

func TestDecodeKinds(t *testing.T) {
	d, err := Decode([]byte("kind: Service\nmetadata: {name: web}\n---\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n---\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    resources: {limits: {memory: 0.5Gi, cpu: 1500m}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Skipped) != 1 || d.Skipped[0] != "Service web" || len(d.Documents) != 2 {
		t.Fatalf("%+v", d)
	}
	if p := d.Documents[1]; p.Index != 3 || p.Kind != "Pod" || p.Name != "p" || !strings.Contains(string(p.Object), `"limits":{"cpu":"1500m","memory":"512Mi"}`) {
		t.Errorf("the Pod's JSON is not the API types' canonical one: %+v %s", p, p.Object)
	}
}

func TestEncodeStrict(t *testing.T) {
	y, err := Encode([]json.RawMessage{
		json.RawMessage(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox","resources":{"limits":{"memory":"134217728"}}}]}}`),
		json.RawMessage(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"p"},"spec":{"ports":[{"port":80,"targetPort":8080}]}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(y)
	if !strings.Contains(s, "kind: Pod\n") || !strings.Contains(s, "\n---\n") || !strings.Contains(s, "targetPort: 8080") || !strings.Contains(s, "memory: \"134217728\"") {
		t.Errorf("Encode wrote:\n%s", s)
	}
	// A field the API types lack is box's bug, caught before it is written.
	if _, err := Encode([]json.RawMessage{json.RawMessage(`{"kind":"Pod","metadata":{"name":"p"},"spec":{"containerz":[]}}`)}); err == nil || !strings.Contains(err.Error(), "containerz") {
		t.Errorf("Encode of an unknown field: %v", err)
	}
	if _, err := Encode([]json.RawMessage{json.RawMessage(`{"kind":"Node"}`)}); err == nil {
		t.Error("Encode of a kind box does not write succeeded")
	}
}

func TestRun(t *testing.T) {
	if _, err := Run("frobnicate", nil); err == nil {
		t.Error("an unknown verb succeeded")
	}
	out, err := Run("decode", []byte("kind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"))
	var d Decoded
	if err != nil || json.Unmarshal(out, &d) != nil || len(d.Documents) != 1 || d.Documents[0].Kind != "Secret" {
		t.Errorf("Run decode: %v %s", err, out)
	}
}
