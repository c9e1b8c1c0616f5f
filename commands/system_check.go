package commands

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"box/engine"
	"box/rootless"
)

// systemCheckCommand is `box system check`: one line per reason rootless
// containers fail on a machine, each with its fix. It exits 1 when a check
// is an error (containers cannot run until it is fixed); warnings (no
// pasta, no limits, no low ports, only one id mapped) are advice and leave
// it at 0, or it would fail on most laptops as they come.
func systemCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check that rootless containers can run here, and say how to fix what stops them",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			checks := engine.SystemCheck(engine.Options{
				Root: c.String("root"), RunRoot: c.String("runroot"), Driver: c.String("storage-driver"),
			})
			failed := false
			for _, ch := range checks {
				line := fmt.Sprintf("%-7s  %s: %s", ch.Status, ch.Name, ch.Detail)
				if ch.Fix != "" {
					line += "; fix: " + ch.Fix
				}
				fmt.Fprintln(c.App.Writer, line)
				failed = failed || ch.Status == rootless.StatusError
			}
			if failed {
				return errSilent
			}
			return nil
		},
	}
}

// isSystemCheck says whether args (argv, program first) ask for `box system
// check`, which must run even when box could not enter its user namespace:
// it is what explains why.
func isSystemCheck(args []string) bool {
	var words []string
	for i := 1; i < len(args) && len(words) < 2; i++ {
		switch a := args[i]; {
		case slices.Contains(rootless.GlobalValueFlags, a):
			i++
		case len(a) > 0 && a[0] == '-':
		default:
			words = append(words, a)
		}
	}
	return slices.Equal(words, []string{"system", "check"})
}
