package contract

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
	"signet/domain/layout"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

var doc = layout.Document{ID: "d1", Name: "采购合同", File: layout.File{SHA256: strings.Repeat("a", 64), Size: 100, MediaType: "application/pdf"}, Pages: []layout.Page{layout.A4, layout.A4}}

func rect() layout.Rect { return layout.Rect{X: 100, Y: 100, W: 120, H: 120} }

func spec(sequential bool) Spec {
	return Spec{
		ContractID: "c1", Number: "HT20261130-00000000", Title: "采购合同 2026",
		Sender:    Sender{AccountID: "acct-sender", EnterpriseID: "ent-a", Name: "杭州甲公司", PersonName: "王五"},
		Documents: []layout.Document{doc},
		Roles: []layout.Role{
			{ID: "r2", Name: "乙方", Kind: layout.Person, Order: 2},
			{ID: "r1", Name: "甲方", Kind: layout.Enterprise, Order: 1},
		},
		Fields: []layout.Field{
			{ID: "f1", Kind: layout.Seal, RoleID: "r1", DocumentID: "d1", Page: 2, Rect: rect()},
			{ID: "f2", Kind: layout.Signature, RoleID: "r2", DocumentID: "d1", Page: 2, Rect: layout.Rect{X: 300, Y: 100, W: 120, H: 60}},
			{ID: "f3", Kind: layout.Number, Name: "金额", Required: true, DocumentID: "d1", Page: 1, Rect: rect()},
			{ID: "f4", Kind: layout.Choice, Name: "付款方式", Choices: []string{"月付", "年付"}, DocumentID: "d1", Page: 1, Rect: layout.Rect{X: 10, Y: 10, W: 50, H: 20}},
		},
		Sequential: sequential,
		Parties: map[string]PartyInput{
			"r1": {Name: "王五", Contact: "wang@example.com", EnterpriseName: "杭州甲公司"},
			"r2": {Name: "张三", Contact: "138 0013 8000"},
		},
		Values:          map[string]string{"f3": "1,200.50", "f4": "年付"},
		SigningDeadline: t0.Add(7 * 24 * time.Hour),
	}
}

func code(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return "error"
	}
	return ""
}

