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
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			var found []any
			var errs []error
			for _, name := range c.Args().Slice() {
				v, err := e.Store.InspectImage(name)
				if err != nil {
					errs = append(errs, imageError(name, err))
					continue
				}
				found = append(found, v)
			}
			return finishInspect(c, found, errs)
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
