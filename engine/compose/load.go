package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions are the project flags every compose verb takes.
type LoadOptions struct {
	// Files are -f, in order ("-" is stdin); none means the default
	// names looked up from WorkDir upwards (or COMPOSE_FILE).
	Files []string
	// Name is -p; empty falls back to COMPOSE_PROJECT_NAME, the files'
	// name: and then the project directory's name.
	Name string
	// ProjectDir is --project-directory (default: the first file's).
	ProjectDir string
	// EnvFiles are --env-file; none means the project directory's .env.
	EnvFiles []string
	// Profiles are --profile; none means COMPOSE_PROFILES.
	Profiles []string
	// Env is the environment interpolation reads (os.Environ()).
	Env []string
}

// LoadError is a compose file that could not be found or read as a
// project. NotFound tells the first from the second, as Docker Compose
// does with its exit codes (14 and 15).
type LoadError struct {
	Err      error
	NotFound bool
}

func (e *LoadError) Error() string { return oneLine(e.Err.Error()) }
func (e *LoadError) Unwrap() error { return e.Err }

// oneLine joins a multi-line loader message (an include cycle, a
// validation list) so the error is one line.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}

// Load reads the project opts describe: files merged in order,
// interpolated from the environment and the env files, with the active
// profiles, normalised and validated (a dependency cycle is an error).
func Load(ctx context.Context, opts LoadOptions) (*types.Project, error) {
	// The order is Docker Compose's: the environment first, then the
	// files (COMPOSE_FILE or the lookup from the current directory
	// upwards), the env files of the project directory, profiles, name.
	projectOpts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(opts.ProjectDir),
		cli.WithEnv(opts.Env),
		cli.WithConfigFileEnv,
	}
	projectOpts = append(projectOpts,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(opts.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(opts.Profiles...),
		cli.WithName(opts.Name),
	)
	po, err := cli.NewProjectOptions(opts.Files, projectOpts...)
	if err != nil {
		return nil, loadError(err)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		if strings.HasPrefix(err.Error(), "yaml: ") && len(po.ConfigPaths) == 1 {
			// The YAML parser's message has the line but not the file.
			err = fmt.Errorf("%s: %w", po.ConfigPaths[0], err)
		}
		return nil, loadError(err)
	}
	return p, nil
}

func loadError(err error) error {
	var pathErr *fs.PathError
	return &LoadError{Err: err, NotFound: errors.As(err, &pathErr) || errors.Is(err, errdefs.ErrNotFound)}
}

// MarshalYAML is the project as `config` prints it: Compose's
// normalised YAML.
func MarshalYAML(p *types.Project) ([]byte, error) {
	b, err := p.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("render project %s: %w", p.Name, err)
	}
	return b, nil
}
