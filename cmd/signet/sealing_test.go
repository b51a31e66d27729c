package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"signet/infra/clock"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// validSignatures runs poppler's pdfsig on pdf, trusting the root CA in
// the server's data directory, fails unless every signature is valid,
// trusted and (the last) covers the whole file, and returns the signers'
// common names in order.
func validSignatures(t *testing.T, e *testEnv, pdf []byte) []string {
	t.Helper()
	for tool, pkg := range map[string]string{"pdfsig": "poppler-utils", "certutil": "libnss3-tools"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: apt-get install %s (the CI script installs it)", tool, pkg)
		}
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "nss")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "--empty-password", "-d", "sql:" + db},
		{"-A", "-n", "signet", "-t", "CT,C,C", "-i", filepath.Join(e.cfg.Data, "pki", "ca.pem"), "-d", "sql:" + db},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	path := filepath.Join(dir, "final.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfsig", "-nssdir", "sql:"+db, path).CombinedOutput()
	report := string(out)
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, report)
	}
	var names []string
	for _, sig := range regexp.MustCompile(`(?m)^Signature #\d+:$`).Split(report, -1)[1:] {
		for _, want := range []string{"Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted."} {
			if !strings.Contains(sig, want) {
				t.Fatalf("pdfsig does not say %q:\n%s", want, report)
			}
		}
		if m := regexp.MustCompile(`Signer Certificate Common Name: (.*)`).FindStringSubmatch(sig); m != nil {
			names = append(names, strings.TrimSpace(m[1]))
		}
	}
	if !strings.Contains(report, "Total document signed") {
		t.Fatalf("the last signature does not cover the whole document:\n%s", report)
	}
	return names
}

// pdfText is the text layer of pdf (poppler's pdftotext).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// A contract whose final documents cannot be produced is not called
// completed: the failure is recorded, shown and retried, by the sender
// on demand and by the sealing policy, until it succeeds.
func TestSealingFailureIsRecordedAndRetried(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138131", 31)
	tpl := boss.template(ent, false)
	person := verifiedPerson(t, e, "13512345131", "林某某")
	id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, time.Now().Add(72*time.Hour)))
	person.signAs(id, tpl.person, nil, http.StatusOK)

	// The document's stored file goes missing before the last signature.
	v, _ := boss.contract(id)
	h := v.Documents[0].SentSHA256
	stored := filepath.Join(e.cfg.Data, "blobs", "sha256", h[:2], h[2:])
	if err := os.Rename(stored, stored+".away"); err != nil {
		t.Fatal(err)
	}
	var res struct{ Status string }
	seal := boss.defaultSeal(ent)
	boss.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": seal}, http.StatusOK).json(t, &res)
	if res.Status != "sealing" {
		t.Fatalf("the signature stands, the contract is not completed: %+v", res)
	}
	events := strings.Join(e.contractEvents(id), ",")
	if !strings.HasSuffix(events, "PartySigned,PartySigned,ContractFullySigned,ContractSealingFailed") {
		t.Fatalf("events %s", events)
	}
	v, raw := boss.contract(id)
	if v.Status != "sealing" || v.Sealing == nil || v.Sealing.LastFailure == nil || v.Sealing.LastFailure.Step != "read documents" || v.Sealing.Attempts != 1 {
		t.Fatalf("the failure is shown: %s", raw)
	}
	boss.refused(http.MethodGet, "/api/v1/contracts/"+id+"/documents/"+tpl.doc+"?version=final", nil, http.StatusConflict, "not_completed")
	boss.refused(http.MethodGet, "/api/v1/contracts/"+id+"/certificate", nil, http.StatusConflict, "not_completed")
	boss.refused(http.MethodPost, "/api/v1/contracts/"+id+"/revocation", map[string]string{"reason": "late"}, http.StatusUnprocessableEntity, "contract_signed")

	// A retry now: the party may not ask, the sender may; still failing,
	// it is recorded again.
	person.refused(http.MethodPost, "/api/v1/contracts/"+id+"/sealing", nil, http.StatusForbidden, "not_the_sender")
	boss.refused(http.MethodPost, "/api/v1/contracts/"+id+"/sealing", nil, http.StatusServiceUnavailable, "sealing_failed")
	if got := e.contractEvents(id); got[len(got)-1] != "ContractSealingFailed" || len(got) != len(strings.Split(events, ","))+1 {
		t.Fatalf("second failure: %v", got)
	}

	// The file is back; the policy's next round, due after the backoff,
	// produces the final documents.
	if err := os.Rename(stored+".away", stored); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp()
	policy := e.app.sealing()
	policy.Clock = clock.NewFake(time.Now().Add(time.Hour))
	if n, err := policy.Tick(context.Background()); err != nil || n != 1 {
		t.Fatalf("sealing policy sealed %d: %v", n, err)
	}
	got := e.contractEvents(id)
	if strings.Join(got[len(got)-2:], ",") != "ContractSealed,ContractCompleted" {
		t.Fatalf("events after the retry: %v", got)
	}
	e.waitCaughtUp()
	if n, err := policy.Tick(context.Background()); err != nil || n != 0 {
		t.Fatalf("a second round seals nothing: %d %v", n, err)
	}
	v, _ = boss.contract(id)
	if v.Status != "completed" || v.Sealing.Attempts != 3 {
		t.Fatalf("completed on the third attempt: %+v", v.Sealing)
	}
	final := boss.call(http.MethodGet, "/api/v1/contracts/"+id+"/documents/"+tpl.doc, nil, http.StatusOK).Body
	if names := validSignatures(t, e, final); len(names) != 2 {
		t.Fatalf("signers %v", names)
	}
	// Asking again answers the completed contract as it is.
	boss.call(http.MethodPost, "/api/v1/contracts/"+id+"/sealing", nil, http.StatusOK).json(t, &res)
	if res.Status != "completed" {
		t.Fatalf("retry of a completed contract: %+v", res)
	}
}

