package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
		},
		Action: runRm,
	}
}

// runRm removes each named container, printing each name removed and one
// error line per failure, and exits 1 if any failed, as Docker does.
func runRm(c *cli.Context) error {
	if err := requireArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	var errs []error
	for _, name := range c.Args().Slice() {
		if err := e.RemoveContainer(c.Context, name, c.Bool("force")); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, name)
	}
	if len(errs) == 0 {
		return nil
	}
	printErrors(c.App.ErrWriter, errs)
	return errSilent
}
