package storage

import (
	"errors"
	"fmt"

	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/signature"
	itypes "go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
)

// systemContext is how box talks to registries. registries.conf (mirrors,
// insecure registries, CONTAINERS_REGISTRIES_CONF), auth.json and Docker's
// config.json are read from their standard places by the image library.
func systemContext() *itypes.SystemContext {
	return &itypes.SystemContext{DockerRegistryUserAgent: "box/" + Version}
}

// policyContext returns the signature policy: policy.json when the user or
// the system has one, else accept anything, as containers-common ships it
// and as Docker behaves.
func policyContext(sys *itypes.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if errors.Is(err, configfile.ErrConfigFileNotFound) {
		policy, err = &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read signature policy: %w", err)
	}
	return signature.NewPolicyContext(policy)
}

// Registry is one registries.conf entry as box will use it.
type Registry struct {
	Prefix   string
	Location string
	Insecure bool
	Mirrors  []string
}

// Registries lists the configured registries and the unqualified-search
// list, read from registries.conf as the pull path reads it.
func (s *Store) Registries() ([]Registry, []string, error) {
	regs, err := sysregistriesv2.GetRegistries(s.sys)
	if err != nil {
		return nil, nil, fmt.Errorf("read registries.conf: %w", err)
	}
	var out []Registry
	for _, r := range regs {
		e := Registry{Prefix: r.Prefix, Location: r.Location, Insecure: r.Insecure}
		for _, m := range r.Mirrors {
			e.Mirrors = append(e.Mirrors, m.Location)
		}
		out = append(out, e)
	}
	search, err := sysregistriesv2.UnqualifiedSearchRegistries(s.sys)
	if err != nil {
		return nil, nil, fmt.Errorf("read registries.conf: %w", err)
	}
	return out, search, nil
}
