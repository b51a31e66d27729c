package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/infra/clock"
	"signet/infra/pdfdoc"
)

const entName = "杭州井然食品贸易有限公司"

// verifiedEnterprise registers login, verifies an enterprise by the legal
// representative's phone and returns its master admin and the enterprise ID.
func verifiedEnterprise(t *testing.T, e *testEnv, login string, n int) (*vclient, string) {
	t.Helper()
	u := newUser(t, e, login)
	id := u.openCase(caseSpec{uscc: usccWith(t, fmt.Sprintf("3501%02d", n)), legalRepID: idWith(t, "35010219900101123")})
	base := "/api/v1/enterprises/" + id
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	phone := fmt.Sprintf("1391234%04d", 100+n)
	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": phone}, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, phone))
	u.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusOK)
	return u, id
}

// verifiedPerson registers a phone login and verifies the person's real name.
func verifiedPerson(t *testing.T, e *testEnv, phone, name string) *vclient {
	t.Helper()
	u := newUser(t, e, phone)
	u.verifyPerson(name)
	return u
}

func (v *vclient) verifyPerson(name string) {
	v.t.Helper()
	v.upload("/api/v1/me/id-cards/portrait", photo(v.t, 40), http.StatusOK)
	v.upload("/api/v1/me/id-cards/emblem", photo(v.t, 50), http.StatusOK)
	// The carrier check's phone is another than the login, whose last code
	// (registration) is under a minute old.
	phone := "136" + v.login[3:]
	person := map[string]string{"name": name, "id_number": idWith(v.t, "35010219900307104"), "phone": phone}
	v.call(http.MethodPost, "/api/v1/me/verification/phone-code", person, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(v.t, v.env.c, phone))
	v.call(http.MethodPost, "/api/v1/me/verification/phone-code/confirm", map[string]string{"code": code}, http.StatusOK)
}

type tplIDs struct {
	id, doc, person, ent, rent string
}

// template builds a two-party template (a person 乙方 and an enterprise
// 甲方) over HTTP; sequential puts the person first.
func (v *vclient) template(enterpriseID string, sequential bool) tplIDs {
	v.t.Helper()
	var ids tplIDs
	var created struct{ ID string }
	v.call(http.MethodPost, "/api/v1/templates", map[string]any{"name": "房屋租赁合同", "contract_type": "租赁", "enterprise_id": enterpriseID, "sequential": sequential},
		http.StatusCreated).json(v.t, &created)
	ids.id = created.ID
	base := "/api/v1/templates/" + ids.id
	var doc struct{ Document struct{ ID string } }
	v.call(http.MethodPost, base+"/documents", map[string]any{"blank": true, "name": "租赁合同", "pages": 2}, http.StatusCreated).json(v.t, &doc)
	ids.doc = doc.Document.ID
	var role struct{ Role struct{ ID string } }
	v.call(http.MethodPost, base+"/roles", map[string]any{"name": "乙方", "kind": "person", "order": 1}, http.StatusCreated).json(v.t, &role)
	ids.person = role.Role.ID
	v.call(http.MethodPost, base+"/roles", map[string]any{"name": "甲方", "kind": "enterprise", "order": 2}, http.StatusCreated).json(v.t, &role)
	ids.ent = role.Role.ID
	rect := map[string]float64{"x": 100, "y": 100, "w": 150, "h": 60}
	v.call(http.MethodPost, base+"/fields", map[string]any{"kind": "signature", "role_id": ids.person, "document_id": ids.doc, "page": 2, "rect": rect}, http.StatusCreated)
	v.call(http.MethodPost, base+"/fields", map[string]any{"kind": "seal", "role_id": ids.ent, "document_id": ids.doc, "page": 2,
		"rect": map[string]float64{"x": 350, "y": 100, "w": 120, "h": 120}}, http.StatusCreated)
	var field struct{ Field struct{ ID string } }
	v.call(http.MethodPost, base+"/fields", map[string]any{"kind": "number", "name": "月租金", "required": true, "document_id": ids.doc, "page": 1, "rect": rect},
		http.StatusCreated).json(v.t, &field)
	ids.rent = field.Field.ID
	return ids
}