func TestCreate(t *testing.T) {
	exp := t0.Add(400 * 24 * time.Hour)
	early := t0.Add(24 * time.Hour)
	cases := []struct {
		name string
		edit func(*Spec)
		code string
	}{
		{"ok", func(*Spec) {}, ""},
		{"ok with expiry", func(s *Spec) { s.ExpiresAt = &exp }, ""},
		{"no title", func(s *Spec) { s.Title = "  " }, "missing_title"},
		{"long title", func(s *Spec) { s.Title = strings.Repeat("合", 101) }, "invalid_title"},
		{"no documents", func(s *Spec) { s.Documents = nil }, "no_documents"},
		{"no roles", func(s *Spec) { s.Roles = nil }, "no_parties"},
		{"party for unknown role", func(s *Spec) { s.Parties["r9"] = PartyInput{Name: "x", Contact: "13800138000"} }, "unknown_role"},
		{"missing party", func(s *Spec) { delete(s.Parties, "r2") }, "missing_party_name"},
		{"bad contact", func(s *Spec) { s.Parties["r2"] = PartyInput{Name: "张三", Contact: "12345"} }, "invalid_contact"},
		{"no contact", func(s *Spec) { s.Parties["r2"] = PartyInput{Name: "张三"} }, "missing_contact"},
		{"enterprise without name", func(s *Spec) { s.Parties["r1"] = PartyInput{Name: "王五", Contact: "wang@example.com"} }, "missing_enterprise_name"},
		{"same person twice", func(s *Spec) {
			s.Roles = append(s.Roles, layout.Role{ID: "r3", Name: "丙方", Kind: layout.Person, Order: 3})
			s.Parties["r3"] = PartyInput{Name: "张三", Contact: "13800138000"}
			s.Fields = append(s.Fields, layout.Field{ID: "f9", Kind: layout.Signature, RoleID: "r3", DocumentID: "d1", Page: 1, Rect: rect()})
		}, "duplicate_party"},
		{"role without its signing field", func(s *Spec) { s.Fields = s.Fields[1:] }, "missing_signing_field"},
		{"field off page", func(s *Spec) { s.Fields[0].Rect.X = 550 }, "field_off_page"},
		{"field on missing page", func(s *Spec) { s.Fields[0].Page = 3 }, "no_such_page"},
		{"field for unknown role", func(s *Spec) { s.Fields[0].RoleID = "r9" }, "unknown_role"},
		{"seal for a person", func(s *Spec) { s.Fields[1].Kind = layout.Seal }, "seal_for_person"},
		{"required value missing", func(s *Spec) { delete(s.Values, "f3") }, "missing_value"},
		{"bad number", func(s *Spec) { s.Values["f3"] = "一千" }, "invalid_number"},
		{"unknown choice", func(s *Spec) { s.Values["f4"] = "周付" }, "unknown_choice"},
		{"value for unknown field", func(s *Spec) { s.Values["f1"] = "x" }, "unknown_field"},
		{"deadline passed", func(s *Spec) { s.SigningDeadline = t0 }, "deadline_passed"},
		{"deadline too far", func(s *Spec) { s.SigningDeadline = t0.Add(366 * 24 * time.Hour) }, "deadline_too_far"},
		{"expiry before deadline", func(s *Spec) { s.ExpiresAt = &early }, "expiry_before_deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec(true)
			tc.edit(&s)
			evs, err := Create(s, t0)
			if got := code(err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
			if err != nil {
				return
			}
			c := evs[0].(ContractCreated)
			if c.Parties[0].ID != "r1" || c.Parties[1].Contact != (Contact{Kind: "phone", Value: "13800138000"}) {
				t.Fatalf("parties not ordered and normalised: %+v", c.Parties)
			}
			if c.Values["f3"] != "1200.50" {
				t.Fatalf("values %v", c.Values)
			}
		})
	}
}

