package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"signet/commands"
	"signet/domain/event"
	"signet/infra/auditlog"
	"signet/infra/clock"
	"signet/projections/replay"
)

const auditUsage = `Usage:
  signet audit verify [--public-key file]
        walk the whole event log: every stream's hash chain and every signed
        tree head (its root recomputed from the log, its signature, and that
        it extends the head before it); exits non-zero if anything is wrong
  signet audit prove <event-id>
        print a JSON proof that the event is in the log under a signed tree
        head (one is signed now if none covers the event yet)
  signet audit verify-proof <file|-> [--public-key file]
        check such a proof offline, without the store, and say what holds
  signet audit replay <stream> [--as-of RFC3339] [--version N] [--json]
        the aggregate's state at that moment and the events that led there
  signet audit public-key
        print the tree-head signing key's public half (PEM) for auditors to pin

--public-key is a PEM public key (or the key file itself) and the only key
trusted; without it, verify trusts the key in the data directory.
`

// runAudit is `signet audit ...`.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errors.New("say verify, prove, verify-proof, replay or public-key")
	}
	sub, rest := args[0], args[1:]
	var cfg config
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	usage := func(err error) error {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, auditUsage)
		}
		return err
	}
	switch sub {
	case "verify":
		cfg.flags(fs, false)
		pubFile := fs.String("public-key", "", "PEM public key the tree heads must be signed with")
		if pos, err := parseInterleaved(fs, rest); err != nil || len(pos) != 0 {
			return usage(orErr(err, "audit verify takes no arguments"))
		}
		return auditVerify(ctx, cfg, *pubFile, stdout)
	case "prove":
		cfg.flags(fs, false)
		pos, err := parseInterleaved(fs, rest)
		if err != nil || len(pos) != 1 {
			return usage(orErr(err, "give one event ID"))
		}
		return auditProve(ctx, cfg, pos[0], stdout, stderr)
	case "verify-proof":
		pubFile := fs.String("public-key", "", "PEM public key the tree head must be signed with")
		pos, err := parseInterleaved(fs, rest)
		if err != nil || len(pos) != 1 {
			return usage(orErr(err, "give the proof's file, or - for standard input"))
		}
		return auditVerifyProof(pos[0], *pubFile, stdout)
	case "replay":
		cfg.flags(fs, false)
		asOf := fs.String("as-of", "", "the moment, RFC 3339 (2026-11-30T10:00:00+08:00)")
		version := fs.Uint64("version", 0, "replay the first N events instead")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseInterleaved(fs, rest)
		if err != nil || len(pos) != 1 {
			return usage(orErr(err, "give one stream, e.g. contract-<id>"))
		}
		p := replay.Point{Version: *version}
		if *asOf != "" {
			if *version != 0 {
				return usage(errors.New("give --as-of or --version, not both"))
			}
			t, err := time.Parse(time.RFC3339, *asOf)
			if err != nil {
				return fmt.Errorf("--as-of %q: write the moment as RFC 3339, e.g. 2026-11-30T10:00:00+08:00", *asOf)
			}
			p.AsOf = t
		}
		return auditReplay(ctx, cfg, pos[0], p, *asJSON, stdout)
	case "public-key":
		cfg.flags(fs, false)
		if pos, err := parseInterleaved(fs, rest); err != nil || len(pos) != 0 {
			return usage(orErr(err, "audit public-key takes no arguments"))
		}
		s, err := auditlog.LoadLogKey(cfg.Data)
		if err != nil {
			return err
		}
		b, err := auditlog.MarshalPublicKey(s.PublicKey())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# tree-head key %s\n%s", s.KeyID(), b)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("unknown audit command %q", sub)
}

// orErr is err, or else a new error saying what.
func orErr(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(what)
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// readPublicKey reads --public-key; "" gives nil.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--public-key: %w", err)
	}
	pub, err := auditlog.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("--public-key %s: %w", path, err)
	}
	return pub, nil
}

// errLogFails makes `audit verify` exit non-zero; the report says why.
var errLogFails = errors.New("the event log does not verify")

func auditVerify(ctx context.Context, cfg config, pubFile string, stdout io.Writer) error {
	// A pinned key is the only one trusted: whoever could change the log
	// on this machine could also sign with the key kept here.
	var keys []ed25519.PublicKey
	pinned, err := readPublicKey(pubFile)
	if err != nil {
		return err
	}
	if pinned != nil {
		keys = append(keys, pinned)
	} else if s, err := auditlog.LoadLogKey(cfg.Data); err == nil {
		keys = append(keys, s.PublicKey())
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	r, err := auditlog.Verify(ctx, store, auditlog.KeySet(keys...))
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, r.Summary())
	if !r.OK() {
		return errLogFails
	}
	return nil
}

func auditProve(ctx context.Context, cfg config, eventID string, stdout, stderr io.Writer) error {
	logger, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	signer, err := auditlog.LoadOrCreateLogKey(cfg.Data)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	th := &commands.TreeHeads{Store: store, Signer: signer, Clock: clock.Real{}, Logger: logger}
	p, err := th.Proof(ctx, eventID)
	if errors.Is(err, event.ErrNotFound) {
		return fmt.Errorf("no event has the ID %s", eventID)
	}
	if err != nil {
		return err
	}
	if p.Head.KeyID != signer.KeyID() {
		return fmt.Errorf("the head covering %s is signed by key %s, not by this data directory's key %s", eventID, p.Head.KeyID, signer.KeyID())
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(p.Document(signer.PublicKey()))
}

func auditVerifyProof(file, pubFile string, stdout io.Writer) error {
	pinned, err := readPublicKey(pubFile)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	d, err := auditlog.ParseProof(in)
	if err != nil {
		return err
	}
	held, err := d.Check(pinned)
	for _, h := range held {
		fmt.Fprintln(stdout, "holds:", h)
	}
	if err != nil {
		fmt.Fprintln(stdout, "FAIL:", strings.TrimPrefix(err.Error(), auditlog.ErrProofFails.Error()+": "))
		return err
	}
	fmt.Fprintln(stdout, "OK")
	return nil
}

func auditReplay(ctx context.Context, cfg config, stream string, p replay.Point, asJSON bool, stdout io.Writer) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := replay.Replay(ctx, store, stream, p)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	at := "now"
	if v.AsOf != nil {
		at = "as of " + v.AsOf.Format(time.RFC3339Nano)
	}
	fmt.Fprintf(stdout, "%s %s: version %d of %d\n", v.Stream, at, v.Version, v.Latest)
	switch {
	case v.State != nil:
		b, err := json.MarshalIndent(v.State, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "state:\n%s\n", b)
	case !v.Exists:
		fmt.Fprintln(stdout, "state: it did not exist yet")
	}
	if v.StateError != "" {
		fmt.Fprintln(stdout, "state error:", v.StateError)
	}
	fmt.Fprintln(stdout, "events:")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, e := range v.Events {
		fmt.Fprintf(tw, "  %s\tv%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), strconv.FormatUint(e.Version, 10), e.Type, orDash(e.Actor), e.Summary)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
