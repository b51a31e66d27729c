package readapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/accounts"
	"signet/projections/enterprises"
	"signet/readapi"
)

// staff is a real PlatformRoles over a Redis set per role, standing in for
// the accounts read model.
type staff struct{ db *redisdb.DB }

func (s staff) HasPlatformRole(ctx context.Context, accountID, role string) (bool, error) {
	return s.db.SIsMember(ctx, s.key(role), accountID).Result()
}

func (s staff) key(role string) string { return s.db.Key("test-platform-roles", role) }

// verify accepts "test:<account>" and "test:<account>:<position>": auth
// itself is tested in infra/auth.
func verify(token string) (web.Principal, error) {
	parts := strings.Split(token, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "test" || parts[1] == "" {
		return web.Principal{}, fault.New(fault.Unauthorized, "invalid_token", "Log in again.")
	}
	p := web.Principal{AccountID: parts[1]}
	if len(parts) == 3 {
		pos, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			return web.Principal{}, fault.New(fault.Unauthorized, "invalid_token", "Log in again.")
		}
		p.Position = pos
	}
	return p, nil
}

type env struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	db     *redisdb.DB
	runner *projector.Runner
	srv    *httptest.Server
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{accounts.Projection{}, enterprises.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), store: store, db: db, runner: runner,
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, enterprise.Shanghai)}
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{
		Profiles:      accounts.Reader{DB: db},
		Enterprises:   enterprises.Reader{DB: db, Now: func() time.Time { return e.now }},
		PlatformRoles: staff{db},
		Waiter:        runner,
		Head:          store.Head,
		Verify:        verify,
		WaitBound:     100 * time.Millisecond,
	})
	e.srv = httptest.NewServer(web.Common(r))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) sync() {
	e.t.Helper()
	for _, name := range e.runner.Names() {
		if err := e.runner.CatchUp(e.ctx, name, nil); err != nil {
			e.t.Fatal(err)
		}
	}
}

// decide runs a decision of the real aggregate and appends its events.
func (e *env) decide(agg *enterprise.Enterprise, eid, actor string, d func(*enterprise.Enterprise, time.Time) ([]enterprise.Event, error)) {
	e.t.Helper()
	evs, err := d(agg, e.now)
	if err != nil {
		e.t.Fatalf("decision refused: %v", err)
	}
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		if news[i], err = enterprise.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, OccurredAt: e.now}); err != nil {
			e.t.Fatal(err)
		}
		if err := agg.Apply(ev); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.store.Append(e.ctx, enterprise.StreamOf(eid), event.Exactly(agg.Version()-uint64(len(evs))), news...); err != nil {
		e.t.Fatal(err)
	}
}

const (
	legalID    = "11010519491231002X"
	agentID    = "440524198001010013"
	legalPhone = "13800138000"
	agentPhone = "15057112345"
)

// verifiedCase: owner verifies by the legal representative's phone and
// invites member.
func (e *env) verifiedCase(owner, member string) string {
	eid := uuid.NewString()
	agg := enterprise.New()
	e.materials(agg, eid, owner, enterprise.LegalRep)
	do := func(actor string, d func(*enterprise.Enterprise, time.Time) ([]enterprise.Event, error)) {
		e.decide(agg, eid, actor, d)
	}
	do(owner, func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.ChooseMethod(owner, enterprise.MethodLegalRepPhone, now)
	})
	do(owner, func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.CheckCarrier(owner, enterprise.MethodLegalRepPhone, legalPhone, enterprise.CarrierResult{Match: true}, now)
	})
	do(owner, func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.ConfirmPhone(owner, enterprise.MethodLegalRepPhone, nil, nil, now)
	})
	do(owner, func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Invite(owner, "inv-1", "hash-1", enterprise.Member, now)
	})
	do(member, func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Join(member, "inv-1", now)
	})
	return eid
}

// reviewCase: agent uploads a stamped authorization letter.
func (e *env) reviewCase(agent string) string {
	eid := uuid.NewString()
	agg := enterprise.New()
	e.materials(agg, eid, agent, enterprise.Agent)
	do := func(d func(*enterprise.Enterprise, time.Time) ([]enterprise.Event, error)) {
		e.decide(agg, eid, agent, d)
	}
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.ChooseMethod(agent, enterprise.MethodLetter, now)
	})
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.CheckCarrier(agent, enterprise.MethodLetter, agentPhone, enterprise.CarrierResult{Match: true}, now)
	})
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.ConfirmPhone(agent, enterprise.MethodLetter, nil, nil, now)
	})
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.GenerateLetter(agent, "SQ-1", enterprise.File{SHA256: "sha-letter", Size: 1, MediaType: "application/pdf"}, now)
	})
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.UploadLetter(agent, enterprise.File{SHA256: "sha-stamped", Size: 1, MediaType: "image/png"}, now)
	})
	return eid
}

