package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"box/storage"
)

func credentialFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "authfile", Usage: "credentials file (default $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json)"},
	}
}

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "log in to a registry",
		ArgsUsage: "[SERVER]",
		Description: "Checks the credentials with the registry (default docker.io) and stores them in auth.json,\n" +
			"which Podman and Skopeo read too. Nothing is stored when the registry refuses them.",
		Flags: append(credentialFlags(),
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "username"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "take the password from stdin"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
		),
		Action: runLogin,
	}
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "log out from a registry",
		ArgsUsage: "[SERVER]",
		Flags: append(credentialFlags(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove the credentials of every registry"},
		),
		Action: runLogout,
	}
}

func credentialsOptions(c *cli.Context) storage.CredentialsOptions {
	return storage.CredentialsOptions{
		AuthFile:      c.String("authfile"),
		SkipTLSVerify: c.IsSet("tls-verify") && !c.Bool("tls-verify"),
	}
}

func runLogin(c *cli.Context) error {
	if err := requireArgs(c, 0, 1); err != nil {
		return err
	}
	server := storage.NormalizeServer(c.Args().First())
	opts := credentialsOptions(c)
	user, password := c.String("username"), c.String("password")
	errOut := c.App.ErrWriter
	if c.Bool("password-stdin") {
		if c.IsSet("password") {
			return usageErrorf("--password and --password-stdin are mutually exclusive")
		}
		if user == "" {
			return usageErrorf("Must provide --username with --password-stdin")
		}
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	} else if c.IsSet("password") {
		fmt.Fprintln(errOut, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
	}
	if user == "" && password == "" {
		// Docker's way: credentials already stored are checked again.
		if u, p := storage.StoredCredentials(server, opts); u != "" && p != "" {
			fmt.Fprintln(errOut, "Authenticating with existing credentials...")
			if _, err := storage.Login(c.Context, server, u, p, opts); err == nil {
				fmt.Fprintln(c.App.Writer, "Login Succeeded")
				return nil
			}
		}
	}
	if user == "" || password == "" {
		var err error
		if user, password, err = promptCredentials(errOut, server, user, password); err != nil {
			return err
		}
	}
	if user == "" {
		return errors.New("username is empty: give one with -u")
	}
	if password == "" {
		return errors.New("password is empty: give one with -p or --password-stdin")
	}
	if _, err := storage.Login(c.Context, server, user, password, opts); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "Login Succeeded")
	return nil
}

// promptCredentials asks on the terminal for what the flags left out; the
// password is read without echo.
func promptCredentials(w io.Writer, server, user, password string) (string, string, error) {
	tty, err := os.Open("/dev/tty")
	if err != nil || !term.IsTerminal(int(os.Stdin.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return "", "", errors.New("Cannot perform an interactive login from a non TTY device: give -u and -p or --password-stdin")
	}
	defer tty.Close()
	if user == "" {
		fmt.Fprintf(w, "Username (for %s): ", server)
		line, err := bufio.NewReader(tty).ReadString('\n')
		if err != nil && line == "" {
			return "", "", fmt.Errorf("read username: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if password == "" {
		fmt.Fprint(w, "Password: ")
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(w)
		if err != nil {
			return "", "", fmt.Errorf("read password: %w", err)
		}
		password = string(b)
	}
	return user, password, nil
}

func runLogout(c *cli.Context) error {
	opts := credentialsOptions(c)
	if c.Bool("all") {
		if err := requireArgs(c, 0, 0); err != nil {
			return err
		}
		if err := storage.LogoutAll(opts); err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, "Removed login credentials for all registries")
		return nil
	}
	if err := requireArgs(c, 0, 1); err != nil {
		return err
	}
	server := storage.NormalizeServer(c.Args().First())
	err := storage.Logout(server, opts)
	var notLoggedIn *storage.NotLoggedInError
	if errors.As(err, &notLoggedIn) && !notLoggedIn.DockerConfig {
		// Docker's logout succeeds when there is nothing to remove.
		fmt.Fprintf(c.App.Writer, "Not logged in to %s\n", server)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Removing login credentials for %s\n", server)
	return nil
}
