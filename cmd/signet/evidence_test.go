package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"signet/infra/evidence"
)

func TestEvidenceVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bundle.zip")
	if err := os.WriteFile(bad, []byte("not a zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"evidence", "verify", bad}, &out, &errOut)
	if !errors.Is(err, evidence.ErrNotVerified) || !strings.Contains(out.String(), "FAIL  zip: the bundle is not a readable zip archive") ||
		!strings.Contains(out.String(), "does NOT hold") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
	for _, args := range [][]string{{"evidence"}, {"evidence", "verify"}, {"evidence", "verify", "a", "b"}, {"evidence", "verify", filepath.Join(dir, "missing.zip")},
		{"evidence", "verify", "--ca", filepath.Join(dir, "missing.pem"), bad}} {
		if err := run(context.Background(), args, &out, &errOut); err == nil || errors.Is(err, evidence.ErrNotVerified) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
