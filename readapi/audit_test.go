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

	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb/redistest"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/accounts"
	"signet/readapi"
)

func TestAuditRoutes(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{accounts.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	roles := staff{db}
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{Profiles: accounts.Reader{DB: db}, PlatformRoles: roles, Waiter: runner, Head: store.Head,
		Verify: verify, WaitBound: 100 * time.Millisecond, History: store})
	srv := httptest.NewServer(web.Common(r))
	t.Cleanup(srv.Close)
	for role, who := range map[string]string{"auditor": "acct-auditor", "operator": "acct-operator"} {
		if err := db.SAdd(ctx, roles.key(role), who).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// A contract: created and sent at t0, the enterprise signs at t0+1h,
	// the person at t0+3h.
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	id := uuid.NewString()
	stream := contract.StreamOf(id)
	add := func(at time.Time, evs ...contract.Event) {
		for _, ev := range evs {
			n, err := contract.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: "acct-x", ClientIP: "203.0.113.9", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Append(ctx, stream, event.Any, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	doc := layout.Document{ID: "d1", Name: "采购合同", File: layout.File{SHA256: strings.Repeat("a", 64)}, Pages: []layout.Page{layout.A4}}
	add(t0, contract.ContractCreated{ContractID: id, Number: "HT20261201-AUDIT001", Title: "采购合同",
		Sender:    contract.Sender{AccountID: "acct-owner", EnterpriseID: "ent-1", Name: "杭州甲公司", PersonName: "王五"},
		Documents: []layout.Document{doc},
		Parties: []contract.Party{
			{ID: "r1", Role: "甲方", Kind: layout.Enterprise, Order: 1, Name: "王五", Contact: contract.Contact{Kind: "email", Value: "wang@example.com"}, EnterpriseName: "杭州甲公司"},
			{ID: "r2", Role: "乙方", Kind: layout.Person, Order: 2, Name: "张三", Contact: contract.Contact{Kind: "phone", Value: "13912345678"}},
		}, Sequential: true, SigningDeadline: t0.Add(72 * time.Hour), CreatedAt: t0},
		contract.ContractSent{Documents: []contract.DocumentHash{{DocumentID: "d1", SHA256: doc.File.SHA256}}, SentBy: "acct-owner", SentAt: t0})
	add(t0.Add(time.Hour), contract.PartySigned{PartyID: "r1", SignerAccountID: "acct-owner", SignerName: "王五", EnterpriseID: "ent-1",
		Seal: &contract.SealUse{SealID: "s1", Name: "公章"}, Willingness: contract.Willingness{Method: "sms_code", Channel: "email"},
		ClientIP: "203.0.113.9", SignedAt: t0.Add(time.Hour)})
	add(t0.Add(3*time.Hour), contract.PartySigned{PartyID: "r2", SignerAccountID: "acct-zhang", SignerName: "张三",
		Signature: &contract.SignatureUse{Kind: "typed", Text: "张三"}, Willingness: contract.Willingness{Method: "sms_code", Channel: "sms"},
		ClientIP: "198.51.100.4", SignedAt: t0.Add(3 * time.Hour)})

	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	state := "/api/v1/audit/streams/" + stream + "/state"
	events := "/api/v1/audit/streams/" + stream + "/events"
	between := "?as_of=" + t0.Add(2*time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name, path, token string
		status            int
		has               []string
	}{
		{"no token", state, "", 401, nil},
		{"not an auditor", state, "test:acct-owner", 403, []string{`"not_an_auditor"`}},
		{"an operator is no auditor", events, "test:acct-operator", 403, []string{`"not_an_auditor"`}},
		{"between the signatures", state + between, "test:acct-auditor", 200, []string{`"version":3`, `"status":"signing"`,
			`"turn":["r2"]`, `"seal_name":"公章"`, `"contact":"139****5678"`, `"contact":"w***@example.com"`, `"client_ip":"203.0.113.*"`}},
		{"by version", state + "?version=2", "test:acct-auditor", 200, []string{`"version":2`, `"turn":["r1"]`}},
		{"bad as_of", state + "?as_of=yesterday", "test:acct-auditor", 400, []string{`"invalid_as_of"`}},
		{"both", state + between + "&version=2", "test:acct-auditor", 400, []string{`"invalid_point"`}},
		{"version 0", state + "?version=0", "test:acct-auditor", 400, []string{`"invalid_version"`}},
		{"beyond", state + "?version=9", "test:acct-auditor", 400, []string{`"version_beyond_stream"`}},
		{"unknown stream", "/api/v1/audit/streams/contract-" + uuid.NewString() + "/state", "test:acct-auditor", 404, []string{`"stream_not_found"`}},
		{"unknown stream's events", "/api/v1/audit/streams/contract-none/events", "test:acct-auditor", 404, []string{`"stream_not_found"`}},
		{"first page", events + "?limit=2", "test:acct-auditor", 200, []string{`"next_after":2`, `"type":"ContractCreated"`, `"type":"ContractSent"`}},
		{"last page", events + "?after=2&limit=2", "test:acct-auditor", 200, []string{`"version":4`, `party r2 signed by 张三`}},
		{"bad limit", events + "?limit=0", "test:acct-auditor", 400, []string{`"invalid_limit"`}},
		{"bad after", events + "?after=-1", "test:acct-auditor", 400, []string{`"invalid_after"`}},
	} {
		status, body := get(tc.path, tc.token)
		if status != tc.status {
			t.Errorf("%s: %d %s", tc.name, status, body)
			continue
		}
		for _, h := range tc.has {
			if !strings.Contains(body, h) {
				t.Errorf("%s: no %s in %s", tc.name, h, body)
			}
		}
		for _, secret := range []string{"13912345678", "wang@example.com", "203.0.113.9", "198.51.100.4"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: %s in %s", tc.name, secret, body)
			}
		}
	}
	_, body := get(events+"?after=2&limit=2", "test:acct-auditor")
	var page readapi.EventsPage
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Events) != 2 || page.NextAfter != nil {
		t.Fatalf("last page %s %v", body, err)
	}
}