func (e *env) materials(agg *enterprise.Enterprise, eid, actor string, op enterprise.Person) {
	do := func(d func(*enterprise.Enterprise, time.Time) ([]enterprise.Event, error)) {
		e.decide(agg, eid, actor, d)
	}
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Create(eid, actor, now)
	})
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.UploadLicense(actor, enterprise.File{SHA256: "sha-lic", Size: 1, MediaType: "image/jpeg"},
			enterprise.LicenseFields{Name: "杭州井然食品贸易有限公司", USCC: "91440300708461136T", LegalRep: "井然"}, "test", now)
	})
	id := map[enterprise.Person]string{enterprise.LegalRep: legalID, enterprise.Agent: agentID}
	for _, s := range []enterprise.Side{enterprise.Portrait, enterprise.Emblem} {
		do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return x.UploadIDCard(actor, op, s, enterprise.File{SHA256: "sha-" + string(s), Size: 1, MediaType: "image/jpeg"},
				enterprise.IDCardFields{IDNumber: id[op]}, "test", now)
		})
	}
	m := enterprise.Materials{Name: "杭州井然食品贸易有限公司", USCC: "91440300708461136T", LegalRepName: "井然", LegalRepIDNumber: legalID,
		Operator: op, AcceptPersonal: true, PolicyVersion: "2026-11"}
	if op == enterprise.Agent {
		m.AgentName, m.AgentIDNumber = "林小明", agentID
	}
	do(func(x *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		return x.Submit(actor, m, now)
	})
}

// get sends an authenticated GET (token "" sends none) and returns status and body.
func (e *env) get(path, token string, header ...string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
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
	return res.StatusCode, string(body)
}