// given replays events then decides; want is the events' types or an error code.
func given(t *testing.T, evs ...Event) *Contract {
	t.Helper()
	c := New()
	for _, e := range evs {
		if err := c.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func created(t *testing.T, sequential bool) Event {
	evs, err := Create(spec(sequential), t0)
	if err != nil {
		t.Fatal(err)
	}
	return evs[0]
}

func sent(t *testing.T, c *Contract) Event {
	evs, err := c.Send("acct-sender", Quota{Kind: "enterprise", ID: "ent-a"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return evs[0]
}

var (
	person      = Signer{AccountID: "acct-zhang", Login: Contact{Kind: "phone", Value: "13800138000"}, VerifiedName: "张三"}
	enterpriseA = Signer{AccountID: "acct-wang", Login: Contact{Kind: "email", Value: "wang@example.com"}, VerifiedName: "王五",
		Enterprise: &SignerEnterprise{ID: "ent-a", Name: "杭州甲公司"}}
	seal = &SealUse{SealID: "s1", Name: "杭州甲公司公章", File: layout.File{SHA256: strings.Repeat("b", 64)}}
	sig  = &SignatureUse{Kind: "typed", Text: "张三"}
)

func types(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.EventType())
	}
	return strings.Join(s, ",")
}

func TestSigning(t *testing.T) {
	now := t0.Add(time.Hour)
	signingContract := func(sequential bool, more ...Event) *Contract {
		c := given(t, created(t, sequential))
		c = given(t, append([]Event{created(t, sequential), sent(t, c)}, more...)...)
		return c
	}
	signedBy := func(c *Contract, s Signing) Event {
		evs, err := c.Sign(s, now)
		if err != nil {
			t.Fatal(err)
		}
		return evs[0]
	}
	sealed := Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal, ClientIP: "10.0.0.1"}
	signed := Signing{PartyID: "r2", Signer: person, Signature: sig, ClientIP: "10.0.0.2"}
	cases := []struct {
		name string
		c    func() *Contract
		s    Signing
		at   time.Time
		want string // event types, or an error code
	}{
		{"enterprise first in order", func() *Contract { return signingContract(true) }, sealed, now, "PartySigned"},
		{"person before its turn", func() *Contract { return signingContract(true) }, signed, now, "not_your_turn"},
		{"person in parallel", func() *Contract { return signingContract(false) }, signed, now, "PartySigned"},
		{"last signature leaves it sealing, not completed", func() *Contract {
			c := signingContract(true)
			return given(t, created(t, true), sent(t, given(t, created(t, true))), signedBy(c, sealed))
		}, signed, now, "PartySigned,ContractFullySigned"},
		{"twice", func() *Contract {
			c := signingContract(false)
			return given(t, created(t, false), sent(t, given(t, created(t, false))), signedBy(c, signed))
		}, signed, now, "already_signed"},
		{"other login", func() *Contract { return signingContract(false) }, Signing{PartyID: "r2", Signer: Signer{AccountID: "x", Login: Contact{Kind: "phone", Value: "13900139000"}, VerifiedName: "张三"}, Signature: sig}, now, "not_this_party"},
		{"not verified", func() *Contract { return signingContract(false) }, Signing{PartyID: "r2", Signer: Signer{AccountID: "x", Login: person.Login}, Signature: sig}, now, "person_not_verified"},
		{"other name", func() *Contract { return signingContract(false) }, Signing{PartyID: "r2", Signer: Signer{AccountID: "x", Login: person.Login, VerifiedName: "李四"}, Signature: sig}, now, "name_mismatch"},
		{"no enterprise", func() *Contract { return signingContract(false) }, Signing{PartyID: "r1", Signer: person, Seal: seal}, now, "enterprise_required"},
		{"other enterprise", func() *Contract { return signingContract(false) }, Signing{PartyID: "r1", Signer: Signer{AccountID: "x", Enterprise: &SignerEnterprise{ID: "e2", Name: "别的公司"}}, Seal: seal}, now, "not_this_enterprise"},
		{"unverified enterprise", func() *Contract { return signingContract(false) }, Signing{PartyID: "r1", Signer: Signer{AccountID: "x", Enterprise: &SignerEnterprise{ID: "e2"}}, Seal: seal}, now, "enterprise_not_verified"},
		{"no seal", func() *Contract { return signingContract(false) }, Signing{PartyID: "r1", Signer: enterpriseA}, now, "seal_required"},
		{"no signature", func() *Contract { return signingContract(false) }, Signing{PartyID: "r2", Signer: person}, now, "signature_required"},
		{"unknown party", func() *Contract { return signingContract(false) }, Signing{PartyID: "r9", Signer: person, Signature: sig}, now, "party_not_found"},
		{"after deadline", func() *Contract { return signingContract(false) }, signed, t0.Add(8 * 24 * time.Hour), "contract_expired"},
		{"revoked", func() *Contract {
			return signingContract(false, ContractRevoked{RevokedBy: "acct-sender", Reason: "x", RevokedAt: now})
		}, signed, now, "contract_revoked"},
		{"expired", func() *Contract { return signingContract(false, ContractExpired{ExpiredAt: now}) }, signed, now, "contract_expired"},
		{"rejected", func() *Contract {
			return signingContract(false, PartyRejected{PartyID: "r1", Reason: "no", RejectedAt: now})
		}, signed, now, "contract_rejected"},
		{"completed", func() *Contract { return signingContract(false, ContractCompleted{CompletedAt: now}) }, signed, now, "contract_completed"},
		{"waiting for approval", func() *Contract {
			return given(t, created(t, false), ContractSubmittedForApproval{Approvers: []string{"a"}, SubmittedAt: t0})
		}, signed, now, "contract_not_sent"},
		{"not found", New, signed, now, "contract_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := tc.c().Sign(tc.s, tc.at)
			got := code(err)
			if err == nil {
				got = types(evs)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
}

func TestSignedRecordsWhatWasSigned(t *testing.T) {
	c := given(t, created(t, true))
	s := sent(t, c)
	c = given(t, created(t, true), s)
	evs, err := c.Sign(Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal, ClientIP: "10.0.0.1", Channel: "sms"}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ps := evs[0].(PartySigned)
	want := []DocumentHash{{DocumentID: "d1", SHA256: doc.File.SHA256}}
	if !reflect.DeepEqual(ps.Documents, want) || !reflect.DeepEqual(s.(ContractSent).Documents, want) {
		t.Fatalf("documents %v / %v", ps.Documents, s.(ContractSent).Documents)
	}
	if ps.EnterpriseID != "ent-a" || ps.Seal.SealID != "s1" || ps.Willingness != (Willingness{Method: WillingnessSMSCode, Channel: "sms", VerifiedAt: t0.Add(time.Minute)}) || ps.ClientIP != "10.0.0.1" || ps.SignerAccountID != "acct-wang" {
		t.Fatalf("signed %+v", ps)
	}
	if next := c.NextAfter(evs); len(next) != 1 || next[0].ID != "r2" {
		t.Fatalf("next after the enterprise: %v", next)
	}
}

func TestApprovalRevokeRejectExpire(t *testing.T) {
	now := t0.Add(time.Hour)
	pending := func() *Contract {
		return given(t, created(t, false), ContractSubmittedForApproval{Approvers: []string{"boss"}, SubmittedAt: t0})
	}
	signing := func() *Contract { c := given(t, created(t, false)); return given(t, created(t, false), sent(t, c)) }
	cases := []struct {
		name string
		do   func() ([]Event, error)
		want string
	}{
		{"approve", func() ([]Event, error) { return pending().Approve("boss", now) }, "ContractApproved"},
		{"approve by other", func() ([]Event, error) { return pending().Approve("acct-sender", now) }, "not_an_approver"},
		{"approve twice", func() ([]Event, error) {
			c := pending()
			evs, _ := c.Approve("boss", now)
			c.Apply(evs[0])
			more, _ := c.Send("acct-sender", Quota{}, now)
			c.Apply(more[0])
			return c.Approve("boss", now)
		}, "approval_decided"},
		{"send after approval", func() ([]Event, error) {
			c := pending()
			evs, _ := c.Approve("boss", now)
			c.Apply(evs[0])
			return c.Send("acct-sender", Quota{}, now)
		}, "ContractSent"},
		{"send while pending", func() ([]Event, error) { return pending().Send("acct-sender", Quota{}, now) }, "already_sent"},
		{"reject approval", func() ([]Event, error) { return pending().RejectApproval("boss", "价格不对", now) }, "ContractApprovalRejected"},
		{"reject approval without reason", func() ([]Event, error) { return pending().RejectApproval("boss", "", now) }, "missing_reason"},
		{"party rejects", func() ([]Event, error) { return signing().Reject("r2", person, "条款有误", "10.0.0.3", now) }, "PartyRejected"},
		{"party rejects without reason", func() ([]Event, error) { return signing().Reject("r2", person, " ", "", now) }, "missing_reason"},
		{"stranger rejects", func() ([]Event, error) {
			return signing().Reject("r2", Signer{AccountID: "x", Login: Contact{Kind: "phone", Value: "13900139000"}, VerifiedName: "张三"}, "no", "", now)
		}, "not_this_party"},
		{"revoke while signing", func() ([]Event, error) { return signing().Revoke("acct-sender", "发错了", now) }, "ContractRevoked"},
		{"revoke while pending", func() ([]Event, error) { return pending().Revoke("acct-sender", "发错了", now) }, "ContractRevoked"},
		{"revoke twice", func() ([]Event, error) {
			c := signing()
			evs, _ := c.Revoke("acct-sender", "x", now)
			c.Apply(evs[0])
			return c.Revoke("acct-sender", "x", now)
		}, "contract_revoked"},
		{"expire before deadline", func() ([]Event, error) { return signing().Expire(now) }, "not_due"},
		{"expire after deadline", func() ([]Event, error) { return signing().Expire(t0.Add(7 * 24 * time.Hour)) }, "ContractExpired"},
		{"expire twice", func() ([]Event, error) {
			c := signing()
			evs, _ := c.Expire(t0.Add(8 * 24 * time.Hour))
			c.Apply(evs[0])
			return c.Expire(t0.Add(8 * 24 * time.Hour))
		}, "contract_ended"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := tc.do()
			got := code(err)
			if err == nil {
				got = types(evs)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
}

func TestTurnWithEqualOrders(t *testing.T) {
	s := spec(true)
	s.Roles = append(s.Roles, layout.Role{ID: "r3", Name: "丙方", Kind: layout.Person, Order: 2})
	s.Parties["r3"] = PartyInput{Name: "李四", Contact: "lisi@example.com"}
	s.Fields = append(s.Fields, layout.Field{ID: "f9", Kind: layout.Signature, RoleID: "r3", DocumentID: "d1", Page: 1, Rect: rect()})
	evs, err := Create(s, t0)
	if err != nil {
		t.Fatal(err)
	}
	c := given(t, evs...)
	more, _ := c.Send("acct-sender", Quota{}, t0)
	c.Apply(more[0])
	if turn := c.Turn(); len(turn) != 1 || turn[0].ID != "r1" {
		t.Fatalf("turn %v", turn)
	}
	signed, err := c.Sign(Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if next := c.NextAfter(signed); len(next) != 2 {
		t.Fatalf("both order-2 parties are next: %v", next)
	}
}

func TestNumber(t *testing.T) {
	n := Number(time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), []byte{0xff, 0, 0x10, 0x20, 0x30})
	if !strings.HasPrefix(n, "HT20261201-") || len(n) != len("HT20261201-")+8 {
		t.Fatalf("number %q (Shanghai date, 8 chars)", n)
	}
	if strings.ContainsAny(n[11:], "ILOU") {
		t.Fatalf("number %q uses ambiguous letters", n)
	}
	if Number(t0, []byte{1, 2, 3, 4, 5}) == Number(t0, []byte{1, 2, 3, 4, 6}) {
		t.Fatal("different random, same number")
	}
}

func TestReplayRoundTrip(t *testing.T) {
	c := given(t, created(t, true))
	evs := []Event{created(t, true), sent(t, c)}
	c = given(t, evs...)
	signed, err := c.Sign(Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	evs = append(evs, signed...)
	var envs []event.Envelope
	for i, e := range evs {
		n, err := NewEvent("id"+string(rune('a'+i)), e, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, event.Envelope{Stream: StreamOf("c1"), Version: uint64(i + 1), Type: n.Type, Schema: n.Schema, Data: n.Data})
	}
	r, err := Replay(envs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version() != 3 || r.Status() != StatusSigning || len(r.Turn()) != 1 || r.Turn()[0].ID != "r2" {
		t.Fatalf("replayed %d %s %v", r.Version(), r.Status(), r.Turn())
	}
	a, _ := json.Marshal(r.Created())
	b, _ := json.Marshal(c.Created())
	if string(a) != string(b) {
		t.Fatalf("created differs after replay:\n%s\n%s", a, b)
	}
	if err := New().Apply(ContractSent{}); !errors.Is(err, event.ErrInvalid) {
		t.Fatalf("a stream opening with ContractSent: %v", err)
	}
}
