// Command signet is the one binary of the platform: the all-in-one server,
// its parts as separate processes, and the admin subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `signet — event-sourced electronic contracts

Usage: signet <command> [flags]

Commands:
  serve                     write API, read API and projections in one process
  writeapi                  the write API alone
  readapi                   the read API alone (needs SIGNET_REDIS_URL)
  projector                 the projections alone (needs SIGNET_REDIS_URL)
  projections status        checkpoint and lag per projection
  projections rebuild [name] drop and rebuild read models from the event log
  roles grant <login> <role> give an account a platform role (operator, auditor)
  quota grant <enterprise-id> <amount> [--reason text]
                            give an enterprise more contracts to send
  audit verify|prove|verify-proof|replay|public-key
                            check the log's hash chains and signed tree heads,
                            prove an event is in the log, replay an aggregate
  evidence verify [--ca file] [--log-key file] <bundle.zip>
                            check a contract's evidence bundle offline
  batch status <batch-id> [--watch]
                            a batch send's progress, with a progress bar
  version                   print the version

Run "signet <command> -h" for the flags of a command. Every flag defaults to
its SIGNET_* environment variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "signet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServer(ctx, "serve", rest, stderr, roles{write: true, read: true, project: true})
	case "writeapi":
		return runServer(ctx, "writeapi", rest, stderr, roles{write: true})
	case "readapi":
		return runServer(ctx, "readapi", rest, stderr, roles{read: true})
	case "projector":
		return runServer(ctx, "projector", rest, stderr, roles{project: true})
	case "projections":
		return runProjections(ctx, rest, stdout, stderr)
	case "roles":
		return runRoles(ctx, rest, stdout, stderr)
	case "quota":
		return runQuota(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "evidence":
		return runEvidence(ctx, rest, stdout, stderr)
	case "batch":
		return runBatch(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "signet", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + info.GoVersion
	}
	return v
}
