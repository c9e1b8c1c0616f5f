package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/distribution/registry/api/errcode"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/docker"
)

// ErrNoCatalog marks a registry that offers no way to search it.
var ErrNoCatalog = errors.New("registry offers no catalog")

// NoCatalogError says which registry could not be searched and what it
// answered when asked for its catalog.
type NoCatalogError struct {
	Registry string
	Err      error
}

func (e *NoCatalogError) Error() string {
	return fmt.Sprintf("registry %s offers no catalog to search (GET /v2/_catalog: %s); name the repository and pull it instead", e.Registry, registryMessage(e.Err))
}

func (e *NoCatalogError) Unwrap() []error { return []error{ErrNoCatalog, e.Err} }

// SearchResult is one repository a search found, with Docker's fields.
type SearchResult struct {
	// Name is what to pull: "busybox" on Docker Hub, "host/repo" on a
	// registry searched through its catalog.
	Name        string
	Description string
	StarCount   int
	IsOfficial  bool
	IsAutomated bool
}

// SearchOptions tune Search.
type SearchOptions struct {
	Limit int // at most this many results; 0 means 25
	CredentialsOptions
}

// Search looks for term in a registry: Docker Hub's search service for a
// plain term, or the catalog (/v2/_catalog) of the registry that
// "host/term" names, keeping the repositories whose name contains term.
// A registry without a catalog gives a *NoCatalogError; one refusing
// access, an *AuthError; one not answering, an *UnreachableError.
func Search(ctx context.Context, term string, opts SearchOptions) ([]SearchResult, error) {
	registry, query := splitSearchTerm(term)
	limit := opts.Limit
	if limit <= 0 {
		limit = 25
	}
	timeout, err := connectTimeout(0)
	if err != nil {
		return nil, err
	}
	sys := opts.systemContext(registry, false)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The library logs a failed catalog request at error level on its own
	// before returning the error box words: keep that line off the
	// terminal unless debugging.
	if lvl := logrus.GetLevel(); lvl < logrus.DebugLevel {
		logrus.SetLevel(logrus.FatalLevel)
		defer logrus.SetLevel(lvl)
	}
	found, err := docker.SearchRegistry(cctx, sys, registry, query, limit)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case cctx.Err() != nil:
			err = &UnreachableError{Registry: registry, Timeout: timeout}
		default:
			var ec errcode.ErrorCoder
			unsupported := errors.As(err, &ec) && ec.ErrorCode() == errcode.ErrorCodeUnsupported
			switch kind := failureOf(err); {
			case unsupported || kind == failNotFound:
				err = &NoCatalogError{Registry: registry, Err: err}
			case kind == failUnauthorized || kind == failDenied:
				user, _ := StoredCredentials(registry, opts.CredentialsOptions)
				err = &AuthError{Registry: registry, User: user, Err: err}
			case kind == failUnreachable:
				err = &UnreachableError{Registry: registry, Err: err}
			default:
				err = &oneLineError{err}
			}
		}
		return nil, fmt.Errorf("search %s: %w", term, err)
	}
	out := make([]SearchResult, 0, len(found))
	for _, r := range found {
		name := r.Name
		if registry != DefaultRegistry {
			name = registry + "/" + name
		}
		out = append(out, SearchResult{Name: name, Description: r.Description, StarCount: r.StarCount, IsOfficial: r.IsOfficial, IsAutomated: r.IsAutomated})
	}
	return out, nil
}

// splitSearchTerm finds the registry a term names: "host[:port]/rest"
// searches host for rest, anything else Docker Hub.
func splitSearchTerm(term string) (registry, query string) {
	first, rest, ok := strings.Cut(term, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return NormalizeServer(first), rest
	}
	return DefaultRegistry, term
}
