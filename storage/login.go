package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	itypes "go.podman.io/image/v5/types"
)

// DefaultRegistry is where login, logout and search go when no server
// is named, as in Docker.
const DefaultRegistry = "docker.io"

// ErrNotLoggedIn marks a logout from a registry box holds no
// credentials for.
var ErrNotLoggedIn = errors.New("not logged in")

// LoginError is a registry's refusal of the credentials given to login;
// Message is the registry's own words. The password never appears.
type LoginError struct {
	Registry string
	User     string
	Message  string
	Err      error
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("login %s: registry refused the credentials of user %q: %s", e.Registry, e.User, e.Message)
}

func (e *LoginError) Unwrap() []error { return []error{ErrUnauthorized, e.Err} }

// NotLoggedInError says that logout found nothing to remove, and where
// credentials for the registry come from instead when they do.
type NotLoggedInError struct {
	Registry string
	// DockerConfig is set when Docker's config.json holds credentials
	// for the registry, which box reads but leaves to Docker.
	DockerConfig bool
}

func (e *NotLoggedInError) Error() string {
	if e.DockerConfig {
		return fmt.Sprintf("not logged in to %s with box: its credentials in ~/.docker/config.json are Docker's (docker logout %s removes them)", e.Registry, e.Registry)
	}
	return fmt.Sprintf("not logged in to %s", e.Registry)
}

func (e *NotLoggedInError) Unwrap() error { return ErrNotLoggedIn }

// CredentialsOptions say where credentials are kept and how the registry
// is reached.
type CredentialsOptions struct {
	// AuthFile replaces auth.json ($REGISTRY_AUTH_FILE, else
	// $XDG_RUNTIME_DIR/containers/auth.json, as Podman and Skopeo use).
	AuthFile string
	// SkipTLSVerify: plain http or an unchecked certificate, as
	// --tls-verify=false.
	SkipTLSVerify bool
}

// systemContext is how a login, logout or search talks to host: a
// registry on this machine is insecure unless --tls-verify says
// otherwise, as for Docker. With write set, credentials go to the user's
// own auth.json, never to Docker's config.json.
func (o CredentialsOptions) systemContext(host string, write bool) *itypes.SystemContext {
	sys := systemContext()
	sys.AuthFilePath = userAuthFile(write)
	if o.AuthFile != "" {
		sys.AuthFilePath = o.AuthFile
	}
	if o.SkipTLSVerify {
		sys.DockerInsecureSkipTLSVerify = itypes.OptionalBoolTrue
	}
	allowLoopbackHTTP(sys, host)
	return sys
}

// NormalizeServer turns what a user types as a registry (https://host/,
// host:5000/v2/, index.docker.io/v1/) into the key auth.json uses.
// Empty is Docker Hub.
func NormalizeServer(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s = strings.TrimRight(s, "/")
	for _, suffix := range []string{"/v1", "/v2"} {
		s = strings.TrimSuffix(s, suffix)
	}
	switch s {
	case "", "index.docker.io", "registry-1.docker.io", "docker.io":
		return DefaultRegistry
	}
	return s
}

// StoredCredentials returns the user name box would present to server
// (from auth.json, $REGISTRY_AUTH_FILE or ~/.docker/config.json) and the
// password, or empty strings when it has none.
func StoredCredentials(server string, opts CredentialsOptions) (user, password string) {
	auth, err := config.GetCredentials(opts.systemContext("", false), NormalizeServer(server))
	if err != nil {
		return "", ""
	}
	return auth.Username, auth.Password
}

// Login checks user and password with the registry and, once it accepts
// them, stores them in auth.json; it returns where. A refusal stores
// nothing and is a *LoginError; a registry that cannot be reached, an
// *UnreachableError.
func Login(ctx context.Context, server, user, password string, opts CredentialsOptions) (string, error) {
	key := NormalizeServer(server)
	host, _, _ := strings.Cut(key, "/")
	sys := opts.systemContext(host, true)
	timeout, err := connectTimeout(0)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := docker.CheckAuth(cctx, sys, user, password, host); err != nil {
		switch {
		case ctx.Err() != nil:
			return "", fmt.Errorf("login %s: %w", key, ctx.Err())
		case cctx.Err() != nil:
			return "", fmt.Errorf("login %s: %w", key, &UnreachableError{Registry: host, Timeout: timeout})
		}
		switch failureOf(err) {
		case failUnauthorized, failDenied:
			return "", &LoginError{Registry: key, User: user, Message: registryMessage(err), Err: err}
		case failUnreachable:
			return "", fmt.Errorf("login %s: %w", key, &UnreachableError{Registry: host, Err: err})
		}
		return "", fmt.Errorf("login %s: %w", key, &oneLineError{err})
	}
	where, err := config.SetCredentials(sys, key, user, password)
	if err != nil {
		return "", fmt.Errorf("store credentials for %s: %w", key, &oneLineError{err})
	}
	return where, nil
}

// Logout removes the credentials box stored for server. When there are
// none it returns a *NotLoggedInError.
func Logout(server string, opts CredentialsOptions) error {
	key := NormalizeServer(server)
	sys := opts.systemContext("", true)
	err := config.RemoveAuthentication(sys, key)
	if errors.Is(err, config.ErrNotLoggedIn) {
		// Credentials found anyway come from Docker's config.json.
		auth, gerr := config.GetCredentials(sys, key)
		return &NotLoggedInError{Registry: key, DockerConfig: gerr == nil && (auth.Username != "" || auth.IdentityToken != "")}
	}
	if err != nil {
		return fmt.Errorf("logout %s: %w", key, &oneLineError{err})
	}
	return nil
}

// LogoutAll removes every credential box stored.
func LogoutAll(opts CredentialsOptions) error {
	if err := config.RemoveAllAuthentication(opts.systemContext("", true)); err != nil {
		return fmt.Errorf("logout: %w", &oneLineError{err})
	}
	return nil
}
