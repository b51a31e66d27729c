package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"signet/commands"
	"signet/infra/evidence"
)

const evidenceUsage = `Usage:
  signet evidence export [--out bundle.zip] <contract-id>
        write a completed contract's evidence bundle (on the server: it reads
        the event store, the stored files and the keys in the data directory,
        and signs a tree head covering the contract if none does yet)
  signet evidence verify [--ca ca.pem] [--log-key log-key.pem] <bundle.zip>
        check a contract's evidence bundle offline and say what holds; with
        --ca and --log-key, the platform's published root CA and tree-head
        key must be the ones in the bundle
`

// runEvidence exports a contract's evidence bundle, or checks one (which
// needs no store and no network).
func runEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "export" {
		return runEvidenceExport(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, evidenceUsage)
		return errors.New("say export or verify")
	}
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	caPath := fs.String("ca", "", "PEM file of the platform's published root CA")
	keyPath := fs.String("log-key", "", "PEM file of the platform's published tree-head public key")
	fs.Usage = func() { fmt.Fprint(stderr, evidenceUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one bundle file")
	}
	var opts evidence.VerifyOptions
	for _, pin := range []struct {
		path string
		into *[]byte
	}{{*caPath, &opts.TrustedCA}, {*keyPath, &opts.TrustedLogKey}} {
		if pin.path == "" {
			continue
		}
		b, err := os.ReadFile(pin.path)
		if err != nil {
			return err
		}
		*pin.into = b
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := evidence.Verify(f, st.Size(), opts)
	fmt.Fprint(stdout, rep.String())
	return err
}

func runEvidenceExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("evidence export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, false)
	out := fs.String("out", "", "file to write (default: evidence-<contract-id>.zip; - for stdout)")
	fs.Usage = func() { fmt.Fprint(stderr, evidenceUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one contract ID")
	}
	logger, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, roles{write: true}, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := a.cmds.Contracts.Evidence.Handle(ctx, commands.ExportEvidence{ContractID: fs.Arg(0)})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := evidence.Write(&buf, b); err != nil {
		return err
	}
	name := *out
	if name == "" {
		name = "evidence-" + fs.Arg(0) + ".zip"
	}
	if name == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): %d events, %d documents, tree head of %d events\n", name, buf.Len(), len(b.Events), len(b.Documents), b.Head.Size)
	return nil
}
