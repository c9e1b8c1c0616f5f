package commands

import (
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/urfave/cli/v2"

	"box/engine/compose"
)

// buildPolicyFlag reads up's and create's --build and --no-build.
func buildPolicyFlag(c *cli.Context) (compose.BuildPolicy, error) {
	switch {
	case c.Bool("build") && c.Bool("no-build"):
		return "", usageErrorf("--build and --no-build are incompatible")
	case c.Bool("build"):
		return compose.BuildAlways, nil
	case c.Bool("no-build"):
		return compose.BuildNever, nil
	}
	return compose.BuildMissing, nil
}

func composeBuildCommand() *cli.Command {
	return &cli.Command{
		Name: "build", Usage: "build or rebuild services", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use cache when building the image"},
			&cli.BoolFlag{Name: "pull", Usage: "always attempt to pull a newer version of the image"},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set build-time variables for services"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the build output"},
		},
		Action: func(c *cli.Context) error {
			opts := compose.BuildOptions{
				Services: c.Args().Slice(), NoCache: c.Bool("no-cache"), Pull: c.Bool("pull"),
				Quiet: c.Bool("quiet"), Args: buildArgs(c.StringSlice("build-arg")),
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				if opts.Quiet {
					cc.Progress = nil
				}
				return cc.Build(c.Context, p, opts)
			})
		},
	}
}

func composePullCommand() *cli.Command {
	return &cli.Command{
		Name: "pull", Usage: "pull service images", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "pull without printing progress information"},
			&cli.BoolFlag{Name: "ignore-pull-failures", Usage: "pull what it can and ignores images with pull failures"},
			&cli.BoolFlag{Name: "ignore-buildable", Usage: "ignore images that can be built"},
		},
		Action: func(c *cli.Context) error {
			opts := compose.PullOptions{
				Services: c.Args().Slice(), IgnoreFailures: c.Bool("ignore-pull-failures"),
				IgnoreBuildable: c.Bool("ignore-buildable"),
			}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				if c.Bool("quiet") {
					cc.Progress = nil
				}
				return cc.Pull(c.Context, p, opts)
			})
		},
	}
}

func composePushCommand() *cli.Command {
	return &cli.Command{
		Name: "push", Usage: "push service images", ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "ignore-push-failures", Usage: "push what it can and ignores images with push failures"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "push without printing progress information"},
		},
		Action: func(c *cli.Context) error {
			opts := compose.PushOptions{Services: c.Args().Slice(), IgnoreFailures: c.Bool("ignore-push-failures")}
			return withProject(c, func(cc *compose.Compose, p *types.Project) error {
				if c.Bool("quiet") {
					cc.Progress = nil
				}
				return cc.Push(c.Context, p, opts)
			})
		},
	}
}
