package compose

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
	"go.yaml.in/yaml/v3"
)

// TestSchemaCheck: compose files are checked against the Compose
// Specification's schema by box's own validator (engine/compose/jsonschema),
// with Docker Compose's messages for what users get wrong most.
func TestSchemaCheck(t *testing.T) {
	for _, c := range []struct {
		name, file, want string // want "" : valid
	}{
		{"a whole app", `
name: shop
services:
  web:
    image: busybox
    command: ["httpd", "-f"]
    ports: ["8080:80", {target: 81, published: "8081", protocol: tcp}]
    environment: {A: "1", B: 2, C: null}
    depends_on: {api: {condition: service_healthy, restart: true}}
    healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 3}
    deploy: {replicas: 2, resources: {limits: {cpus: "0.5", memory: 64M}}}
    volumes: [data:/data, {type: tmpfs, target: /t}]
    x-custom: anything
  api:
    build: {context: ., dockerfile_inline: "FROM busybox"}
    networks: {back: {aliases: [a]}}
volumes: {data: {}}
networks: {back: {external: true}}
x-top: 1
`, ""},
		{"an unknown service key", "services:\n  web:\n    image: busybox\n    imagee: x\n", "services.web additional properties 'imagee' not allowed"},
		{"an unknown top-level key", "services: {}\nservicess: {}\n", "additional properties 'servicess' not allowed"},
		{"a wrong type", "services:\n  web:\n    image: busybox\n    ports: 80\n", "services.web.ports must be a array"},
		{"a bad enum", "services:\n  web:\n    image: busybox\n    depends_on: {api: {condition: when_ready}}\n", "services.web.depends_on.api.condition value must be one of"},
		{"a duplicate list item", "services:\n  web:\n    image: busybox\n    dns: [1.1.1.1, 1.1.1.1]\n", "services.web.dns "},
		{"a missing required key", "services:\n  web:\n    image: busybox\n    volumes: [{target: /x}]\n", "services.web.volumes.0"},
		{"above a maximum", "services:\n  web:\n    image: busybox\n    oom_score_adj: 2000\n", "services.web.oom_score_adj "},
	} {
		t.Run(c.name, func(t *testing.T) {
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(c.file), &doc); err != nil {
				t.Fatal(err)
			}
			err := schema.Validate(doc)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("a valid file refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
