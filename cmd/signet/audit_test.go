package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/infra/eventstore/sqlite"
	"signet/projections/replay"
)

// auditLog writes a contract signed by one party at t0+1h and by the
// other at t0+3h, plus some other streams, to the data directory's store.
func auditLog(t *testing.T, cfg config) (stream string, t0 time.Time) {
	t.Helper()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(cfg.sqlitePath())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	stream = contract.StreamOf("c-audit")
	n := 0
	add := func(at time.Time, evs ...contract.Event) {
		for _, ev := range evs {
			n++
			ne, err := contract.NewEvent(fmt.Sprintf("evt-%d", n), ev, event.Metadata{Actor: "acct-x", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(ctx, stream, event.Any, ne); err != nil {
				t.Fatal(err)
			}
		}
	}
	doc := layout.Document{ID: "d1", Name: "采购合同", File: layout.File{SHA256: strings.Repeat("a", 64)}, Pages: []layout.Page{layout.A4}}
	add(t0, contract.ContractCreated{ContractID: "c-audit", Number: "HT20261130-AUDIT001", Title: "采购合同",
		Sender:    contract.Sender{AccountID: "acct-owner", EnterpriseID: "ent-1", Name: "杭州甲公司", PersonName: "王五"},
		Documents: []layout.Document{doc},
		Parties: []contract.Party{
			{ID: "r1", Role: "甲方", Kind: layout.Enterprise, Order: 1, Name: "王五", Contact: contract.Contact{Kind: "email", Value: "wang@example.com"}, EnterpriseName: "杭州甲公司"},
			{ID: "r2", Role: "乙方", Kind: layout.Person, Order: 1, Name: "张三", Contact: contract.Contact{Kind: "phone", Value: "13912345678"}},
		}, SigningDeadline: t0.Add(72 * time.Hour), CreatedAt: t0},
		contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "d1", SHA256: doc.File.SHA256}}, SentBy: "acct-owner", SentAt: t0})
	add(t0.Add(time.Hour), contract.PartySigned{PartyID: "r1", SignerAccountID: "acct-owner", SignerName: "王五", EnterpriseID: "ent-1",
		Seal: &contract.SealUse{SealID: "s1", Name: "公章"}, Willingness: contract.Willingness{Method: "sms_code"}, SignedAt: t0.Add(time.Hour)})
	add(t0.Add(3*time.Hour), contract.PartySigned{PartyID: "r2", SignerAccountID: "acct-zhang", SignerName: "张三",
		Signature: &contract.SignatureUse{Kind: "typed"}, Willingness: contract.Willingness{Method: "sms_code"}, SignedAt: t0.Add(3 * time.Hour)})
	for i := range 20 {
		if _, err := s.Append(ctx, fmt.Sprintf("thing-%d", i%4), event.Any, event.New{ID: fmt.Sprintf("thing-%d", i), Type: "ThingHappened", Schema: 1,
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), Meta: event.Metadata{OccurredAt: t0}}); err != nil {
			t.Fatal(err)
		}
	}
	return stream, t0
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestAuditReplayCommand(t *testing.T) {
	cfg := testConfig(t)
	stream, t0 := auditLog(t, cfg)
	out, err := runCLI(t, "audit", "replay", "--data", cfg.Data, stream, "--as-of", t0.Add(2*time.Hour).Format(time.RFC3339))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"version 3 of 4", `"status": "signing"`, `"seal_name": "公章"`, "PartySigned", "party r1 signed by 王五", `"contact": "139****5678"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "party r2 signed") || strings.Contains(out, "13912345678") {
		t.Errorf("replayed past the moment or unmasked:\n%s", out)
	}
	out, err = runCLI(t, "audit", "replay", "--data", cfg.Data, "--json", stream)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Version uint64               `json:"version"`
		State   replay.ContractState `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Version != 4 || !v.State.Parties[1].Signed {
		t.Fatalf("json %v: %s", err, out)
	}
	for _, bad := range [][]string{
		{"audit", "replay", "--data", cfg.Data, stream, "--as-of", "yesterday"},
		{"audit", "replay", "--data", cfg.Data, stream, "--as-of", t0.Format(time.RFC3339), "--version", "2"},
		{"audit", "replay", "--data", cfg.Data, "contract-none"},
		{"audit", "replay", "--data", cfg.Data},
		{"audit", "frobnicate"},
		{"audit"},
	} {
		if _, err := runCLI(t, bad...); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
}

func TestAuditVerifyAndProveCommands(t *testing.T) {
	cfg := testConfig(t)
	auditLog(t, cfg)
	dir := t.TempDir()

	// prove signs a head (none covers the event yet) and prints the proof.
	out, err := runCLI(t, "audit", "prove", "--data", cfg.Data, "evt-3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	proof := filepath.Join(dir, "proof.json")
	os.WriteFile(proof, []byte(out), 0o600)
	var doc struct {
		LeafIndex uint64   `json:"leaf_index"`
		TreeSize  uint64   `json:"tree_size"`
		AuditPath []string `json:"audit_path"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.LeafIndex != 2 || doc.TreeSize != 24 || len(doc.AuditPath) != 5 {
		t.Fatalf("proof %v: %s", err, out)
	}
	pub, err := runCLI(t, "audit", "public-key", "--data", cfg.Data)
	if err != nil || !strings.Contains(pub, "BEGIN PUBLIC KEY") {
		t.Fatalf("public key %v %s", err, pub)
	}
	pubFile := filepath.Join(dir, "treehead.pub")
	os.WriteFile(pubFile, []byte(pub), 0o600)
	out, err = runCLI(t, "audit", "verify-proof", proof, "--public-key", pubFile)
	if err != nil || !strings.HasSuffix(out, "OK\n") || !strings.Contains(out, "is the key you trust") {
		t.Fatalf("verify-proof: %v\n%s", err, out)
	}
	forged := filepath.Join(dir, "forged.json")
	os.WriteFile(forged, bytes.Replace(must(os.ReadFile(proof)), []byte(`"leaf_index": 2`), []byte(`"leaf_index": 3`), 1), 0o600)
	if out, err := runCLI(t, "audit", "verify-proof", forged); err == nil || !strings.Contains(out, "FAIL") {
		t.Fatalf("forged proof: %v\n%s", err, out)
	}

	out, err = runCLI(t, "audit", "verify", "--data", cfg.Data)
	if err != nil || !strings.Contains(out, "events:  25 in 6 streams") || !strings.Contains(out, "1 signed tree heads, 1 verified") || !strings.HasSuffix(out, "OK\n") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	// One digit of the first signature's data, changed in the file.
	db, err := sql.Open("sqlite", cfg.sqlitePath())
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := db.QueryRow(`SELECT data FROM events WHERE id = 'evt-3'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	i := bytes.IndexAny(data, "0123456789")
	data[i] = '0' + (data[i]-'0'+1)%10
	if _, err := db.Exec(`UPDATE events SET data = ? WHERE id = 'evt-3'`, data); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = runCLI(t, "audit", "verify", "--data", cfg.Data)
	want := "contract-c-audit: event 3 (id evt-3, PartySigned, position 3) does not match its hash: its content was changed after it was written"
	if !errors.Is(err, errLogFails) || !strings.Contains(out, want) || !strings.Contains(out, "FAIL") {
		t.Fatalf("tampered: %v\n%s", err, out)
	}
	// The proof made before still holds offline: it carries the event as it was.
	if out, err := runCLI(t, "audit", "verify-proof", proof); err != nil {
		t.Fatalf("old proof: %v\n%s", err, out)
	}
	// With another pinned key, the heads are not trusted.
	other := filepath.Join(dir, "other.pub")
	os.WriteFile(other, []byte("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"), 0o600)
	if out, err := runCLI(t, "audit", "verify", "--data", cfg.Data, "--public-key", other); err == nil || !strings.Contains(out, "not a key given to check with") {
		t.Fatalf("other key: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "audit", "prove", "--data", cfg.Data, "nope"); err == nil {
		t.Fatal("proved an unknown event")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
