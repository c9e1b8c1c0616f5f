package commands

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/engine/compose"
	"box/engine/flags"
	"box/engine/kube"
)

// kubeCommand is `box kube`, Podman's verbs for Kubernetes YAML; `box
// play kube` is Podman's older spelling of play.
func kubeCommand() *cli.Command {
	return &cli.Command{
		Name:        "kube",
		Usage:       "play Kubernetes YAML as containers, and generate it from containers",
		Subcommands: []*cli.Command{kubePlayCommand("play"), kubeDownCommand(), kubeGenerateCommand()},
	}
}

func playCommand() *cli.Command {
	return &cli.Command{
		Name:        "play",
		Usage:       "play Kubernetes YAML (Podman's older spelling of kube play)",
		Subcommands: []*cli.Command{kubePlayCommand("kube")},
	}
}

func kubeNetworkFlag() cli.Flag {
	return &cli.StringFlag{Name: "network", Usage: "user network the pods join (made when missing)", Value: kube.DefaultNetwork}
}

func kubePlayCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "run the pods, deployments and jobs of Kubernetes YAML",
		ArgsUsage: "FILE|-",
		Flags: []cli.Flag{
			kubeNetworkFlag(),
			&cli.BoolFlag{Name: "start", Value: true, Usage: "start the containers (--start=false only creates them)"},
			&cli.BoolFlag{Name: "replace", Usage: "remove the pods the YAML names first when they exist"},
			&cli.BoolFlag{Name: "down", Usage: "remove what an earlier play of the YAML made (kube down)"},
			&cli.StringSliceFlag{Name: "publish", Usage: "publish a pod port on the host, over its hostPort: [IP:]HOSTPORT:CONTAINERPORT[/PROTO]"},
			&cli.StringSliceFlag{Name: "configmap", Usage: "a YAML file of ConfigMaps the pods may use"},
			&cli.BoolFlag{Name: "build", Usage: "build every image that has a directory NAME/ with a Containerfile or Dockerfile in the context directory (default: only images the store lacks; --build=false: none)"},
			&cli.StringFlag{Name: "context-dir", Usage: "the directory holding the images' build directories (default: the current directory)"},
		},
		Action: func(c *cli.Context) error {
			m, source, err := readManifest(c)
			if err != nil {
				return err
			}
			for _, f := range c.StringSlice("configmap") {
				data, err := os.ReadFile(f)
				if err != nil {
					return &runFailure{err: err}
				}
				cms, err := kube.Decode(data)
				if err == nil {
					err = m.AddConfigMaps(cms)
				}
				if err != nil {
					return &runFailure{err: fmt.Errorf("--configmap %s: %w", f, err)}
				}
			}
			publish, err := flags.ParsePorts(c.StringSlice("publish"))
			if err != nil {
				return &runFailure{err: err}
			}
			opts := kube.PlayOptions{Source: source, Network: c.String("network"), NoStart: !c.Bool("start"), Replace: c.Bool("replace"), Publish: publish}
			if opts.Build, opts.ContextDir, err = kubeBuildOptions(c); err != nil {
				return err
			}
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				k := &kube.Kube{Engine: e, Warn: c.App.ErrWriter, BuildOutput: c.App.ErrWriter}
				if c.Bool("down") {
					return kubeDown(c, k, m, opts)
				}
				rep, err := k.Play(c.Context, m, opts)
				if rep != nil {
					for _, p := range rep.Pods {
						fmt.Fprintf(c.App.Writer, "Pod:\n%s\nContainers:\n", p.Name)
						for _, ctr := range p.Containers {
							fmt.Fprintln(c.App.Writer, ctr)
						}
					}
				}
				if err != nil {
					return &runFailure{err: err}
				}
				return nil
			})
		},
	}
}

// kubeBuildOptions is play's --build and --context-dir, as Podman's:
// without --build only missing images are built, from directories in
// the current directory unless --context-dir names another.
func kubeBuildOptions(c *cli.Context) (kube.BuildPolicy, string, error) {
	policy := kube.BuildMissing
	if c.IsSet("build") {
		policy = kube.BuildNever
		if c.Bool("build") {
			policy = kube.BuildAlways
		}
	}
	dir := c.String("context-dir")
	if dir != "" && policy == kube.BuildNever {
		return "", "", usageErrorf("--context-dir needs building: drop --build=false")
	}
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", &runFailure{err: err}
	}
	return policy, abs, nil
}

func kubeDownCommand() *cli.Command {
	return &cli.Command{
		Name:      "down",
		Usage:     "remove what kube play made of Kubernetes YAML",
		ArgsUsage: "FILE|-",
		Flags:     []cli.Flag{kubeNetworkFlag()},
		Action: func(c *cli.Context) error {
			m, source, err := readManifest(c)
			if err != nil {
				return err
			}
			return withEngine(c, 1, 1, func(e *engine.Engine) error {
				return kubeDown(c, &kube.Kube{Engine: e, Warn: c.App.ErrWriter}, m, kube.PlayOptions{Source: source, Network: c.String("network")})
			})
		},
	}
}

