package commands

import (
	"github.com/urfave/cli/v2"
)

func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template, or 'json'"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return inspectAll(c, "image")
		},
	}
}

// finishInspect prints what was found, then one error line per name that
// failed, as Docker does; any failure makes the exit code 1.
func finishInspect(c *cli.Context, found []any, errs []error) error {
	if err := printJSONOrTemplate(c.App.Writer, c.String("format"), found); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	printErrors(c.App.ErrWriter, errs)
	return errSilent
}
