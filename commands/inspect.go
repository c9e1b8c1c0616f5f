package commands

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"box/engine"
)

// inspectKind is one kind of object `box inspect` can find by name.
type inspectKind struct {
	name string // the --type value
	// sized says whether --size means something for this kind.
	sized bool
	// find returns the object, or an error isNoSuchObject recognizes when
	// nothing of this kind has that name.
	find func(e *engine.Engine, name string) (any, error)
}

// inspectKinds are tried in this order for a name when --type is not
// given. Docker tries containers before images (a container and an image
// may share a name).
var inspectKinds = []inspectKind{
	{name: "container", find: func(e *engine.Engine, name string) (any, error) {
		return e.InspectContainer(name)
	}},
	{name: "image", find: func(e *engine.Engine, name string) (any, error) {
		v, err := e.Store.InspectImage(name)
		if err != nil {
			return nil, imageError(name, err)
		}
		return v, nil
	}},
	{name: "volume", find: func(e *engine.Engine, name string) (any, error) {
		return e.InspectVolume(name)
	}},
	{name: "network", find: func(e *engine.Engine, name string) (any, error) {
		return e.InspectNetwork(name)
	}},
}

// inspectTypes are the --type values box accepts.
var inspectTypes = []string{"container", "image", "volume", "network"}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "return low-level information on box objects",
		ArgsUsage: "NAME|ID [NAME|ID...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template, or 'json'"},
			&cli.StringFlag{Name: "type", Usage: "only inspect objects of the given type (container, image, volume, network)"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes if the type is container"},
		},
		Action: runInspect,
	}
}

func runInspect(c *cli.Context) error {
	if err := requireArgs(c, 1, -1); err != nil {
		return err
	}
	typ := c.String("type")
	if typ != "" && !slices.Contains(inspectTypes, typ) {
		return usageErrorf("%q is not a valid value for --type", typ)
	}
	return inspectAll(c, typ)
}

// inspectAll prints every named object of kind typ (any kind when empty).
func inspectAll(c *cli.Context, typ string) error {
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Close()
	var found []any
	var errs []error
	for _, name := range c.Args().Slice() {
		v, kind, err := inspectOne(e, name, typ)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c.Bool("size") && !kind.sized {
			fmt.Fprintf(c.App.ErrWriter, "WARNING: --size ignored for %s\n", kind.name)
		}
		found = append(found, v)
	}
	return finishInspect(c, found, errs)
}

// inspectOne finds name among the kinds allowed by typ (all when empty).
// With no type given, a kind that has no such name gives way to the next.
func inspectOne(e *engine.Engine, name, typ string) (any, inspectKind, error) {
	for _, k := range inspectKinds {
		if typ != "" && k.name != typ {
			continue
		}
		v, err := k.find(e, name)
		if err != nil && typ == "" && isNoSuchObject(err) {
			continue
		}
		return v, k, err
	}
	if typ != "" {
		return nil, inspectKind{}, fmt.Errorf("No such %s: %s", typ, name)
	}
	return nil, inspectKind{}, fmt.Errorf("No such object: %s", name)
}

// containerInspectCommand is `container inspect`: inspect of containers
// only, as Docker's.
func containerInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template, or 'json'"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return inspectAll(c, "container")
		},
	}
}