func kubeDown(c *cli.Context, k *kube.Kube, m *kube.Manifest, opts kube.PlayOptions) error {
	rep, err := k.Down(c.Context, m, opts)
	if rep != nil && len(rep.Pods) > 0 {
		fmt.Fprintln(c.App.Writer, "Pods stopped and removed:")
		for _, p := range rep.Pods {
			fmt.Fprintln(c.App.Writer, p)
		}
	}
	if err != nil {
		return &runFailure{err: err}
	}
	return nil
}

// readManifest reads and decodes the YAML that the one argument names
// ("-": standard input), and the name its labels carry.
func readManifest(c *cli.Context) (*kube.Manifest, string, error) {
	if err := requireArgs(c, 1, 1); err != nil {
		return nil, "", err
	}
	arg := c.Args().First()
	var data []byte
	var err error
	source := arg
	switch {
	case arg == "-":
		data, err = io.ReadAll(os.Stdin)
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		data, err = fetchManifest(c.Context, arg)
	default:
		if abs, aerr := filepath.Abs(arg); aerr == nil {
			source = abs
		}
		data, err = os.ReadFile(arg)
	}
	if err != nil {
		return nil, "", &runFailure{err: err}
	}
	m, err := kube.Decode(data)
	if err != nil {
		return nil, "", &runFailure{err: fmt.Errorf("%s: %w", arg, err)}
	}
	return m, source, nil
}

func kubeGenerateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "write running containers as a Kubernetes Pod (and Service)",
		ArgsUsage: "CONTAINER... | -p PROJECT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "project", Aliases: []string{"p"}, Usage: "a compose project's services, each a Deployment (and with --service a Service)"},
			&cli.BoolFlag{Name: "service", Aliases: []string{"s"}, Usage: "add a Service for the published ports"},
			&cli.StringFlag{Name: "filename", Aliases: []string{"f"}, Usage: "write the YAML to this file"},
			&cli.StringFlag{Name: "name", Usage: "the Pod's name"},
			&cli.StringFlag{Name: "type", Aliases: []string{"t"}, Usage: "the kind written: pod, deployment, daemonset or job (default: pod, for -p deployment)"},
		},
		Action: func(c *cli.Context) error {
			if project := c.String("project"); project != "" {
				return withEngine(c, 0, 0, func(e *engine.Engine) error {
					services, err := projectServices(e, project)
					if err != nil {
						return &runFailure{err: err}
					}
					out, warnings, err := kube.GenerateServices(services, kube.GenerateOptions{Service: c.Bool("service"), Type: c.String("type")})
					return writeGenerated(c, out, warnings, err)
				})
			}
			return withEngine(c, 1, -1, func(e *engine.Engine) error {
				var ctrs []*engine.ContainerInspect
				for _, name := range c.Args().Slice() {
					in, err := e.InspectContainer(name)
					if err != nil {
						return &runFailure{err: err}
					}
					ctrs = append(ctrs, in)
				}
				out, warnings, err := kube.Generate(ctrs, kube.GenerateOptions{Name: c.String("name"), Service: c.Bool("service"), Type: c.String("type")})
				return writeGenerated(c, out, warnings, err)
			})
		},
	}
}

// fetchManifest gets YAML from a URL: at most 16 MiB, within a minute.
func fetchManifest(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	const limit = 16 << 20
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && len(data) > limit {
		err = fmt.Errorf("GET %s: more than 16 MiB of YAML", url)
	}
	return data, err
}

func writeGenerated(c *cli.Context, out []byte, warnings []string, err error) error {
	if err != nil {
		return &runFailure{err: err}
	}
	for _, w := range warnings {
		fmt.Fprintln(c.App.ErrWriter, "WARNING: "+w)
	}
	if f := c.String("filename"); f != "" {
		if err := os.WriteFile(f, out, 0o644); err != nil {
			return &runFailure{err: err}
		}
		return nil
	}
	_, err = c.App.Writer.Write(out)
	return err
}

// projectServices are a compose project's running service containers
// (not one-off ones), inspected, by service in name order.
func projectServices(e *engine.Engine, project string) ([]kube.ServiceContainers, error) {
	list, err := e.Containers()
	if err != nil {
		return nil, err
	}
	by := map[string][]*engine.ContainerInspect{}
	for _, ctr := range list {
		if ctr.Labels[compose.LabelProject] != project || ctr.Labels[compose.LabelOneoff] == "True" || ctr.State != engine.Running {
			continue
		}
		in, err := e.InspectContainer(ctr.ID)
		if err != nil {
			return nil, err
		}
		svc := ctr.Labels[compose.LabelService]
		by[svc] = append(by[svc], in)
	}
	if len(by) == 0 {
		return nil, fmt.Errorf("compose project %q has no running containers", project)
	}
	var out []kube.ServiceContainers
	for _, name := range slices.Sorted(maps.Keys(by)) {
		ctrs := by[name]
		slices.SortFunc(ctrs, func(a, b *engine.ContainerInspect) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, kube.ServiceContainers{Name: name, Containers: ctrs})
	}
	return out, nil
}
