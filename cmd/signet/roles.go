package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"

	"signet/commands"
	"signet/infra/clock"
)

const rolesUsage = `Usage:
  signet roles grant <login> <role>   give an account a platform role: operator (reviews
                                      authorization letters) or auditor (reads everything)
`

// runRoles appends platform role grants to account streams. It is a CLI
// only: nobody can make themselves an operator over HTTP.
func runRoles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "grant" {
		fmt.Fprint(stderr, rolesUsage)
		return errors.New("say grant")
	}
	var cfg config
	fs := flag.NewFlagSet("roles grant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, false)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, rolesUsage)
		return errors.New("give a login and a role")
	}
	logger, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	h := commands.NewGrantPlatformRoleHandler(commands.Deps{Events: store, Clock: clock.Real{}, Logger: logger})
	res, err := h.Handle(ctx, commands.GrantPlatformRole{Login: fs.Arg(0), Role: fs.Arg(1), GrantedBy: by})
	if err != nil {
		return err
	}
	if res.Position == 0 {
		fmt.Fprintf(stdout, "account %s already has the role %s\n", res.AccountID, fs.Arg(1))
		return nil
	}
	fmt.Fprintf(stdout, "account %s now has the role %s (event at position %d)\n", res.AccountID, fs.Arg(1), res.Position)
	return nil
}
