package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// `signet roles grant` records the role in the account's stream; the
// operator can then use it, and granting again changes nothing.
func TestRolesGrantCommand(t *testing.T) {
	cfg := testConfig(t)
	e := start(t, cfg, roles{true, true, true}, nil)
	newUser(t, e, "ops@example.com")
	e.shutdown() // the CLI opens the store itself, as on a stopped server

	args := []string{"roles", "grant", "--data", cfg.Data, "ops@example.com", "operator"}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("roles grant: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "now has the role operator") {
		t.Fatalf("output %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), args, &out, &errOut); err != nil || !strings.Contains(out.String(), "already has") {
		t.Fatalf("second grant: %v %q", err, out.String())
	}
	for _, bad := range [][]string{
		{"roles", "grant", "--data", cfg.Data, "nobody@example.com", "operator"},
		{"roles", "grant", "--data", cfg.Data, "ops@example.com", "king"},
		{"roles", "grant", "--data", cfg.Data, "ops@example.com"},
		{"roles", "revoke"},
	} {
		if err := run(context.Background(), bad, &out, &errOut); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}

	e2 := start(t, cfg, roles{true, true, true}, nil)
	tok, _ := e2.c.login("ops@example.com", goodPassword)
	r := e2.c.must(http.MethodGet, "/api/v1/reviews/authorization-letters", nil, "Authorization", "Bearer "+tok)
	if r.Status != http.StatusOK {
		t.Fatalf("operator's review queue: %d %s", r.Status, r.Body)
	}
}

func TestShortCallbackSecretsAreRefused(t *testing.T) {
	cfg := testConfig(t)
	cfg.BankSecret = "short"
	if _, err := newApp(context.Background(), cfg, roles{true, true, true}, quietLogger()); err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("a 5-byte bank secret: %v", err)
	}
}
