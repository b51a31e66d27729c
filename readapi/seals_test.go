package readapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/infra/blob"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb/redistest"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/accounts"
	"signet/projections/enterprises"
	"signet/readapi"
)

const svgSeal = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="red"/></svg>`

// newSealEnv is newEnv with the seal routes and a blob store.
func newSealEnv(t *testing.T) (*env, *blob.Store) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	files, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{accounts.Projection{}, enterprises.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), store: store, db: db, runner: runner,
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, enterprise.Shanghai)}
	er := enterprises.Reader{DB: db, Now: func() time.Time { return e.now }}
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{
		Profiles: accounts.Reader{DB: db}, Enterprises: er, Files: files,
		Seals:  readapi.SealReaders{Enterprises: er, Accounts: accounts.Reader{DB: db}},
		Waiter: runner, Head: store.Head, Verify: verify, WaitBound: 100 * time.Millisecond,
	})
	e.srv = httptest.NewServer(web.Common(r))
	t.Cleanup(e.srv.Close)
	return e, files
}

func (e *env) do(path, token string, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, string(body)
}

func (e *env) appendAccount(id string, evs ...account.Event) {
	e.t.Helper()
	for _, ev := range evs {
		n, err := account.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: id, OccurredAt: e.now})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.store.Append(e.ctx, account.StreamOf(id), event.Any, n); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestSealRoutes(t *testing.T) {
	e, files := newSealEnv(t)
	svg, err := files.Put(e.ctx, []byte(svgSeal), "image/svg+xml")
	if err != nil {
		t.Fatal(err)
	}
	png, err := files.Put(e.ctx, []byte("\x89PNG\r\n\x1a\nseal"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := files.Put(e.ctx, []byte("\x89PNG\r\n\x1a\nsignature"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	eid := uuid.NewString()
	agg := enterprise.New()
	e.materials(agg, eid, "acct-owner", enterprise.LegalRep)
	do := func(actor string, d func(*enterprise.Enterprise, time.Time) ([]enterprise.Event, error)) {
		e.decide(agg, eid, actor, d)
	}
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.ChooseMethod("acct-owner", enterprise.MethodLegalRepPhone, now)
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.CheckCarrier("acct-owner", enterprise.MethodLegalRepPhone, legalPhone, enterprise.CarrierResult{Match: true}, now)
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := x.ConfirmPhone("acct-owner", enterprise.MethodLegalRepPhone, nil, nil, now)
		return append(evs, x.DefaultSeal("seal-default", enterprise.File{SHA256: svg.SHA256, Size: svg.Size, MediaType: svg.MediaType}, now)...), err
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Invite("acct-owner", "inv-1", "hash-1", enterprise.Member, now)
	})
	do("acct-member", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Join("acct-member", "inv-1", now)
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.CreateSeal("acct-owner", "seal-contract", "合同专用章", enterprise.File{SHA256: png.SHA256, Size: png.Size, MediaType: png.MediaType}, now)
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.GrantSeal("acct-owner", "seal-contract", "acct-member", now)
	})
	do("acct-owner", func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.SetApprovalPolicy("acct-owner", true, []string{"acct-member"}, now)
	})
	e.appendAccount("acct-member",
		account.AccountRegistered{AccountID: "acct-member", LoginKind: account.Phone, Login: "13800138009", Name: "张三", Company: "无",
			PasswordHash: "x", PrivacyPolicy: account.PrivacyConsent{Accepted: true, Version: "1"}, RegisteredAt: e.now},
		account.SignatureImageAdded{SignatureID: "sig-1", File: account.File{SHA256: sig.SHA256, Size: sig.Size, MediaType: sig.MediaType}, AddedAt: e.now})
	e.sync()

	seals := func(token string) map[string]bool {
		t.Helper()
		res, body := e.do("/api/v1/enterprises/"+eid+"/seals", token)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", token, res.StatusCode, body)
		}
		var list []struct {
			ID       string `json:"id"`
			Default  bool   `json:"default"`
			MayUse   bool   `json:"may_use"`
			ImageURL string `json:"image_url"`
			File     struct {
				SHA256    string `json:"sha256"`
				MediaType string `json:"media_type"`
			} `json:"file"`
			Grants []string `json:"grants"`
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		may := map[string]bool{}
		for _, s := range list {
			may[s.ID] = s.MayUse
			if s.ImageURL != "/api/v1/enterprises/"+eid+"/seals/"+s.ID+"/image" || s.File.SHA256 == "" || s.Grants == nil {
				t.Errorf("seal %+v", s)
			}
		}
		return may
	}
	if may := seals("test:acct-owner"); len(may) != 2 || !may["seal-default"] || !may["seal-contract"] {
		t.Fatalf("owner: %v", may)
	}
	if may := seals("test:acct-member"); len(may) != 2 || may["seal-default"] || !may["seal-contract"] {
		t.Fatalf("member: %v", may)
	}

	cases := []struct {
		name, path, token string
		status            int
		has               string
	}{
		{"a stranger sees no seals", "/api/v1/enterprises/" + eid + "/seals", "test:acct-x", 403, `"not_enterprise_member"`},
		{"no such enterprise", "/api/v1/enterprises/" + uuid.NewString() + "/seals", "test:acct-x", 404, `"enterprise_not_found"`},
		{"no token", "/api/v1/enterprises/" + eid + "/seals", "", 401, `"error"`},
		{"a stranger sees no image", "/api/v1/enterprises/" + eid + "/seals/seal-default/image", "test:acct-x", 403, `"not_enterprise_member"`},
		{"no such seal", "/api/v1/enterprises/" + eid + "/seals/seal-x/image", "test:acct-member", 404, `"seal_not_found"`},
		{"the approval policy", "/api/v1/enterprises/" + eid + "/approval-policy", "test:acct-member", 200, `"required":true,"approvers":["acct-member"],"fallback":false`},
		{"a stranger sees no policy", "/api/v1/enterprises/" + eid + "/approval-policy", "test:acct-x", 403, `"not_enterprise_member"`},
		{"my signatures", "/api/v1/me/signatures", "test:acct-member", 200, `"id":"sig-1","sha256":"` + sig.SHA256 + `"`},
		{"no signatures", "/api/v1/me/signatures", "test:acct-owner", 200, `[]`},
		{"not someone else's signature", "/api/v1/me/signatures/sig-1/image", "test:acct-owner", 404, `"signature_not_found"`},
		{"a position never written", "/api/v1/me/signatures", "test:acct-member", 400, `"unknown_position"`},
	}
	for _, c := range cases {
		var header []string
		if c.name == "a position never written" {
			header = []string{readapi.WaitForHeader, "999999"}
		}
		res, body := e.do(c.path, c.token, header...)
		if res.StatusCode != c.status || !strings.Contains(body, c.has) {
			t.Errorf("%s: %d %s", c.name, res.StatusCode, body)
		}
	}

	// Images: the stored type, never sniffed; an SVG cannot run anything.
	res, body := e.do("/api/v1/enterprises/"+eid+"/seals/seal-default/image", "test:acct-member")
	if res.StatusCode != 200 || body != svgSeal || res.Header.Get("Content-Type") != "image/svg+xml" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" ||
		res.Header.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'" {
		t.Fatalf("SVG seal: %d %v %q", res.StatusCode, res.Header, body)
	}
	res, _ = e.do("/api/v1/enterprises/"+eid+"/seals/seal-default/image", "test:acct-member", "If-None-Match", `"`+svg.SHA256+`"`)
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", res.StatusCode)
	}
	res, body = e.do("/api/v1/enterprises/"+eid+"/seals/seal-contract/image", "test:acct-owner")
	if res.StatusCode != 200 || body != "\x89PNG\r\n\x1a\nseal" || res.Header.Get("Content-Type") != "image/png" ||
		res.Header.Get("Content-Security-Policy") != "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("PNG seal: %d %v", res.StatusCode, res.Header)
	}
	res, body = e.do("/api/v1/me/signatures/sig-1/image", "test:acct-member")
	if res.StatusCode != 200 || body != "\x89PNG\r\n\x1a\nsignature" || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("signature: %d %v", res.StatusCode, res.Header)
	}
}
