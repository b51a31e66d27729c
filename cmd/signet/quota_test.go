package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
)

// `signet quota grant` records the grant in the enterprise's stream, and
// the enterprise can send the contracts it was granted, no more.
func TestQuotaGrantCommand(t *testing.T) {
	cfg := testConfig(t)
	e := start(t, cfg, roles{true, true, true}, nil)
	boss := newUser(t, e, "13800138301")
	ent := boss.verifiedCase("330201", "13912348301")
	tpl := boss.template(ent, true)
	deadline := time.Now().Add(72 * time.Hour)
	body := func(v *vclient, i int) map[string]any {
		return sendBody(tpl, ent, fmt.Sprintf("135123483%02d", i), "林某某", v.login, deadline)
	}
	for i := range enterprise.EnterpriseQuota {
		boss.send(body(boss, i))
	}
	boss.refused(http.MethodPost, "/api/v1/contracts", body(boss, 10), http.StatusUnprocessableEntity, "quota_exhausted")
	e.shutdown() // the CLI opens the store itself, as on a stopped server

	var out, errOut bytes.Buffer
	args := []string{"quota", "grant", "--data", cfg.Data, ent, "1", "--reason", "order 2026-118"}
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("quota grant: %v (%s)", err, errOut.String())
	}
	if want := fmt.Sprintf("enterprise %s was granted 1 contracts", ent); !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "; 1 of 11 left") {
		t.Fatalf("output %q", out.String())
	}
	for _, bad := range [][]string{
		{"quota", "grant", "--data", cfg.Data, ent, "0"},
		{"quota", "grant", "--data", cfg.Data, ent, "1000001"},
		{"quota", "grant", "--data", cfg.Data, ent, "ten"},
		{"quota", "grant", "--data", cfg.Data, ent, "5", "--reason", " "},
		{"quota", "grant", "--data", cfg.Data, "0190a0d2-0000-7000-8000-0000000000ff", "5"},
		{"quota", "grant", "--data", cfg.Data, ent},
		{"quota", "grant", "--data", cfg.Data, ent, "5", "6"},
		{"quota", "revoke", ent, "5"},
		{"quota"},
	} {
		if err := run(context.Background(), bad, io.Discard, io.Discard); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}

	e2 := start(t, cfg, roles{true, true, true}, nil)
	grants := e2.events(ent, enterprise.TypeContractQuotaGranted)
	if len(grants) != 2 || grants[1] != (enterprise.ContractQuotaGranted{Kind: "enterprise", Amount: 1, Reason: "order 2026-118", GrantedAt: grants[1].(enterprise.ContractQuotaGranted).GrantedAt}) {
		t.Fatalf("grants %+v", grants)
	}
	envs, err := e2.app.store.ReadStream(context.Background(), enterprise.StreamOf(ent), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := envs[len(envs)-1]; last.Type != enterprise.TypeContractQuotaGranted || !strings.HasPrefix(last.Meta.Actor, "cli") || last.Meta.CorrelationID == "" {
		t.Fatalf("the grant's envelope: %s %+v", last.Type, last.Meta)
	}
	tok, _ := e2.c.login(boss.login, goodPassword)
	boss2 := &vclient{client: e2.c, t: t, token: tok, login: boss.login, env: e2}
	boss2.send(body(boss2, 11))
	boss2.refused(http.MethodPost, "/api/v1/contracts", body(boss2, 12), http.StatusUnprocessableEntity, "quota_exhausted")
}

func parseQuotaArgs(args []string) (quotaArgs, error) {
	fs := flag.NewFlagSet("quota grant", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseQuotaGrant(fs, args)
}

func TestParseQuotaGrant(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want quotaArgs
		err  bool
	}{
		{args: []string{"e1", "5"}, want: quotaArgs{"e1", 5, defaultQuotaReason}},
		{args: []string{"--reason", "order 7", "e1", "5"}, want: quotaArgs{"e1", 5, "order 7"}},
		{args: []string{"e1", "--reason=order 7", "5"}, want: quotaArgs{"e1", 5, "order 7"}},
		{args: []string{"e1", "5", "-reason", "order 7"}, want: quotaArgs{"e1", 5, "order 7"}},
		{args: []string{"--", "e1", "-5"}, want: quotaArgs{"e1", -5, defaultQuotaReason}},
		{args: []string{"--reason", "--", "--", "e1", "5"}, want: quotaArgs{"e1", 5, "--"}},
		{args: []string{"e1", "-5"}, err: true}, // a negative amount reads as a flag
		{args: []string{"e1"}, err: true},
		{args: []string{"e1", "5", "6"}, err: true},
		{args: []string{"e1", "five"}, err: true},
		{args: []string{"e1", "5", "--reason"}, err: true},
		{args: []string{"e1", "5", "--king"}, err: true},
		{args: nil, err: true},
	} {
		got, err := parseQuotaArgs(tc.args)
		if tc.err != (err != nil) || (!tc.err && got != tc.want) {
			t.Errorf("%q: %+v %v, want %+v (error %v)", tc.args, got, err, tc.want, tc.err)
		}
	}
}

// Wherever the flag stands, the grant reads the same.
func FuzzParseQuotaGrant(f *testing.F) {
	f.Add("0190a0d2-0000-7000-8000-0000000000e1", "5", "order 7")
	f.Add("e", "-5", "--")
	f.Add("-e", "x", "")
	f.Add("", "1000001", "-reason")
	f.Fuzz(func(t *testing.T, id, amount, reason string) {
		want, werr := parseQuotaArgs([]string{"--reason", reason, "--", id, amount})
		if n, err := strconv.Atoi(amount); (err != nil) != (werr != nil) || (werr == nil && want != (quotaArgs{id, n, reason})) {
			t.Fatalf("canonical %q %q %q: %+v %v", id, amount, reason, want, werr)
		}
		if strings.HasPrefix(id, "-") || strings.HasPrefix(amount, "-") {
			return // positional only after "--"
		}
		for _, args := range [][]string{
			{id, amount, "--reason", reason},
			{id, "-reason=" + reason, amount},
			{"--reason=" + reason, id, amount},
		} {
			got, err := parseQuotaArgs(args)
			if (err != nil) != (werr != nil) || got != want && err == nil {
				t.Fatalf("%q: %+v %v, want %+v %v", args, got, err, want, werr)
			}
		}
	})
}
