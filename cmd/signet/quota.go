package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/infra/clock"
)

const quotaUsage = `Usage:
  signet quota grant <enterprise-id> <amount> [--reason text]
        give an enterprise more contracts to send (1 to 1000000 at a time);
        the reason (default "platform_grant") is recorded for the auditors
`

// defaultQuotaReason is recorded when the staff member gives no reason.
const defaultQuotaReason = "platform_grant"

// quotaArgs is what `signet quota grant` was asked to do.
type quotaArgs struct {
	enterpriseID string
	amount       int
	reason       string
}

// parseQuotaGrant reads the arguments after "grant": flags may come before,
// between or after the two positional arguments.
func parseQuotaGrant(fs *flag.FlagSet, args []string) (quotaArgs, error) {
	q := quotaArgs{}
	fs.StringVar(&q.reason, "reason", defaultQuotaReason, "why the contracts are granted, such as an order number")
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return q, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			// After "--" everything is positional, even "-5".
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) != 2 {
		return q, errors.New("give an enterprise ID and an amount")
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil {
		return q, fmt.Errorf("amount %q: give a whole number of contracts", pos[1])
	}
	q.enterpriseID, q.amount = pos[0], n
	return q, nil
}

// runQuota appends contract quota grants to enterprise streams. It is a CLI
// only: nobody can grant their own enterprise contracts over HTTP.
func runQuota(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "grant" {
		fmt.Fprint(stderr, quotaUsage)
		return errors.New("say grant")
	}
	var cfg config
	fs := flag.NewFlagSet("quota grant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, false)
	q, err := parseQuotaGrant(fs, args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, quotaUsage)
		}
		return err
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
	h := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: store, Clock: clock.Real{}, Logger: logger})
	res, err := h.Handle(ctx, commands.GrantEnterpriseQuota{EnterpriseID: q.enterpriseID, Amount: q.amount, Reason: q.reason, GrantedBy: by})
	if err != nil {
		return err
	}
	envs, err := store.ReadStream(ctx, enterprise.StreamOf(q.enterpriseID), 1, event.Forwards, 0)
	if err != nil {
		return err
	}
	e, err := enterprise.Replay(envs)
	if err != nil {
		return err
	}
	used, _, err := commands.QuotaUsed(ctx, store, enterprise.QuotaStream(q.enterpriseID))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enterprise %s was granted %d contracts (event at position %d); %d of %d left\n",
		q.enterpriseID, q.amount, res.Position, e.QuotaLeft(used), e.Quota())
	return nil
}
