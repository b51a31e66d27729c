package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"signet/domain/account"
	"signet/domain/contract"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
	"signet/domain/template"
	"signet/infra/eventstore/sqlite"
	"signet/projections/replay"
)

var ctx = context.Background()

var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rect() layout.Rect { return layout.Rect{X: 100, Y: 100, W: 120, H: 60} }

var (
	zhang = contract.Signer{AccountID: "acct-zhang", Login: contract.Contact{Kind: "phone", Value: "13800138000"}, VerifiedName: "张三"}
	wang  = contract.Signer{AccountID: "acct-wang", Login: contract.Contact{Kind: "email", Value: "wang@example.com"}, VerifiedName: "王五",
		Enterprise: &contract.SignerEnterprise{ID: "ent-a", Name: "杭州甲公司"}}
)

// signedContract writes a two-party contract to the store the way the
// command handlers do: each decision of the domain appended at its time.
// The enterprise signs at t0+1h, the person at t0+3h.
func signedContract(t *testing.T, s *sqlite.Store) string {
	t.Helper()
	doc := layout.Document{ID: "d1", Name: "采购合同", File: layout.File{SHA256: strings.Repeat("a", 64), Size: 100, MediaType: "application/pdf"}, Pages: []layout.Page{layout.A4}}
	created, err := contract.Create(contract.Spec{
		ContractID: "c1", Number: "HT20261130-00000001", Title: "采购合同 2026",
		Sender:    contract.Sender{AccountID: "acct-wang", EnterpriseID: "ent-a", Name: "杭州甲公司", PersonName: "王五"},
		Documents: []layout.Document{doc},
		Roles:     []layout.Role{{ID: "r1", Name: "甲方", Kind: layout.Enterprise, Order: 1}, {ID: "r2", Name: "乙方", Kind: layout.Person, Order: 2}},
		Fields: []layout.Field{
			{ID: "f1", Kind: layout.Seal, RoleID: "r1", DocumentID: "d1", Page: 1, Rect: rect()},
			{ID: "f2", Kind: layout.Signature, RoleID: "r2", DocumentID: "d1", Page: 1, Rect: layout.Rect{X: 300, Y: 100, W: 120, H: 60}},
		},
		Sequential: true,
		Parties: map[string]contract.PartyInput{
			"r1": {Name: "王五", Contact: "wang@example.com", EnterpriseName: "杭州甲公司"},
			"r2": {Name: "张三", Contact: "13800138000"},
		},
		SigningDeadline: t0.Add(7 * 24 * time.Hour),
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	stream := contract.StreamOf("c1")
	c := contract.New()
	n := 0
	write := func(evs []contract.Event, at time.Time) {
		t.Helper()
		var news []event.New
		for _, e := range evs {
			n++
			ne, err := contract.NewEvent(fmt.Sprintf("e%d", n), e, event.Metadata{Actor: "acct-actor", ClientIP: "203.0.113.7", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			news = append(news, ne)
			if err := c.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Append(ctx, stream, event.Exactly(c.Version()-uint64(len(evs))), news...); err != nil {
			t.Fatal(err)
		}
	}
	write(created, t0)
	sent, err := c.Send("acct-wang", contract.Quota{Kind: "enterprise", ID: "ent-a"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	write(sent, t0)
	first, err := c.Sign(contract.Signing{PartyID: "r1", Signer: wang, ClientIP: "203.0.113.7", Channel: "email",
		Seal: &contract.SealUse{SealID: "s1", Name: "杭州甲公司公章", File: layout.File{SHA256: strings.Repeat("b", 64)}}}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write(first, t0.Add(time.Hour))
	second, err := c.Sign(contract.Signing{PartyID: "r2", Signer: zhang, ClientIP: "198.51.100.23", Channel: "sms",
		Signature: &contract.SignatureUse{Kind: "typed", Text: "张三"}}, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write(second, t0.Add(3*time.Hour))
	return stream
}

func contractState(t *testing.T, v replay.View) *replay.ContractState {
	t.Helper()
	s, ok := v.State.(*replay.ContractState)
	if !ok {
		t.Fatalf("state %T (%s)", v.State, v.StateError)
	}
	return s
}

// As of a moment between the two signatures: the first party had signed,
// the second had not and it was its turn.
func TestContractBetweenSignatures(t *testing.T) {
	s := openStore(t)
	stream := signedContract(t, s)
	v, err := replay.Replay(ctx, s, stream, replay.Point{AsOf: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := contractState(t, v)
	if v.Version != 3 || v.Latest < 4 || !v.Exists || v.StateError != "" {
		t.Fatalf("view at version %d of %d (%s)", v.Version, v.Latest, v.StateError)
	}
	if c.Status != string(contract.StatusSigning) || c.Title != "采购合同 2026" || c.Number != "HT20261130-00000001" {
		t.Fatalf("state %+v", c)
	}
	r1, r2 := c.Parties[0], c.Parties[1]
	if !r1.Signed || r1.Signature == nil || r1.Signature.SealName != "杭州甲公司公章" || !r1.Signature.SignedAt.Equal(t0.Add(time.Hour)) ||
		r1.Signature.Willingness.Channel != "email" || r1.Signature.ClientIP != "203.0.113.*" || r1.Signature.SignerName != "王五" {
		t.Fatalf("first party %+v %+v", r1, r1.Signature)
	}
	if r2.Signed || r2.Signature != nil || len(c.Turn) != 1 || c.Turn[0] != "r2" {
		t.Fatalf("second party %+v, turn %v", r2, c.Turn)
	}
	if r2.Contact != "138****8000" || r1.Contact != "w***@example.com" {
		t.Fatalf("contacts not masked: %q %q", r1.Contact, r2.Contact)
	}
	if len(v.Events) != 3 || v.Events[2].Type != contract.TypePartySigned || !strings.Contains(v.Events[2].Summary, "party r1 signed by 王五") {
		t.Fatalf("events %+v", v.Events)
	}
	if c.Documents[0].SentSHA256 != strings.Repeat("a", 64) {
		t.Fatalf("documents %+v", c.Documents)
	}

	// The whole history: both signed, the contract waits for its final
	// documents (a status this package passes through as the domain names it).
	now, err := replay.Replay(ctx, s, stream, replay.Point{})
	if err != nil {
		t.Fatal(err)
	}
	c = contractState(t, now)
	if !c.Parties[1].Signed || c.Parties[1].Signature.SignatureKind != "typed" || c.Status == string(contract.StatusSigning) || len(c.Turn) != 0 {
		t.Fatalf("now: %+v", c)
	}
	// By version: the same as by time.
	byVersion, err := replay.Replay(ctx, s, stream, replay.Point{Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(byVersion.State)
	b, _ := json.Marshal(v.State)
	if string(a) != string(b) {
		t.Fatalf("by version:\n%s\nby time:\n%s", a, b)
	}
	// Before it existed.
	before, err := replay.Replay(ctx, s, stream, replay.Point{AsOf: t0.Add(-time.Second)})
	if err != nil || before.Exists || before.State != nil || before.Version != 0 || len(before.Events) != 0 {
		t.Fatalf("before: %+v %v", before, err)
	}
}

func TestRefusals(t *testing.T) {
	s := openStore(t)
	stream := signedContract(t, s)
	for _, tc := range []struct {
		stream string
		p      replay.Point
		code   string
	}{
		{"contract-nope", replay.Point{}, "stream_not_found"},
		{stream, replay.Point{Version: 99}, "version_beyond_stream"},
		{"has space", replay.Point{}, "invalid_stream"},
		{"$all", replay.Point{}, "invalid_stream"},
	} {
		_, err := replay.Replay(ctx, s, tc.stream, tc.p)
		if f, ok := fault.As(err); !ok || f.Code != tc.code {
			t.Errorf("%s %+v: %v, want %s", tc.stream, tc.p, err, tc.code)
		}
	}
}

// Streams of other categories show their events; an event the domain
// refuses stops the state, says why, and the events are still listed.
func TestOtherStreams(t *testing.T) {
	s := openStore(t)
	if _, err := s.Append(ctx, "thing-1", event.NoStream, event.New{ID: "x1", Type: "ThingHappened", Schema: 1, Data: []byte(`{}`), Meta: event.Metadata{OccurredAt: t0}}); err != nil {
		t.Fatal(err)
	}
	v, err := replay.Replay(ctx, s, "thing-1", replay.Point{})
	if err != nil || v.State != nil || len(v.Events) != 1 || v.Events[0].Summary != "ThingHappened" || !v.Exists {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := s.Append(ctx, "contract-bad", event.NoStream, event.New{ID: "x2", Type: "ContractSent", Schema: 1, Data: []byte(`{}`), Meta: event.Metadata{OccurredAt: t0}}); err != nil {
		t.Fatal(err)
	}
	v, err = replay.Replay(ctx, s, "contract-bad", replay.Point{})
	if err != nil || v.StateError == "" || len(v.Events) != 1 || v.Exists {
		t.Fatalf("%+v %v", v, err)
	}
}

// An account's login and ID number are masked in its state and events.
func TestAccountMasked(t *testing.T) {
	s := openStore(t)
	id := "0190a0d2-0000-7000-8000-000000000001"
	a := &account.Account{}
	login, _ := account.ParseLogin("13912345678")
	evs := []account.Event{
		account.AccountRegistered{AccountID: id, LoginKind: login.Kind(), Login: login.String(), Name: "李四", PasswordHash: "x",
			PrivacyPolicy: account.PrivacyConsent{Accepted: true, Version: "1"}, RegisteredAt: t0},
		account.PersonVerified{Name: "李四", IDNumber: "11010519491231002X", Method: account.MethodPhone, VerifiedAt: t0},
		account.PlatformRoleGranted{Role: account.PlatformAuditor, GrantedBy: "cli", GrantedAt: t0},
	}
	var news []event.New
	for i, e := range evs {
		if err := a.Apply(e); err != nil {
			t.Fatal(err)
		}
		n, err := account.NewEvent(fmt.Sprintf("a%d", i), e, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, n)
	}
	if _, err := s.Append(ctx, account.StreamOf(id), event.NoStream, news...); err != nil {
		t.Fatal(err)
	}
	v, err := replay.Replay(ctx, s, account.StreamOf(id), replay.Point{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	for _, secret := range []string{"13912345678", "11010519491231002X", `"x"`} {
		if strings.Contains(string(out), secret) {
			t.Errorf("replayed account shows %s: %s", secret, out)
		}
	}
	st := v.State.(*replay.AccountState)
	if st.Login != "139****5678" || st.VerifiedIDNumber != "110*****02X" || len(st.PlatformRoles) != 1 || st.PlatformRoles[0] != "auditor" {
		t.Fatalf("state %+v", st)
	}
}

func TestStreamNotFoundIsNotFound(t *testing.T) {
	_, err := replay.Replay(ctx, openStore(t), "contract-none", replay.Point{})
	if f, ok := fault.As(err); !ok || f.Kind != fault.NotFound || !errors.Is(err, replay.ErrStreamNotFound) {
		t.Fatalf("%v", err)
	}
}

func appendAll[E interface{ EventType() string }](t *testing.T, s *sqlite.Store, stream string, encode func(string, E, event.Metadata) (event.New, error), at []time.Time, evs ...E) {
	t.Helper()
	for i, e := range evs {
		n, err := encode(fmt.Sprintf("%s-%d", stream, i), e, event.Metadata{Actor: "acct-1", OccurredAt: at[i]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, stream, event.Exactly(uint64(i)), n); err != nil {
			t.Fatal(err)
		}
	}
}

// Enterprises and templates replay through their domain Apply too.
func TestEnterpriseAndTemplate(t *testing.T) {
	s := openStore(t)
	at := []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)}
	appendAll(t, s, enterprise.StreamOf("e1"), enterprise.NewEvent, at,
		enterprise.Event(enterprise.EnterpriseCreated{EnterpriseID: "e1", CreatedBy: "acct-1", CreatedAt: t0}),
		enterprise.Event(enterprise.MemberJoined{AccountID: "acct-1", Role: enterprise.MasterAdmin, JoinedAt: t0}),
		enterprise.Event(enterprise.SealCreated{SealID: "s1", Name: "合同专用章", Default: true, CreatedAt: t0}),
		enterprise.Event(enterprise.ApprovalPolicySet{Required: true, Approvers: []string{"acct-1"}, SetBy: "acct-1", SetAt: t0}))
	v, err := replay.Replay(ctx, s, enterprise.StreamOf("e1"), replay.Point{AsOf: t0.Add(90 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := v.State.(*replay.EnterpriseState)
	if !ok || v.Version != 2 || len(e.Members) != 1 || e.Members[0].Role != "master_admin" || len(e.Seals) != 0 || e.Approval.Required {
		t.Fatalf("enterprise %+v %+v (%s)", v, v.State, v.StateError)
	}
	if v, _ = replay.Replay(ctx, s, enterprise.StreamOf("e1"), replay.Point{}); len(v.State.(*replay.EnterpriseState).Seals) != 1 ||
		!v.State.(*replay.EnterpriseState).Approval.Required || !strings.Contains(v.Events[2].Summary, "合同专用章") {
		t.Fatalf("enterprise now %+v", v.State)
	}

	doc := layout.Document{ID: "d1", Name: "正文", File: layout.File{SHA256: strings.Repeat("c", 64)}, Pages: []layout.Page{layout.A4, layout.A4}}
	appendAll(t, s, template.StreamOf("t1"), template.NewEvent, at,
		template.Event(template.TemplateCreated{TemplateID: "t1", Owner: template.Owner{AccountID: "acct-1"}, Name: "采购模板", CreatedBy: "acct-1", CreatedAt: t0}),
		template.Event(template.TemplateDocumentAdded{Document: doc, AddedBy: "acct-1", AddedAt: t0}),
		template.Event(template.TemplateRoleAdded{Role: layout.Role{ID: "r1", Name: "甲方", Kind: layout.Enterprise, Order: 1}, AddedBy: "acct-1", AddedAt: t0}))
	v, err = replay.Replay(ctx, s, template.StreamOf("t1"), replay.Point{Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	tp, ok := v.State.(*replay.TemplateState)
	if !ok || tp.Name != "采购模板" || len(tp.Documents) != 1 || tp.Documents[0].Pages != 2 || len(tp.Roles) != 0 {
		t.Fatalf("template %+v", v.State)
	}
}
