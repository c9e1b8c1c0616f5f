package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Docker Compose's labels, by which up finds what it made and decides
// what to recreate, and by which ps, down and ls find a project's
// containers, networks and volumes.
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelVersion     = "com.docker.compose.version"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"
)

// ContainerName is a service's container number n, as Docker Compose
// names it: PROJECT-SERVICE-N.
func ContainerName(project, service string, n int) string {
	return fmt.Sprintf("%s-%s-%d", project, service, n)
}

// DefaultNetworkName is the network a project's services share when
// they name none: PROJECT_default.
func DefaultNetworkName(project string) string { return project + "_default" }

// ConfigHash is the digest of a service's configuration that up compares
// with a container's com.docker.compose.config-hash label to decide
// whether the container is still what the file asks for. Like Docker
// Compose's, it leaves out what does not change the container: the
// build, the pull policy, the scale, the dependencies and the profiles.
func ConfigHash(s types.ServiceConfig) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("hash service %s: %w", s.Name, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// dependsOnLabel is the depends_on label's value as Docker Compose
// writes it: SERVICE:CONDITION:RESTART, comma separated, sorted.
func dependsOnLabel(s types.ServiceConfig) string {
	var parts []string
	for name, d := range s.DependsOn {
		parts = append(parts, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// containerLabels are the labels of a service's container number n,
// over the service's own labels.
func containerLabels(p *types.Project, s types.ServiceConfig, n int, hash, version string) map[string]string {
	l := map[string]string{}
	for k, v := range s.Labels {
		l[k] = v
	}
	for k, v := range s.CustomLabels {
		l[k] = v
	}
	l[LabelProject] = p.Name
	l[LabelService] = s.Name
	l[LabelNumber] = strconv.Itoa(n)
	l[LabelOneoff] = "False"
	l[LabelConfigHash] = hash
	l[LabelWorkingDir] = p.WorkingDir
	l[LabelConfigFiles] = strings.Join(p.ComposeFiles, ",")
	l[LabelDependsOn] = dependsOnLabel(s)
	l[LabelVersion] = version
	return l
}

// CycleError is a depends_on graph that loops.
type CycleError struct{ Path []string }

func (e *CycleError) Error() string {
	return "dependency cycle detected: " + strings.Join(e.Path, " -> ")
}

// StartOrder is the project's services in the order up starts them:
// every service after the services it depends on, and otherwise by name,
// so the order is the same on every run. A dependency on a service
// that is not in the project (a disabled profile, a required: false
// dependency) is left out.
func StartOrder(services types.Services) ([]string, error) {
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	slices.Sort(names)
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			i := slices.Index(path, name)
			return &CycleError{Path: append(slices.Clone(path[i:]), name)}
		}
		state[name] = visiting
		deps := make([]string, 0, len(services[name].DependsOn))
		for d := range services[name].DependsOn {
			if _, ok := services[d]; ok {
				deps = append(deps, d)
			}
		}
		slices.Sort(deps)
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Override applies up's --scale (service name to count) and --pull
// (always, missing or never; "" keeps each service's) to the project.
func Override(p *types.Project, scale map[string]int, pull string) error {
	for name, n := range scale {
		s, ok := p.Services[name]
		if !ok {
			return &NoSuchServiceError{Name: name}
		}
		s.SetScale(n)
		p.Services[name] = s
	}
	if pull != "" {
		for name, s := range p.Services {
			s.PullPolicy = pull
			p.Services[name] = s
		}
	}
	return nil
}
