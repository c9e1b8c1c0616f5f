package commands

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func systemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "remove all images, containers and state box stored for you",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				fmt.Fprintf(c.App.ErrWriter, "WARNING! This will remove all containers, images and build state in %s.\nAre you sure you want to continue? [y/N] ", e.Store.Root())
				answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					e.Close()
					return nil
				}
			}
			return e.Reset()
		},
	}
}
