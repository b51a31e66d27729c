package readapi_test

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/infra/blob"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb/redistest"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/accounts"
	"signet/projections/contracts"
	"signet/projections/enterprises"
	"signet/projections/templates"
	"signet/readapi"
)

// lyingFiles is a file store that hands out other bytes than were stored
// for some hashes, as a broken Files implementation would.
type lyingFiles struct {
	*blob.Store
	lie map[string][]byte
}

func (f lyingFiles) Get(ctx context.Context, sha string) ([]byte, blob.Ref, error) {
	if b, ok := f.lie[sha]; ok {
		return b, blob.Ref{SHA256: sha, Size: int64(len(b)), MediaType: "application/pdf"}, nil
	}
	return f.Store.Get(ctx, sha)
}

type contractEnv struct {
	*env
	blobs   *blob.Store
	blobDir string
	lie     map[string][]byte
}

func newContractEnv(t *testing.T) *contractEnv {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{accounts.Projection{}, enterprises.Projection{},
		contracts.Projection{}, templates.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blobs, err := blob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &contractEnv{env: &env{t: t, ctx: context.Background(), store: store, db: db, runner: runner,
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, enterprise.Shanghai)}, blobs: blobs, blobDir: dir, lie: map[string][]byte{}}
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{
		Profiles:    accounts.Reader{DB: db},
		Enterprises: enterprises.Reader{DB: db, Now: func() time.Time { return e.now }},
		Files:       lyingFiles{blobs, e.lie},
		Contracts:   contracts.Reader{DB: db},
		Templates:   templates.Reader{DB: db},
		LoginKeys:   accounts.Reader{DB: db},
		Waiter:      runner,
		Head:        store.Head,
		Verify:      verify,
		WaitBound:   100 * time.Millisecond,
	})
	e.srv = httptest.NewServer(web.Common(r))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *contractEnv) register(id, login string) {
	e.t.Helper()
	l, err := account.ParseLogin(login)
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := account.NewEvent(uuid.NewString(), account.AccountRegistered{AccountID: id, LoginKind: l.Kind(), Login: l.String(),
		Name: id, RegisteredAt: e.now}, event.Metadata{Actor: id, OccurredAt: e.now})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, account.StreamOf(id), event.NoStream, n); err != nil {
		e.t.Fatal(err)
	}
}

func (e *contractEnv) appendTo(stream string, evs ...event.New) {
	e.t.Helper()
	if _, err := e.store.Append(e.ctx, stream, event.Any, evs...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *contractEnv) contract(id, actor string, evs ...contract.Event) {
	e.t.Helper()
	for _, ev := range evs {
		n, err := contract.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, OccurredAt: e.now})
		if err != nil {
			e.t.Fatal(err)
		}
		e.appendTo(contract.StreamOf(id), n)
	}
}

func (e *contractEnv) template(id, actor string, evs ...template.Event) {
	e.t.Helper()
	for _, ev := range evs {
		n, err := template.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, OccurredAt: e.now})
		if err != nil {
			e.t.Fatal(err)
		}
		e.appendTo("template-"+id, n)
	}
}

func (e *contractEnv) put(data string) layout.File {
	e.t.Helper()
	ref, err := e.blobs.Put(e.ctx, []byte(data), "application/pdf")
	if err != nil {
		e.t.Fatal(err)
	}
	return layout.File{SHA256: ref.SHA256, Size: ref.Size, MediaType: ref.MediaType}
}

