package commands

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"box/storage"
)

func rmiCommand() *cli.Command {
	return &cli.Command{
		Name:      "rmi",
		Usage:     "remove one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force removal of the image"},
			&cli.BoolFlag{Name: "no-prune", Usage: "do not delete untagged parents"},
		},
		Action: runRmi,
	}
}

// runRmi removes each name in turn and goes on after a failure, as
// Docker does. With -f, names that match nothing are reported but do not
// fail the command; any other failure does.
func runRmi(c *cli.Context) error {
	if err := requireArgs(c, 1, -1); err != nil {
		return err
	}
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	force := c.Bool("force")
	out := c.App.Writer
	var errs []error
	fatal := false
	// The engine does not tell yet which containers use an image; until
	// it does, the store's own check refuses to delete one a container
	// was made from.
	for _, r := range e.Store.RemoveImages(c.Args().Slice(), force) {
		if r.Err != nil {
			if !errors.Is(r.Err, storage.ErrImageNotFound) && !errors.Is(r.Err, storage.ErrBadReference) {
				fatal = true
			}
			errs = append(errs, imageError(r.Name, r.Err))
			continue
		}
		for _, u := range r.Report.Untagged {
			fmt.Fprintf(out, "Untagged: %s\n", u)
		}
		for _, d := range r.Report.Deleted {
			fmt.Fprintf(out, "Deleted: %s\n", d)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	printErrors(c.App.ErrWriter, errs)
	if !force || fatal {
		return errSilent
	}
	return nil
}
