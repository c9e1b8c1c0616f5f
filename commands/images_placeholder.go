package commands

import "github.com/urfave/cli/v2"

func imagesCommand() *cli.Command       { return &cli.Command{Name: "images"} }
func rmiCommand() *cli.Command          { return &cli.Command{Name: "rmi"} }
func tagCommand() *cli.Command          { return &cli.Command{Name: "tag"} }
func historyCommand() *cli.Command      { return &cli.Command{Name: "history"} }
func imageInspectCommand() *cli.Command { return &cli.Command{Name: "inspect"} }
func inspectCommand() *cli.Command      { return &cli.Command{Name: "inspect"} }