// waitCaughtUp waits until the projections have read every stored event.
func (e *testEnv) waitCaughtUp() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ok, err := e.app.runner.WaitFor(ctx, e.head()); err != nil || !ok {
		e.t.Fatalf("projections did not catch up: %v", err)
	}
}

// Every certificate the platform's CA issued is on record: the parties'
// at their first signature, the platform's own at start, each once.
func TestCertificatesAreRecorded(t *testing.T) {
	cfg := testConfig(t)
	e := start(t, cfg, roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138151", 51)
	tpl := boss.template(ent, false)
	person := verifiedPerson(t, e, "13512345151", "林某某")
	for range 2 {
		id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, time.Now().Add(72*time.Hour)))
		person.signAs(id, tpl.person, nil, http.StatusOK)
		boss.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": boss.defaultSeal(ent)}, http.StatusOK)
	}
	e.shutdown()
	start(t, cfg, roles{true, true, true}, nil).shutdown() // a restart records nothing new
	store, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	envs, err := store.ReadAll(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]int{}
	for _, env := range envs {
		if env.Type != "CertificateIssued" {
			continue
		}
		var c struct{ Subject string }
		if err := json.Unmarshal(env.Data, &c); err != nil {
			t.Fatal(err)
		}
		subjects[strings.SplitN(c.Subject, "-", 2)[0]+"-"]++
	}
	want := map[string]int{"signet-": 2, "enterprise-": 1, "account-": 1}
	if fmt.Sprint(subjects) != fmt.Sprint(want) {
		t.Fatalf("certificates recorded %v, want %v", subjects, want)
	}
}

// On a machine with Go and nothing else (no CJK font), seals are SVG and
// cannot be stamped: the final documents are still produced (the seal's
// name is drawn instead, Chinese as boxes) and digitally signed, so the
// contract completes.
func TestSealingWithoutAFont(t *testing.T) {
	prev := findFont
	findFont = func() string { return "" }
	t.Cleanup(func() { findFont = prev })
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138161", 61)
	tpl := boss.template(ent, false)
	person := verifiedPerson(t, e, "13512345161", "林某某")
	id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, time.Now().Add(72*time.Hour)))
	person.signAs(id, tpl.person, nil, http.StatusOK)
	var res struct{ Status string }
	boss.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": boss.defaultSeal(ent)}, http.StatusOK).json(t, &res)
	if res.Status != "completed" {
		t.Fatalf("without a font: %+v (events %v)", res, e.contractEvents(id))
	}
	final := boss.call(http.MethodGet, "/api/v1/contracts/"+id+"/documents/"+tpl.doc, nil, http.StatusOK).Body
	if names := validSignatures(t, e, final); len(names) != 2 {
		t.Fatalf("signers %v", names)
	}
}