func TestEnterpriseRoutes(t *testing.T) {
	e := newEnv(t)
	verified := e.verifiedCase("acct-owner", "acct-member")
	review := e.reviewCase("acct-agent")
	if err := e.db.SAdd(e.ctx, staff{e.db}.key(readapi.PlatformOperator), "acct-op").Err(); err != nil {
		t.Fatal(err)
	}
	e.sync()

	cases := []struct {
		name, path, token string
		status            int
		has               []string // substrings of the body
	}{
		{"owner sees the verified case", "/api/v1/enterprises/" + verified, "test:acct-owner", 200,
			[]string{`"step":"verified"`, `"legal_rep_id":"110*****02X"`, `"verified_method":"legal_rep_phone"`, `"quota":10`, `"missing":[]`}},
		{"member sees it", "/api/v1/enterprises/" + verified, "test:acct-member", 200, []string{`"id":"` + verified + `"`}},
		{"stranger is refused", "/api/v1/enterprises/" + verified, "test:acct-stranger", 403, []string{`"code":"not_enterprise_member"`}},
		{"platform operator is no member", "/api/v1/enterprises/" + verified, "test:acct-op", 403, []string{`"code":"not_enterprise_member"`}},
		{"unknown case", "/api/v1/enterprises/" + uuid.NewString(), "test:acct-owner", 404, []string{`"code":"enterprise_not_found"`}},
		{"case ID that is no ID", "/api/v1/enterprises/a:b*", "test:acct-owner", 404, []string{`"code":"enterprise_not_found"`}},
		{"no token", "/api/v1/enterprises/" + verified, "", 401, []string{`"code":"unauthenticated"`}},
		{"creator sees the unverified case", "/api/v1/enterprises/" + review, "test:acct-agent", 200,
			[]string{`"step":"review"`, `"agent_id":"440*****013"`, `"verified":"150****2345"`, `"status":"pending"`, `"uploaded_sha256":"sha-stamped"`}},
		{"owner of another case is refused", "/api/v1/enterprises/" + review, "test:acct-owner", 403, []string{`"code":"not_enterprise_member"`}},
		{"members to a member", "/api/v1/enterprises/" + verified + "/members", "test:acct-member", 200,
			[]string{`[{"account_id":"acct-owner","role":"master_admin"},{"account_id":"acct-member","role":"member"}]`}},
		{"members to the creator before verification", "/api/v1/enterprises/" + review + "/members", "test:acct-agent", 200, []string{"[]"}},
		{"members to a stranger", "/api/v1/enterprises/" + verified + "/members", "test:acct-stranger", 403, []string{`"code":"not_enterprise_member"`}},
		{"members of no case", "/api/v1/enterprises/" + uuid.NewString() + "/members", "test:acct-owner", 404, []string{`"code":"enterprise_not_found"`}},
		{"my enterprises as owner", "/api/v1/me/enterprises", "test:acct-owner", 200,
			[]string{`"id":"` + verified + `"`, `"role":"master_admin"`, `"verified":true`, `"name":"杭州井然食品贸易有限公司"`}},
		{"my enterprises as creator", "/api/v1/me/enterprises", "test:acct-agent", 200,
			[]string{`"id":"` + review + `"`, `"role":"creator"`, `"step":"review"`, `"verified":false`}},
		{"my enterprises as stranger", "/api/v1/me/enterprises", "test:acct-stranger", 200, []string{"[]"}},
		{"review queue to an operator", "/api/v1/reviews/authorization-letters", "test:acct-op", 200,
			[]string{`"enterprise_id":"` + review + `"`, `"agent_name":"林小明"`, `"uploaded_sha256":"sha-stamped"`, `"review_due":"2026-12-02T02:00:00Z"`}},
		{"review queue with a limit", "/api/v1/reviews/authorization-letters?limit=1", "test:acct-op", 200, []string{`"enterprise_id":"` + review + `"`}},
		{"review queue to an enterprise admin", "/api/v1/reviews/authorization-letters", "test:acct-owner", 403, []string{`"code":"not_platform_operator"`}},
		{"review queue with limit 0", "/api/v1/reviews/authorization-letters?limit=0", "test:acct-op", 400, []string{`"code":"invalid_limit"`, `"field":"limit"`}},
		{"review queue with limit 201", "/api/v1/reviews/authorization-letters?limit=201", "test:acct-op", 400, []string{`"code":"invalid_limit"`}},
		{"review queue with a word", "/api/v1/reviews/authorization-letters?limit=ten", "test:acct-op", 400, []string{`"code":"invalid_limit"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.get(c.path, c.token)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			for _, s := range c.has {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s: %s", s, body)
				}
			}
			for _, secret := range []string{legalID, agentID, legalPhone, agentPhone} {
				if strings.Contains(body, secret) {
					t.Errorf("body holds %s: %s", secret, body)
				}
			}
		})
	}

	// The full view decodes into the reader's type.
	_, body := e.get("/api/v1/enterprises/"+review, "test:acct-agent")
	var v enterprises.CaseView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.Willingness.Letter == nil || v.Willingness.Letter.ReviewDue == nil || v.Deadlines.Review == nil || v.Willingness.Face == nil ||
		v.Willingness.Face.AttemptsLeftToday != 3 || v.CreatedBy != "acct-agent" {
		t.Fatalf("view: %+v", v)
	}
}

// Reads wait for the enterprises projection: a token that has seen a
// position the projection has not reached gets 503 until it has.
func TestEnterpriseRoutesReadYourWrites(t *testing.T) {
	e := newEnv(t)
	eid := e.reviewCase("acct-agent")
	head, err := e.store.Head(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := "test:acct-agent:" + strconv.FormatUint(head, 10)
	for _, path := range []string{"/api/v1/enterprises/" + eid, "/api/v1/me/enterprises", "/api/v1/enterprises/" + eid + "/members"} {
		status, body := e.get(path, token)
		if status != 503 || !strings.Contains(body, `"code":"projection_lag"`) {
			t.Fatalf("%s before the projection: %d %s", path, status, body)
		}
	}
	if status, body := e.get("/api/v1/me/enterprises", "test:acct-agent", readapi.WaitForHeader, strconv.FormatUint(head+1, 10)); status != 400 ||
		!strings.Contains(body, `"code":"unknown_position"`) {
		t.Fatalf("position beyond the log: %d %s", status, body)
	}
	caught := make(chan error, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		caught <- e.runner.CatchUp(context.Background(), enterprises.Name, nil)
	}()
	defer func() {
		if err := <-caught; err != nil {
			t.Error(err)
		}
	}()
	// Within the wait bound the projection catches up and the read sees it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body := e.get("/api/v1/enterprises/"+eid, token)
		if status == 200 {
			if !strings.Contains(body, `"step":"review"`) {
				t.Fatalf("caught up: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never caught up: %d %s", status, body)
		}
	}
	if status, body := e.get("/api/v1/me/enterprises", "test:acct-agent", readapi.WaitForHeader, strconv.FormatUint(head, 10)); status != 200 ||
		!strings.Contains(body, eid) {
		t.Fatalf("Signet-Wait-For reached: %d %s", status, body)
	}
}

// Without Deps.Enterprises the routes do not exist (the binary mounts them
// once it wires the reader).
func TestEnterpriseRoutesNeedTheReader(t *testing.T) {
	db := redistest.New(t)
	r := mux.NewRouter()
	r.NotFoundHandler = web.NotFound()
	readapi.Register(r, readapi.Deps{Profiles: accounts.Reader{DB: db}, Verify: verify})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/api/v1/me/enterprises", "/api/v1/enterprises/x", "/api/v1/reviews/authorization-letters"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer test:a")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 404 || !strings.Contains(string(body), `"code":"route_not_found"`) {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}
