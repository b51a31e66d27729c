package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"signet/infra/evidence"
)

// The auditor's walk over a real contract, made through the API: replay
// as of the moment between the two signatures, the evidence bundle over
// HTTP and from the CLI, its offline check, and a changed byte caught.
func TestAuditorWalk(t *testing.T) {
	cfg := testConfig(t)
	e := start(t, cfg, roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138141", 41)
	tpl := boss.template(ent, true)
	person := verifiedPerson(t, e, "13512345141", "林某某")
	newUser(t, e, "audit@example.com")
	stranger := newUser(t, e, "13512345999")
	id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, time.Now().Add(72*time.Hour)))
	boss.refused(http.MethodGet, "/api/v1/contracts/"+id+"/evidence", nil, http.StatusConflict, "not_completed")
	person.signAs(id, tpl.person, nil, http.StatusOK)
	time.Sleep(20 * time.Millisecond) // the two signatures at distinct times
	between := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	boss.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": boss.defaultSeal(ent)}, http.StatusOK)

	// Parties get the bundle; strangers do not; it verifies offline.
	zip := person.call(http.MethodGet, "/api/v1/contracts/"+id+"/evidence", nil, http.StatusOK).Body
	stranger.refused(http.MethodGet, "/api/v1/contracts/"+id+"/evidence", nil, http.StatusForbidden, "not_a_party")
	caPEM, err := os.ReadFile(filepath.Join(cfg.Data, "pki", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	e.shutdown()

	keyOut, err := runCLI(t, "audit", "public-key", "--data", cfg.Data)
	if err != nil {
		t.Fatalf("audit public-key: %v %s", err, keyOut)
	}
	opts := evidence.VerifyOptions{TrustedCA: caPEM, TrustedLogKey: []byte(keyOut)}
	rep, err := evidence.Verify(bytes.NewReader(zip), int64(len(zip)), opts)
	if err != nil || !rep.OK {
		t.Fatalf("the bundle from HTTP: %v\n%s", err, rep)
	}
	// One byte changed in the final PDF is found and named.
	bad := tamperZip(t, zip, evidence.DocumentName(tpl.doc))
	if rep, err := evidence.Verify(bytes.NewReader(bad), int64(len(bad)), opts); err == nil || rep.OK || !strings.Contains(rep.String(), evidence.DocumentName(tpl.doc)) {
		t.Fatalf("a changed PDF byte: %v\n%s", err, rep)
	}

	// The CLI: grant the auditor role, export, verify.
	if out, err := runCLI(t, "roles", "grant", "--data", cfg.Data, "audit@example.com", "auditor"); err != nil {
		t.Fatalf("roles grant: %v %s", err, out)
	}
	bundle := filepath.Join(t.TempDir(), "bundle.zip")
	if out, err := runCLI(t, "evidence", "export", "--data", cfg.Data, "--out", bundle, id); err != nil {
		t.Fatalf("evidence export: %v %s", err, out)
	}
	caFile, keyFile := filepath.Join(t.TempDir(), "ca.pem"), filepath.Join(t.TempDir(), "log.pem")
	os.WriteFile(caFile, caPEM, 0o600)
	os.WriteFile(keyFile, []byte(keyOut), 0o600)
	out, err := runCLI(t, "evidence", "verify", "--ca", caFile, "--log-key", keyFile, bundle)
	if err != nil || !strings.Contains(out, "every check passed") {
		t.Fatalf("evidence verify: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(bundle)
	os.WriteFile(bundle, tamperZip(t, data, "events.json"), 0o600)
	if out, err := runCLI(t, "evidence", "verify", "--ca", caFile, "--log-key", keyFile, bundle); err == nil || !strings.Contains(out, "events.json") {
		t.Fatalf("a changed event byte: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "audit", "verify", "--data", cfg.Data, "--public-key", keyFile); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}

	// The auditor replays the contract as it stood between the signatures.
	e2 := start(t, cfg, roles{true, true, true}, nil)
	tok, _ := e2.c.login("audit@example.com", goodPassword)
	r := e2.c.must(http.MethodGet, "/api/v1/audit/streams/contract-"+id+"/state?as_of="+between.Format(time.RFC3339Nano), nil, "Authorization", "Bearer "+tok)
	if r.Status != http.StatusOK {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	var st struct {
		State struct {
			Status  string `json:"status"`
			Parties []struct {
				ID     string `json:"id"`
				Signed bool   `json:"signed"`
			} `json:"parties"`
		} `json:"state"`
	}
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatal(err)
	}
	signed := map[string]bool{}
	for _, p := range st.State.Parties {
		signed[p.ID] = p.Signed
	}
	if st.State.Status != "signing" || !signed[tpl.person] || signed[tpl.ent] {
		t.Fatalf("as of between the signatures: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "13512345141") {
		t.Fatalf("replay shows a full phone number: %s", r.Body)
	}
	// Not for anyone else.
	ptok, _ := e2.c.login(person.login, goodPassword)
	if r := e2.c.must(http.MethodGet, "/api/v1/audit/streams/contract-"+id+"/state", nil, "Authorization", "Bearer "+ptok); r.Status != http.StatusForbidden {
		t.Fatalf("a party replaying: %d", r.Status)
	}
}

// tamperZip rewrites a zip with one byte of one file changed (the
// manifest left as it was).
func tamperZip(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			b[len(b)/2] ^= 0x01
			found = true
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no %s in the bundle", name)
	}
	return buf.Bytes()
}