// download GETs a document and returns the response (body read into body).
func (e *contractEnv) download(path, token string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

const (
	entName   = "杭州井然食品贸易有限公司"
	zhangPhon = "13912345678"
	liEmail   = "li.si@example.com"
)

func TestContractAndTemplateRoutes(t *testing.T) {
	e := newContractEnv(t)
	eid := e.verifiedCase("acct-owner", "acct-member")
	e.register("acct-zhang", zhangPhon)
	e.register("acct-li", liEmail)
	e.register("acct-stranger", "13700001111")

	uploaded := e.put("%PDF-1.7 as uploaded")
	sentFile := e.put("%PDF-1.7 as sent, values filled in")
	missing := layout.File{SHA256: strings.Repeat("ab", 32), Size: 1, MediaType: "application/pdf"}
	tampered := e.put("%PDF-1.7 tampered later")
	lied := e.put("%PDF-1.7 the store lies about")
	e.lie[lied.SHA256] = []byte("%PDF-1.7 something else")
	docs := []layout.Document{
		{ID: "doc-1", Name: "采购合同", File: uploaded, Pages: []layout.Page{layout.A4}},
		{ID: "doc-2", Name: "附件.pdf", File: missing, Pages: []layout.Page{layout.A4}},
		{ID: "doc-3", Name: "tampered.pdf", File: tampered, Pages: []layout.Page{layout.A4}},
		{ID: "doc-4", Name: "lied.pdf", File: lied, Pages: []layout.Page{layout.A4}},
	}
	deadline := e.now.Add(7 * 24 * time.Hour).UTC()
	persons := []contract.Party{
		{ID: "role-b", Role: "乙方", Kind: layout.Person, Order: 1, Name: "张三", Contact: contract.Contact{Kind: "phone", Value: zhangPhon}},
		{ID: "role-c", Role: "丙方", Kind: layout.Person, Order: 2, Name: "李四", Contact: contract.Contact{Kind: "email", Value: liEmail}},
	}
	// A: sent by the enterprise's master admin to two persons.
	a := uuid.NewString()
	e.contract(a, "acct-owner", contract.ContractCreated{ContractID: a, Number: "HT20261201-AAAAAAAA", Title: "采购合同",
		Sender: contract.Sender{AccountID: "acct-owner", EnterpriseID: eid, Name: entName, PersonName: "井然"}, Documents: docs,
		Parties: persons, Sequential: true, SigningDeadline: deadline, CreatedAt: e.now},
		contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: sentFile.SHA256}, {DocumentID: "doc-2", SHA256: missing.SHA256},
			{DocumentID: "doc-3", SHA256: tampered.SHA256}, {DocumentID: "doc-4", SHA256: lied.SHA256}}, SentBy: "acct-owner", SentAt: e.now})
	// B: a person sends to the enterprise (by its name).
	b := uuid.NewString()
	e.contract(b, "acct-solo", contract.ContractCreated{ContractID: b, Number: "HT20261201-BBBBBBBB", Title: "服务合同",
		Sender: contract.Sender{AccountID: "acct-solo", Name: "赵六", PersonName: "赵六"}, Documents: docs[:1],
		Parties: []contract.Party{{ID: "role-a", Role: "甲方", Kind: layout.Enterprise, Order: 1, Name: "王五",
			Contact: contract.Contact{Kind: "phone", Value: "13800138000"}, EnterpriseName: entName}},
		SigningDeadline: deadline, CreatedAt: e.now},
		contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "doc-1", SHA256: uploaded.SHA256}}, SentBy: "acct-solo", SentAt: e.now})
	// C: waits for acct-approver's approval.
	c := uuid.NewString()
	e.contract(c, "acct-owner", contract.ContractCreated{ContractID: c, Number: "HT20261201-CCCCCCCC", Title: "待审合同",
		Sender: contract.Sender{AccountID: "acct-owner", EnterpriseID: eid, Name: entName, PersonName: "井然"}, Documents: docs[:1],
		Parties: persons[:1], SigningDeadline: deadline, CreatedAt: e.now},
		contract.ContractSubmittedForApproval{Approvers: []string{"acct-approver"}, SubmittedAt: e.now})

	personal, entTpl, other := uuid.NewString(), uuid.NewString(), uuid.NewString()
	tplDoc := layout.Document{ID: "tdoc", Name: "模板 正文", File: uploaded, Pages: []layout.Page{layout.A4}}
	e.template(personal, "acct-owner", template.TemplateCreated{TemplateID: personal, Owner: template.Owner{AccountID: "acct-owner"},
		Name: "我的模板", CreatedBy: "acct-owner", CreatedAt: e.now}, template.TemplateDocumentAdded{Document: tplDoc, AddedAt: e.now})
	e.template(entTpl, "acct-member", template.TemplateCreated{TemplateID: entTpl, Owner: template.Owner{EnterpriseID: eid, AccountID: "acct-member"},
		Name: "企业模板", CreatedBy: "acct-member", CreatedAt: e.now}, template.TemplateDocumentAdded{Document: tplDoc, AddedAt: e.now})
	e.template(other, "acct-solo", template.TemplateCreated{TemplateID: other, Owner: template.Owner{AccountID: "acct-solo"},
		Name: "别人的模板", CreatedBy: "acct-solo", CreatedAt: e.now})
	e.sync()

	// Tamper with a stored file behind the store's back.
	path := filepath.Join(e.blobDir, "sha256", tampered.SHA256[:2], tampered.SHA256[2:])
	if err := os.WriteFile(path, []byte("%PDF-1.7 changed on disk"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, path, token string
		status            int
		has               []string
	}{
		{"sender", "/api/v1/contracts/" + a, "test:acct-owner", 200, []string{`"status":"signing"`, `"value":"139****5678"`,
			`"value":"l***@example.com"`, `"sent_sha256":"` + sentFile.SHA256 + `"`, `"status":"to_sign"`, `"status":"waiting"`, `"history":[`}},
		{"party by phone", "/api/v1/contracts/" + a, "test:acct-zhang", 200, []string{`"id":"` + a + `"`}},
		{"party by email", "/api/v1/contracts/" + a, "test:acct-li", 200, []string{`"id":"` + a + `"`}},
		{"plain member of the sending enterprise", "/api/v1/contracts/" + a, "test:acct-member", 403, []string{`"code":"not_a_party"`}},
		{"stranger", "/api/v1/contracts/" + a, "test:acct-stranger", 403, []string{`"code":"not_a_party"`}},
		{"account without a profile", "/api/v1/contracts/" + a, "test:acct-ghost", 403, []string{`"code":"not_a_party"`}},
		{"unknown contract", "/api/v1/contracts/" + uuid.NewString(), "test:acct-owner", 404, []string{`"code":"contract_not_found"`}},
		{"contract ID that is no ID", "/api/v1/contracts/a:b*", "test:acct-owner", 404, []string{`"code":"contract_not_found"`}},
		{"no token", "/api/v1/contracts/" + a, "", 401, []string{`"code":"unauthenticated"`}},
		{"member of the party enterprise", "/api/v1/contracts/" + b, "test:acct-member", 200, []string{`"enterprise_name":"` + entName + `"`}},
		{"personal sender", "/api/v1/contracts/" + b, "test:acct-solo", 200, []string{`"number":"HT20261201-BBBBBBBB"`}},
		{"approver", "/api/v1/contracts/" + c, "test:acct-approver", 200, []string{`"status":"pending_approval"`, `"approvers":["acct-approver"]`}},
		{"approvals of the approver", "/api/v1/approvals", "test:acct-approver", 200, []string{`"contract_id":"` + c + `"`, `"title":"待审合同"`}},
		{"approvals of another", "/api/v1/approvals", "test:acct-owner", 200, []string{`[]`}},
		{"approvals with a bad limit", "/api/v1/approvals?limit=0", "test:acct-approver", 400, []string{`"code":"invalid_limit"`}},
		{"unknown document", "/api/v1/contracts/" + a + "/documents/doc-9", "test:acct-zhang", 404, []string{`"code":"document_not_found"`}},
		{"document of a contract one is no party to", "/api/v1/contracts/" + a + "/documents/doc-1", "test:acct-stranger", 403, []string{`"code":"not_a_party"`}},
		{"document whose file is gone", "/api/v1/contracts/" + a + "/documents/doc-2", "test:acct-zhang", 404, []string{`"code":"file_not_found"`}},
		{"document changed on disk", "/api/v1/contracts/" + a + "/documents/doc-3", "test:acct-zhang", 500, []string{`"code":"internal"`}},
		{"document the store lies about", "/api/v1/contracts/" + a + "/documents/doc-4", "test:acct-zhang", 500, []string{`"code":"internal"`}},
		{"my templates", "/api/v1/templates", "test:acct-owner", 200, []string{`"id":"` + personal + `"`, `"name":"我的模板"`}},
		{"my enterprise's templates", "/api/v1/templates?enterprise_id=" + eid, "test:acct-member", 200, []string{`"id":"` + entTpl + `"`}},
		{"templates of an enterprise one is not in", "/api/v1/templates?enterprise_id=" + eid, "test:acct-solo", 403, []string{`"code":"not_enterprise_member"`}},
		{"templates of no enterprise", "/api/v1/templates?enterprise_id=a:b", "test:acct-solo", 403, []string{`"code":"not_enterprise_member"`}},
		{"templates with a bad limit", "/api/v1/templates?limit=x", "test:acct-owner", 400, []string{`"code":"invalid_limit"`}},
		{"personal template to its owner", "/api/v1/templates/" + personal, "test:acct-owner", 200, []string{`"documents":[{"id":"tdoc"`}},
		{"personal template to another", "/api/v1/templates/" + personal, "test:acct-member", 403, []string{`"code":"not_template_owner"`}},
		{"enterprise template to a member", "/api/v1/templates/" + entTpl, "test:acct-member", 200, []string{`"enterprise_id":"` + eid + `"`}},
		{"enterprise template to the master admin", "/api/v1/templates/" + entTpl, "test:acct-owner", 200, []string{`"name":"企业模板"`}},
		{"enterprise template to a stranger", "/api/v1/templates/" + entTpl, "test:acct-solo", 403, []string{`"code":"not_enterprise_member"`}},
		{"unknown template", "/api/v1/templates/" + uuid.NewString(), "test:acct-owner", 404, []string{`"code":"template_not_found"`}},
		{"unknown template document", "/api/v1/templates/" + personal + "/documents/x", "test:acct-owner", 404, []string{`"code":"document_not_found"`}},
		{"template document to another", "/api/v1/templates/" + personal + "/documents/tdoc", "test:acct-member", 403, []string{`"code":"not_template_owner"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.get(tc.path, tc.token)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, s := range tc.has {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s: %s", s, body)
				}
			}
			for _, secret := range []string{zhangPhon, liEmail, "13800138000"} {
				if strings.Contains(body, secret) {
					t.Errorf("body holds %s: %s", secret, body)
				}
			}
		})
	}
	if _, body := e.get("/api/v1/templates", "test:acct-owner"); strings.Contains(body, entTpl) || strings.Contains(body, other) {
		t.Errorf("personal list holds others' templates: %s", body)
	}

	downloads := []struct {
		name, path, token, want, file string
	}{
		{"as sent, to a party", "/api/v1/contracts/" + a + "/documents/doc-1", "test:acct-zhang", "%PDF-1.7 as sent, values filled in", "采购合同.pdf"},
		{"as sent, to the sender", "/api/v1/contracts/" + a + "/documents/doc-1", "test:acct-owner", "%PDF-1.7 as sent, values filled in", "采购合同.pdf"},
		{"before sending, to the approver", "/api/v1/contracts/" + c + "/documents/doc-1", "test:acct-approver", "%PDF-1.7 as uploaded", "采购合同.pdf"},
		{"template's", "/api/v1/templates/" + entTpl + "/documents/tdoc", "test:acct-member", "%PDF-1.7 as uploaded", "模板 正文.pdf"},
	}
	for _, d := range downloads {
		res, body := e.download(d.path, d.token)
		if res.StatusCode != 200 || body != d.want {
			t.Errorf("%s: %d %q", d.name, res.StatusCode, body)
			continue
		}
		_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
		if res.Header.Get("Content-Type") != "application/pdf" || err != nil || params["filename"] != d.file ||
			!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") || res.Header.Get("Content-Length") != strconv.Itoa(len(d.want)) {
			t.Errorf("%s: headers %v (%v)", d.name, res.Header, err)
		}
	}
}

// Contract reads wait for the contracts projection like the others.
func TestContractRoutesReadYourWrites(t *testing.T) {
	e := newContractEnv(t)
	e.register("acct-owner", "13800138000")
	id := uuid.NewString()
	e.contract(id, "acct-owner", contract.ContractCreated{ContractID: id, Number: "HT1", Title: "t",
		Sender:          contract.Sender{AccountID: "acct-owner", Name: "井然", PersonName: "井然"},
		SigningDeadline: e.now.Add(time.Hour), CreatedAt: e.now})
	head, err := e.store.Head(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := "test:acct-owner:" + strconv.FormatUint(head, 10)
	for _, path := range []string{"/api/v1/contracts/" + id, "/api/v1/approvals", "/api/v1/templates"} {
		if status, body := e.get(path, token); status != 503 || !strings.Contains(body, `"code":"projection_lag"`) {
			t.Fatalf("%s before the projections: %d %s", path, status, body)
		}
	}
	e.sync()
	if status, body := e.get("/api/v1/contracts/"+id, token); status != 200 || !strings.Contains(body, `"status":"created"`) {
		t.Fatalf("caught up: %d %s", status, body)
	}
}

func TestContractRoutesNeedTheirReaders(t *testing.T) {
	db := redistest.New(t)
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{Profiles: accounts.Reader{DB: db}, Enterprises: enterprises.Reader{DB: db},
		Contracts: contracts.Reader{DB: db}, LoginKeys: accounts.Reader{DB: db}, Verify: verify})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/api/v1/templates", "/api/v1/templates/x", "/api/v1/contracts/x/documents/d"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer test:a")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 404 || !strings.Contains(string(body), `"code":"route_not_found"`) {
			t.Errorf("%s without Templates and Files: %d %s", path, res.StatusCode, body)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Contracts without LoginKeys mounted")
		}
	}()
	readapi.Register(mux.NewRouter(), readapi.Deps{Profiles: accounts.Reader{DB: db}, Enterprises: enterprises.Reader{DB: db},
		Contracts: contracts.Reader{DB: db}, Verify: verify})
}