func sendBody(tpl tplIDs, enterpriseID, personPhone, personName, entContact string, deadline time.Time) map[string]any {
	return map[string]any{
		"template_id": tpl.id, "enterprise_id": enterpriseID, "title": "房屋租赁合同 2026-A",
		"parties": map[string]any{
			tpl.person: map[string]string{"name": personName, "contact": personPhone},
			tpl.ent:    map[string]string{"name": "井然", "contact": entContact, "enterprise_name": entName},
		},
		"values":           map[string]string{tpl.rent: "3500"},
		"signing_deadline": deadline.Format(time.RFC3339),
	}
}

type contractView struct {
	ID      string `json:"id"`
	Number  string `json:"number"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Parties []struct {
		ID     string `json:"id"`
		Role   string `json:"role"`
		Status string `json:"status"`
	} `json:"parties"`
	History []struct {
		Type    string `json:"type"`
		Summary struct {
			En string `json:"en"`
			Zh string `json:"zh"`
		} `json:"summary"`
	} `json:"history"`
	Documents []struct {
		ID          string `json:"id"`
		SentSHA256  string `json:"sent_sha256"`
		FinalSHA256 string `json:"final_sha256"`
	} `json:"documents"`
	Sealing *struct {
		SealedAt          *time.Time `json:"sealed_at"`
		CertificateSHA256 string     `json:"certificate_sha256"`
		Attempts          int        `json:"attempts"`
		LastFailure       *struct {
			Step    string    `json:"step"`
			Reason  string    `json:"reason"`
			RetryAt time.Time `json:"retry_at"`
		} `json:"last_failure"`
	} `json:"sealing"`
}

func (v *vclient) contract(id string) (contractView, string) {
	v.t.Helper()
	var out contractView
	r := v.call(http.MethodGet, "/api/v1/contracts/"+id, nil, http.StatusOK)
	r.json(v.t, &out)
	return out, string(r.Body)
}

func (v *vclient) send(body map[string]any) (id, number string) {
	v.t.Helper()
	var out struct{ ID, Number, Status string }
	v.call(http.MethodPost, "/api/v1/contracts", body, http.StatusCreated).json(v.t, &out)
	return out.ID, out.Number
}

// signAs requests the signing code and signs with it.
func (v *vclient) signAs(contractID, partyID string, extra map[string]string, want int) response {
	v.t.Helper()
	base := "/api/v1/contracts/" + contractID + "/parties/" + partyID
	codeReq := map[string]string{}
	if extra["enterprise_id"] != "" {
		codeReq["enterprise_id"] = extra["enterprise_id"]
	}
	v.call(http.MethodPost, base+"/sign-code", codeReq, http.StatusAccepted)
	body := map[string]string{"code": codeRe.FindString(lastSMS(v.t, v.env.c, v.login))}
	for k, x := range extra {
		body[k] = x
	}
	return v.call(http.MethodPost, base+"/signature", body, want)
}

func (v *vclient) defaultSeal(enterpriseID string) string {
	v.t.Helper()
	var seals []struct {
		ID      string `json:"id"`
		Default bool   `json:"default"`
	}
	v.call(http.MethodGet, "/api/v1/enterprises/"+enterpriseID+"/seals", nil, http.StatusOK).json(v.t, &seals)
	for _, s := range seals {
		if s.Default {
			return s.ID
		}
	}
	v.t.Fatalf("enterprise %s has no default seal: %+v", enterpriseID, seals)
	return ""
}

func (e *testEnv) contractEvents(id string) []string {
	e.t.Helper()
	envs, err := e.app.store.ReadStream(context.Background(), contract.StreamOf(id), 1, event.Forwards, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, env := range envs {
		out = append(out, env.Type)
	}
	return out
}

func TestSequentialContractFromTemplateToAPerson(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138101", 1)
	tpl := boss.template(ent, true)
	const personPhone = "13512345101"
	id, number := boss.send(sendBody(tpl, ent, personPhone, "林某某", boss.login, time.Now().Add(7*24*time.Hour)))
	if !strings.HasPrefix(number, "HT") {
		t.Fatalf("contract number %q", number)
	}
	// Editing the template later changes nothing in the contract sent from it.
	var edited struct {
		Version uint64 `json:"version"`
		Fields  []any  `json:"fields"`
	}
	boss.call(http.MethodGet, "/api/v1/templates/"+tpl.id, nil, http.StatusOK).json(t, &edited)
	boss.call(http.MethodPatch, "/api/v1/templates/"+tpl.id, map[string]any{"name": "房屋租赁合同（新版）"}, http.StatusOK)
	boss.call(http.MethodDelete, "/api/v1/templates/"+tpl.id+"/fields/"+tpl.rent, nil, http.StatusNoContent)
	var sent struct {
		Template struct{ Version uint64 }
		Fields   []any
		Values   map[string]string
	}
	boss.call(http.MethodGet, "/api/v1/contracts/"+id, nil, http.StatusOK).json(t, &sent)
	if sent.Template.Version != edited.Version || len(sent.Fields) != len(edited.Fields) || sent.Values[tpl.rent] != "3500" {
		t.Fatalf("the contract follows its template's edits: %+v (template was at version %d with %d fields)", sent, edited.Version, len(edited.Fields))
	}
	// Only the party whose turn it is hears of it: the person, by SMS with a link.
	if sms := lastSMS(t, e.c, personPhone); !strings.Contains(sms, "/contracts/"+id) || !strings.Contains(sms, "房屋租赁合同") {
		t.Fatalf("invitation SMS %q", sms)
	}
	// The enterprise hears of it only when its turn comes.
	if r := e.c.must(http.MethodGet, "/dev/messages?to="+boss.login, nil); strings.Contains(string(r.Body), "/contracts/"+id) {
		t.Fatalf("the second party was invited before its turn: %s", r.Body)
	}
	// The enterprise may not countersign before the person.
	seal := boss.defaultSeal(ent)
	base := "/api/v1/contracts/" + id + "/parties/" + tpl.ent
	boss.refused(http.MethodPost, base+"/sign-code", map[string]string{"enterprise_id": ent}, http.StatusUnprocessableEntity, "not_your_turn")

	// The person registers, sees the contract, verifies and signs.
	person := newUser(t, e, personPhone)
	if v, _ := person.contract(id); v.Status != "signing" || v.Number != number {
		t.Fatalf("the person's view: %+v", v)
	}
	person.refused(http.MethodPost, "/api/v1/contracts/"+id+"/parties/"+tpl.person+"/sign-code", nil, http.StatusUnprocessableEntity, "person_not_verified")
	person.verifyPerson("林某某")
	person.signAs(id, tpl.person, nil, http.StatusOK)

	if sms := lastSMS(t, e.c, boss.login); !strings.Contains(sms, "/contracts/"+id) {
		t.Fatalf("the enterprise is invited once the person signed: %q", sms)
	}
	// The enterprise countersigns with its seal; the contract is completed.
	var res struct{ Status string }
	boss.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": seal}, http.StatusOK).json(t, &res)
	if res.Status != "completed" {
		t.Fatalf("after both signatures: %+v", res)
	}
	// Signing again is refused, and records nothing.
	before := e.contractEvents(id)
	boss.refused(http.MethodPost, base+"/signature", map[string]string{"code": "123456", "enterprise_id": ent, "seal_id": seal}, http.StatusUnprocessableEntity, "contract_completed")
	if got := e.contractEvents(id); len(got) != len(before) {
		t.Fatalf("a refused signature wrote %v", got[len(before):])
	}
	want := "ContractCreated,ContractSent,PartySigned,PartySigned,ContractFullySigned,ContractSealed,ContractCompleted"
	if got := strings.Join(before, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}

	v, raw := boss.contract(id)
	if v.Status != "completed" || len(v.Parties) != 2 || v.Parties[0].Status != "signed" || v.Parties[1].Status != "signed" {
		t.Fatalf("detail view: %s", raw)
	}
	if len(v.History) < 5 || strings.Contains(raw, personPhone) {
		t.Fatalf("history or masking: %s", raw)
	}
	// The sender hears of completion.
	if sms := lastSMS(t, e.c, boss.login); !strings.Contains(sms, number) {
		t.Fatalf("completion notice %q", sms)
	}
	// Anyone else is refused.
	stranger := newUser(t, e, "13512345999")
	stranger.refused(http.MethodGet, "/api/v1/contracts/"+id, nil, http.StatusForbidden, "not_a_party")
	// The original PDF as sent.
	r := person.call(http.MethodGet, "/api/v1/contracts/"+id+"/documents/"+tpl.doc+"?version=sent", nil, http.StatusOK)
	if !strings.HasPrefix(string(r.Body), "%PDF-") || r.Header.Get("Content-Type") != "application/pdf" || sha(r.Body) != v.Documents[0].SentSHA256 {
		t.Fatalf("document download: %s %q", r.Header.Get("Content-Type"), r.Body[:min(20, len(r.Body))])
	}
	// The final PDF: stamped, and signed by both parties, the person first.
	final := person.call(http.MethodGet, "/api/v1/contracts/"+id+"/documents/"+tpl.doc, nil, http.StatusOK).Body
	if sha(final) != v.Documents[0].FinalSHA256 || v.Sealing == nil || v.Sealing.SealedAt == nil {
		t.Fatalf("final document %s, view %+v", sha(final), v.Documents[0])
	}
	sigs := validSignatures(t, e, final)
	if len(sigs) != 2 || sigs[0] != "林某某" || sigs[1] != "杭州井然食品贸易有限公司" {
		t.Fatalf("signers %q", sigs)
	}
	cert := boss.call(http.MethodGet, "/api/v1/contracts/"+id+"/certificate", nil, http.StatusOK).Body
	if sha(cert) != v.Sealing.CertificateSHA256 {
		t.Fatalf("certificate of completion %s, recorded %s", sha(cert), v.Sealing.CertificateSHA256)
	}
	if text := pdfText(t, cert); !strings.Contains(text, number) || !strings.Contains(text, "林某某") || strings.Contains(text, personPhone) {
		t.Fatalf("certificate of completion text:\n%s", text)
	}
	stranger.refused(http.MethodGet, "/api/v1/contracts/"+id+"/certificate", nil, http.StatusForbidden, "not_a_party")
}

func TestParallelSigningRejectionAndRevocation(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138102", 2)
	tpl := boss.template(ent, false)
	person := verifiedPerson(t, e, "13512345102", "林某某")
	deadline := time.Now().Add(72 * time.Hour)

	// Parallel: the enterprise may seal first, through a member granted the seal.
	id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, deadline))
	seal := boss.defaultSeal(ent)
	var inv struct{ Token string }
	boss.call(http.MethodPost, "/api/v1/enterprises/"+ent+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	clerk := newUser(t, e, "13800138202")
	clerk.call(http.MethodPost, "/api/v1/invitations/"+inv.Token+"/accept", nil, http.StatusOK)
	head := e.head()
	r := clerk.signAs(id, tpl.ent, map[string]string{"enterprise_id": ent, "seal_id": seal}, http.StatusForbidden)
	if r.errorCode() != "seal_not_granted" || e.head() != head {
		t.Fatalf("a member without the seal: %s (and no event)", r.Body)
	}
	boss.call(http.MethodPut, "/api/v1/enterprises/"+ent+"/seals/"+seal+"/grants/"+accountIDOf(t, clerk), nil, http.StatusNoContent)
	// A refused signature does not spend the code.
	code := codeRe.FindString(lastSMS(t, e.c, clerk.login))
	clerk.call(http.MethodPost, "/api/v1/contracts/"+id+"/parties/"+tpl.ent+"/signature", map[string]string{"code": code, "enterprise_id": ent, "seal_id": seal}, http.StatusOK)
	// The person signs with an uploaded handwriting image.
	var sig struct{ ID string }
	r = person.must(http.MethodPost, "/api/v1/me/signatures", string(photo(t, 90)), "Authorization", "Bearer "+person.token, "Content-Type", "image/png")
	if r.Status != http.StatusCreated {
		t.Fatalf("signature image: %d %s", r.Status, r.Body)
	}
	r.json(t, &sig)
	person.signAs(id, tpl.person, map[string]string{"signature_id": sig.ID}, http.StatusOK)
	boss.pos = person.pos
	v, raw := boss.contract(id)
	if v.Status != "completed" || !strings.Contains(raw, `"signature_kind":"image"`) || !strings.Contains(raw, `"seal_name"`) {
		t.Fatalf("parallel: %s", raw)
	}

	// Rejection ends the contract.
	id2, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, deadline))
	person.refused(http.MethodPost, "/api/v1/contracts/"+id2+"/parties/"+tpl.person+"/rejection", map[string]string{"reason": ""}, http.StatusBadRequest, "missing_reason")
	person.call(http.MethodPost, "/api/v1/contracts/"+id2+"/parties/"+tpl.person+"/rejection", map[string]string{"reason": "租金有误"}, http.StatusOK)
	boss.refused(http.MethodPost, "/api/v1/contracts/"+id2+"/parties/"+tpl.ent+"/sign-code", map[string]string{"enterprise_id": ent}, http.StatusUnprocessableEntity, "contract_rejected")
	boss.pos = person.pos
	if v, raw := boss.contract(id2); v.Status != "rejected" || !strings.Contains(raw, "租金有误") {
		t.Fatalf("rejected: %s", raw)
	}

	// Revocation: only the sender's side, before completion.
	id3, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, deadline))
	person.refused(http.MethodPost, "/api/v1/contracts/"+id3+"/revocation", map[string]string{"reason": "x"}, http.StatusForbidden, "not_the_sender")
	boss.call(http.MethodPost, "/api/v1/contracts/"+id3+"/revocation", map[string]string{"reason": "条款需修改"}, http.StatusOK)
	person.refused(http.MethodPost, "/api/v1/contracts/"+id3+"/parties/"+tpl.person+"/sign-code", nil, http.StatusUnprocessableEntity, "contract_revoked")
	boss.refused(http.MethodPost, "/api/v1/contracts/"+id+"/revocation", map[string]string{"reason": "x"}, http.StatusUnprocessableEntity, "contract_completed")
	if sms := lastSMS(t, e.c, person.login); !strings.Contains(sms, "条款需修改") {
		t.Fatalf("the person is told of the revocation: %q", sms)
	}
}

func TestDeadlineExpiryExactlyOnce(t *testing.T) {
	clk := clock.NewFake(time.Now())
	e := start(t, testConfig(t), roles{true, true, true}, clk)
	boss, ent := verifiedEnterprise(t, e, "13800138103", 3)
	tpl := boss.template(ent, true)
	id, _ := boss.send(sendBody(tpl, ent, "13512345103", "林某某", boss.login, clk.Now().Add(2*time.Hour)))
	boss.contract(id) // the read models have seen it

	d := e.app.deadlines()
	if n, err := d.Tick(context.Background()); err != nil || n != 0 {
		t.Fatalf("before the deadline: %d %v", n, err)
	}
	clk.Advance(3 * time.Hour)
	// Several schedulers at once: the contract expires exactly once.
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := d.Tick(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2] + counts[3]; total != 1 {
		t.Fatalf("expired %v times", counts)
	}
	if got := strings.Join(e.contractEvents(id), ","); got != "ContractCreated,ContractSent,ContractExpired" {
		t.Fatalf("events %s", got)
	}
	boss.pos = strconv.FormatUint(e.head(), 10)
	if v, _ := boss.contract(id); v.Status != "expired" {
		t.Fatalf("status %s", v.Status)
	}
}

func TestApprovalBeforeSending(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138104", 4)
	tpl := boss.template(ent, true)
	// A member sends; the master admin approves.
	var inv struct{ Token string }
	boss.call(http.MethodPost, "/api/v1/enterprises/"+ent+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	clerk := newUser(t, e, "13800138204")
	clerk.call(http.MethodPost, "/api/v1/invitations/"+inv.Token+"/accept", nil, http.StatusOK)
	bossID := accountIDOf(t, boss)
	boss.call(http.MethodPut, "/api/v1/enterprises/"+ent+"/approval-policy", map[string]any{"required": true, "approvers": []string{bossID}}, http.StatusOK)

	deadline := time.Now().Add(72 * time.Hour)
	var out struct{ ID, Status string }
	clerk.call(http.MethodPost, "/api/v1/contracts", sendBody(tpl, ent, "13512345104", "林某某", boss.login, deadline), http.StatusCreated).json(t, &out)
	if out.Status != "pending_approval" {
		t.Fatalf("a member's contract: %+v", out)
	}
	var pending []struct {
		ID string `json:"contract_id"`
	}
	boss.pos = clerk.pos // read after the clerk's write
	boss.call(http.MethodGet, "/api/v1/approvals", nil, http.StatusOK).json(t, &pending)
	if len(pending) != 1 || pending[0].ID != out.ID {
		t.Fatalf("needs my approval: %+v", pending)
	}
	clerk.refused(http.MethodPost, "/api/v1/contracts/"+out.ID+"/approval", nil, http.StatusForbidden, "not_an_approver")
	boss.call(http.MethodPost, "/api/v1/contracts/"+out.ID+"/approval", nil, http.StatusOK)
	if got := strings.Join(e.contractEvents(out.ID), ","); got != "ContractCreated,ContractSubmittedForApproval,ContractApproved,ContractSent" {
		t.Fatalf("events %s", got)
	}
	if sms := lastSMS(t, e.c, "13512345104"); !strings.Contains(sms, out.ID) {
		t.Fatalf("the party hears of it once approved: %q", sms)
	}

	// A rejected approval never goes out.
	clerk.call(http.MethodPost, "/api/v1/contracts", sendBody(tpl, ent, "13512345105", "林某某", boss.login, deadline), http.StatusCreated).json(t, &out)
	boss.call(http.MethodPost, "/api/v1/contracts/"+out.ID+"/approval-rejection", map[string]string{"reason": "金额超预算"}, http.StatusOK)
	clerk.pos = boss.pos
	if v, _ := clerk.contract(out.ID); v.Status != "approval_rejected" {
		t.Fatalf("status %s", v.Status)
	}
	if r := e.c.must(http.MethodGet, "/dev/messages?to=13512345105", nil); strings.Contains(string(r.Body), out.ID) {
		t.Fatalf("a rejected contract was announced to its party: %s", r.Body)
	}
}

func TestTwentySimultaneousSignaturesMakeOne(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138105", 5)
	tpl := boss.template(ent, false)
	person := verifiedPerson(t, e, "13512345106", "林某某")
	id, _ := boss.send(sendBody(tpl, ent, person.login, "林某某", boss.login, time.Now().Add(time.Hour)))
	base := "/api/v1/contracts/" + id + "/parties/" + tpl.person
	person.call(http.MethodPost, base+"/sign-code", nil, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, person.login))
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.c.do(http.MethodPost, base+"/signature", map[string]string{"code": code}, "Authorization", "Bearer "+person.token)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch {
		case s == http.StatusOK:
			ok++
		case s < 400 || s >= 500:
			t.Errorf("status %d", s)
		}
	}
	signed := 0
	for _, typ := range e.contractEvents(id) {
		if typ == contract.TypePartySigned {
			signed++
		}
	}
	if ok != 1 || signed != 1 {
		t.Fatalf("%d successes and %d PartySigned from 20 requests: %v", ok, signed, statuses)
	}
}

func TestSendingSpendsQuotaAndRefusesWithoutIt(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138106", 6)
	tpl := boss.template(ent, true)
	deadline := time.Now().Add(72 * time.Hour)
	// Bad input is refused with a field and writes nothing.
	head := e.head()
	bad := sendBody(tpl, ent, "12345", "林某某", boss.login, deadline)
	boss.refused(http.MethodPost, "/api/v1/contracts", bad, http.StatusBadRequest, "invalid_contact")
	if e.head() != head {
		t.Fatal("a refused send wrote events")
	}
	// 14 sends at once for 10 contracts of quota: exactly 10 go out.
	var wg sync.WaitGroup
	statuses := make([]int, 14)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.c.do(http.MethodPost, "/api/v1/contracts", sendBody(tpl, ent, fmt.Sprintf("135123452%02d", i), "林某某", boss.login, deadline),
				"Authorization", "Bearer "+boss.token)
			if err != nil {
				t.Error(err)
				return
			}
			if r.Status != http.StatusCreated && r.errorCode() != "quota_exhausted" {
				t.Errorf("send %d: %d %s", i, r.Status, r.Body)
			}
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	if n := strings.Count(fmt.Sprint(statuses), "201"); n != 10 {
		t.Fatalf("%d contracts sent on a quota of 10: %v", n, statuses)
	}
	if used, _, err := commands.QuotaUsed(context.Background(), e.app.store, enterprise.QuotaStream(ent)); err != nil || used != 10 {
		t.Fatalf("the quota ledger counts %d (%v)", used, err)
	}
	head = e.head()
	boss.refused(http.MethodPost, "/api/v1/contracts", sendBody(tpl, ent, "13512345299", "林某某", boss.login, deadline), http.StatusUnprocessableEntity, "quota_exhausted")
	if e.head() != head {
		t.Fatal("a refused send wrote events")
	}
}

// multipartSend posts an ad hoc contract: the spec as JSON and the PDFs by document ID.
func (v *vclient) multipartSend(spec map[string]any, docs map[string][]byte) response {
	v.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	js, _ := json.Marshal(spec)
	if err := w.WriteField("spec", string(js)); err != nil {
		v.t.Fatal(err)
	}
	for id, data := range docs {
		part, err := w.CreateFormFile(id, id+".pdf")
		if err != nil {
			v.t.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	r := v.must(http.MethodPost, "/api/v1/contracts", b.String(), "Authorization", "Bearer "+v.token, "Content-Type", w.FormDataContentType())
	if p := r.Header.Get("Signet-Position"); p != "" {
		v.pos = p
	}
	return r
}

func TestAdHocContractWithPreview(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, ent := verifiedEnterprise(t, e, "13800138107", 7)
	pdf, err := pdfdoc.New().Blank(2)
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{
		"enterprise_id": ent, "title": "保密协议", "contract_type": "保密", "sequential": true,
		"documents": []map[string]string{{"id": "nda", "name": "保密协议正文"}},
		"roles": []map[string]any{
			{"id": "a", "name": "甲方", "kind": "enterprise", "order": 1},
			{"id": "b", "name": "乙方", "kind": "person", "order": 2},
		},
		"fields": []map[string]any{
			{"kind": "seal", "role_id": "a", "document_id": "nda", "page": 2, "rect": map[string]float64{"x": 60, "y": 60, "w": 120, "h": 120}},
			{"kind": "signature", "role_id": "b", "document_id": "nda", "page": 2, "rect": map[string]float64{"x": 300, "y": 60, "w": 150, "h": 60}},
			{"id": "term", "kind": "choice", "name": "保密期限", "choices": []string{"一年", "三年"}, "required": true, "document_id": "nda", "page": 1,
				"rect": map[string]float64{"x": 60, "y": 700, "w": 100, "h": 20}},
		},
		"parties": map[string]any{
			"a": map[string]string{"name": "井然", "contact": boss.login, "enterprise_name": entName},
			"b": map[string]string{"name": "林某某", "contact": "lin@example.com"},
		},
		"values":           map[string]string{"term": "三年"},
		"signing_deadline": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
	}
	head := e.head()
	// Refusals write nothing: a field off its page, an image instead of a PDF.
	spec["dry_run"] = true
	var preview struct {
		Status  string
		Preview struct {
			Documents []struct {
				Pages []struct{ W, H float64 }
			}
			Parties []struct{ Contact struct{ Value string } }
		}
	}
	r := boss.multipartSend(spec, map[string][]byte{"nda": pdf})
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	}
	r.json(t, &preview)
	if preview.Status != "preview" || len(preview.Preview.Documents) != 1 || len(preview.Preview.Documents[0].Pages) != 2 {
		t.Fatalf("preview %s", r.Body)
	}
	if r := boss.multipartSend(spec, map[string][]byte{"nda": photo(t, 5)}); r.Status != http.StatusUnsupportedMediaType || r.errorCode() != "not_a_pdf" {
		t.Fatalf("a PNG as the document: %d %s", r.Status, r.Body)
	}
	fields := spec["fields"].([]map[string]any)
	fields[0]["page"] = 3
	if r := boss.multipartSend(spec, map[string][]byte{"nda": pdf}); r.Status != http.StatusBadRequest || r.errorCode() != "no_such_page" {
		t.Fatalf("a field on page 3 of 2: %d %s", r.Status, r.Body)
	}
	fields[0]["page"] = 2
	if e.head() != head {
		t.Fatal("a preview or a refusal wrote events")
	}
	delete(spec, "dry_run")
	var out struct{ ID, Status string }
	r = boss.multipartSend(spec, map[string][]byte{"nda": pdf})
	if r.Status != http.StatusCreated {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	r.json(t, &out)
	v, raw := boss.contract(out.ID)
	if v.Status != "signing" || v.Title != "保密协议" || !strings.Contains(raw, "三年") {
		t.Fatalf("ad hoc contract: %s", raw)
	}
	got := boss.call(http.MethodGet, "/api/v1/contracts/"+out.ID+"/documents/nda", nil, http.StatusOK)
	if !bytes.Equal(got.Body, pdf) {
		t.Fatal("the document as sent differs from the upload")
	}
}

func TestAPersonSendsFromAPersonalTemplate(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	boss, _ := verifiedEnterprise(t, e, "13800138108", 8)
	sender := newUser(t, e, "13512345108")
	tpl := sender.template("", true) // a personal template
	body := sendBody(tpl, "", "13512345109", "林某某", boss.login, time.Now().Add(24*time.Hour))
	sender.refused(http.MethodPost, "/api/v1/contracts", body, http.StatusUnprocessableEntity, "person_not_verified")
	sender.verifyPerson("王小二")
	id, _ := sender.send(body)
	// The personal quota ledger counts it, and the profile shows it.
	if used, _, err := commands.QuotaUsed(context.Background(), e.app.store, account.QuotaStream(accountIDOf(t, sender))); err != nil || used != 1 {
		t.Fatalf("personal ledger %d %v", used, err)
	}
	if p, raw := sender.profile(); p.Quota.PersonalContracts != 10 || !strings.Contains(raw, `"used":1`) || !strings.Contains(raw, `"left":9`) {
		t.Fatalf("profile quota: %s", raw)
	}
	// Nobody else may send from a personal template.
	other := verifiedPerson(t, e, "13512345110", "李四")
	other.refused(http.MethodPost, "/api/v1/contracts", body, http.StatusForbidden, "not_template_user")
	if v, _ := sender.contract(id); v.Status != "signing" {
		t.Fatalf("status %s", v.Status)
	}
	boss.pos = sender.pos
	boss.contract(id) // the enterprise party's contact sees it
}
