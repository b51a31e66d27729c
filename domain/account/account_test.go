package account

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var (
	t0        = time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)
	accountID = "7f9c2ba4-e88f-4e26-9d3a-0d3f1b3f5a10"
	otherID   = "0b7e1d2c-4a5f-4c3e-8b9d-1e2f3a4b5c6d"
)

func mustLogin(s string) Login {
	l, err := ParseLogin(s)
	if err != nil {
		panic(err)
	}
	return l
}

func registered() AccountRegistered {
	return AccountRegistered{
		AccountID: accountID, LoginKind: Phone, Login: "13812345678", Name: "张三", Company: NoCompany,
		PasswordHash: "$argon2id$hash", PrivacyPolicy: PrivacyConsent{Accepted: true, Version: "2026-01"},
		RegisteredAt: t0.Truncate(time.Microsecond),
	}
}

func registrationQuota() ContractQuotaGranted {
	return ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "registration", GrantedAt: t0.Truncate(time.Microsecond)}
}

func TestAccountRegister(t *testing.T) {
	app := Application{Login: mustLogin("13812345678"), Name: "张三", Company: NoCompany, AcceptPrivacyPolicy: true}
	reg := Registration{AccountID: accountID, PasswordHash: "$argon2id$hash", PrivacyPolicyVersion: "2026-01"}
	for _, tc := range []struct {
		name  string
		given []Event
		app   func(Application) Application
		reg   func(Registration) Registration
		want  []Event
		err   string // fault code, or "error" for a plain error
	}{
		{name: "new account", want: []Event{registered(), registrationQuota()}},
		{name: "with inviter and follow-up", app: func(a Application) Application {
			a.InvitedBy, a.AcceptPhoneFollowup = "某某公司", true
			return a
		}, want: func() []Event {
			e := registered()
			e.InvitedBy, e.PhoneFollowup.Accepted = "某某公司", true
			return []Event{e, registrationQuota()}
		}()},
		{name: "unnormalised fields are normalised", app: func(a Application) Application {
			a.Name = " 张三 "
			return a
		}, want: []Event{registered(), registrationQuota()}},
		{name: "already registered", given: []Event{registered()}, err: "already_registered"},
		{name: "no consent", app: func(a Application) Application { a.AcceptPrivacyPolicy = false; return a }, err: "privacy_policy_required"},
		{name: "no login", app: func(a Application) Application { a.Login = Login{}; return a }, err: "invalid_login"},
		{name: "no name", app: func(a Application) Application { a.Name = ""; return a }, err: "name_required"},
		{name: "no company", app: func(a Application) Application { a.Company = ""; return a }, err: "company_required"},
		{name: "id not uuid", reg: func(r Registration) Registration { r.AccountID = "x"; return r }, err: "error"},
		{name: "no hash", reg: func(r Registration) Registration { r.PasswordHash = ""; return r }, err: "error"},
		{name: "no policy version", reg: func(r Registration) Registration { r.PrivacyPolicyVersion = ""; return r }, err: "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Account{}
			for _, e := range tc.given {
				if err := a.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			ap, r := app, reg
			if tc.app != nil {
				ap = tc.app(ap)
			}
			if tc.reg != nil {
				r = tc.reg(r)
			}
			got, err := a.Register(ap, r, t0)
			switch {
			case tc.err == "error":
				if err == nil {
					t.Fatalf("events %v, want error", got)
				}
				if _, isFault := fault.As(err); isFault {
					t.Fatalf("programming error reported as refusal: %v", err)
				}
			case tc.err != "":
				f, ok := fault.As(err)
				if !ok || f.Code != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tc.want):
				t.Fatalf("events\n got %+v\nwant %+v", got, tc.want)
			}
			if err == nil {
				// new events go through the same Apply as replay
				for _, e := range got {
					if err := a.Apply(e); err != nil {
						t.Fatal(err)
					}
				}
				if a.ID() != accountID || a.Version() != 2 || a.Quota() != RegistrationQuota || a.Verified() || a.Status() != StatusActive || a.PasswordHash() != "$argon2id$hash" ||
					a.Login() != app.Login || a.CheckCanLogIn() != nil {
					t.Fatalf("state after apply: %+v", a)
				}
			}
		})
	}
}

func TestAccountApplyRefusesOutOfPlaceEvents(t *testing.T) {
	a := &Account{}
	if err := a.Apply(LoginReserved{}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("reservation event on account: %v", err)
	}
	bad := registered()
	bad.Login = "not a phone"
	if err := a.Apply(bad); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("bad login: %v", err)
	}
	if err := a.Apply(registered()); err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(registered()); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("second registration: %v", err)
	}
	if (&Account{}).CheckCanLogIn() == nil {
		t.Error("unregistered account may log in")
	}
}

func TestReservation(t *testing.T) {
	login := mustLogin("a@example.com")
	reserved := LoginReserved{LoginKind: Email, LoginHash: login.Hash(), AccountID: accountID, ReservedAt: t0.Truncate(time.Microsecond)}
	thirdID := "3c8d9e0f-1a2b-4c3d-9e4f-5a6b7c8d9e0f"
	reclaimed := LoginReservationReclaimed{LoginKind: Email, LoginHash: login.Hash(), PreviousAccountID: accountID,
		AccountID: otherID, ReclaimedAt: t0.Add(ReclaimAfter).Truncate(time.Microsecond)}
	type decide func(r *Reservation) ([]Event, error)
	reserve := func(id string, at time.Time) decide {
		return func(r *Reservation) ([]Event, error) { return r.Reserve(login, id, at) }
	}
	reclaim := func(id string, exists bool, at time.Time) decide {
		return func(r *Reservation) ([]Event, error) { return r.Reclaim(id, exists, at) }
	}
	for _, tc := range []struct {
		name   string
		given  []Event
		decide decide
		want   []Event
		err    string
	}{
		{"reserve free login", nil, reserve(accountID, t0), []Event{reserved}, ""},
		{"reserve taken login", []Event{reserved}, reserve(otherID, t0), nil, "login_taken"},
		{"reclaim when account exists", []Event{reserved}, reclaim(otherID, true, t0.Add(time.Hour)), nil, "login_taken"},
		{"reclaim too early", []Event{reserved}, reclaim(otherID, false, t0.Add(ReclaimAfter-time.Second)), nil, "login_taken"},
		{"reclaim after ReclaimAfter", []Event{reserved}, reclaim(otherID, false, t0.Add(ReclaimAfter)), []Event{reclaimed}, ""},
		{"reclaim a reclaim too early", []Event{reserved, reclaimed}, reclaim(thirdID, false, t0.Add(90*time.Second)), nil, "login_taken"},
		{"reclaim a reclaim", []Event{reserved, reclaimed}, reclaim(thirdID, false, t0.Add(2*ReclaimAfter)), []Event{LoginReservationReclaimed{
			LoginKind: Email, LoginHash: login.Hash(), PreviousAccountID: otherID, AccountID: thirdID,
			ReclaimedAt: t0.Add(2 * ReclaimAfter).Truncate(time.Microsecond)}}, ""},
		{"reclaim nothing", nil, reclaim(otherID, false, t0), nil, "error"},
		{"reclaim by holder", []Event{reserved}, reclaim(accountID, false, t0.Add(time.Hour)), nil, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reservation{}
			for _, e := range tc.given {
				if err := r.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.decide(r)
			switch {
			case tc.err == "error":
				if err == nil {
					t.Fatalf("events %v, want error", got)
				}
			case tc.err != "":
				f, ok := fault.As(err)
				if !ok || f.Code != tc.err || f.Kind != fault.Conflict {
					t.Fatalf("error %v, want conflict %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tc.want):
				t.Fatalf("events\n got %+v\nwant %+v", got, tc.want)
			default:
				for _, e := range got {
					if err := r.Apply(e); err != nil {
						t.Fatal(err)
					}
				}
				last := got[len(got)-1]
				var holder string
				switch e := last.(type) {
				case LoginReserved:
					holder = e.AccountID
				case LoginReservationReclaimed:
					holder = e.AccountID
				}
				if r.Holder() != holder || r.Version() != uint64(len(tc.given)+1) {
					t.Fatalf("holder %s version %d", r.Holder(), r.Version())
				}
			}
		})
	}
	if err := (&Reservation{}).Apply(reclaimed); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("reclaim opening a stream: %v", err)
	}
	if err := (&Reservation{}).Apply(registered()); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("account event on reservation: %v", err)
	}
}

// TestEventJSON pins the stored shape of every event: type names, schema
// versions and snake_case payloads must never change silently.
func TestEventJSON(t *testing.T) {
	for _, tc := range []struct {
		e      Event
		typ    string
		schema int
		json   string
	}{
		{registered(), "AccountRegistered", 1, `{"account_id":"7f9c2ba4-e88f-4e26-9d3a-0d3f1b3f5a10","login_kind":"phone","login":"13812345678","name":"张三","company":"无","invited_by":"","password_hash":"$argon2id$hash","privacy_policy":{"accepted":true,"version":"2026-01"},"phone_followup":{"accepted":false},"registered_at":"2026-11-30T08:00:00.123456Z"}`},
		{LoginReserved{LoginKind: Email, LoginHash: "ab", AccountID: accountID, ReservedAt: t0.Truncate(time.Second)}, "LoginReserved", 1,
			`{"login_kind":"email","login_hash":"ab","account_id":"7f9c2ba4-e88f-4e26-9d3a-0d3f1b3f5a10","reserved_at":"2026-11-30T08:00:00Z"}`},
		{LoginReservationReclaimed{LoginKind: Phone, LoginHash: "ab", PreviousAccountID: accountID, AccountID: otherID, ReclaimedAt: t0.Truncate(time.Second)},
			"LoginReservationReclaimed", 1,
			`{"login_kind":"phone","login_hash":"ab","previous_account_id":"7f9c2ba4-e88f-4e26-9d3a-0d3f1b3f5a10","account_id":"0b7e1d2c-4a5f-4c3e-8b9d-1e2f3a4b5c6d","reclaimed_at":"2026-11-30T08:00:00Z"}`},
	} {
		typ, schema, data, err := Encode(tc.e)
		if err != nil {
			t.Fatal(err)
		}
		if typ != tc.typ || schema != tc.schema || string(data) != tc.json {
			t.Errorf("Encode(%T) = %s v%d %s\nwant %s v%d %s", tc.e, typ, schema, data, tc.typ, tc.schema, tc.json)
		}
		back, err := Decode(tc.typ, tc.schema, []byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tc.e) {
			t.Errorf("Decode = %+v, want %+v", back, tc.e)
		}
	}
}

type strange struct{}

func (strange) EventType() string { return "AccountRegistered" }

func TestCodecRefusals(t *testing.T) {
	if _, _, _, err := Encode(strange{}); !IsUnknownEvent(err) {
		t.Errorf("encode foreign type: %v", err)
	}
	if _, err := Decode("AccountDeleted", 1, []byte(`{}`)); !IsUnknownEvent(err) || !errors.Is(err, event.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Decode(TypeAccountRegistered, 2, []byte(`{}`)); !IsUnknownEvent(err) {
		t.Errorf("unknown schema: %v", err)
	}
	if _, err := Decode(TypeAccountRegistered, 1, []byte(`[`)); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("bad JSON: %v", err)
	}
	for _, typ := range EventTypes() {
		if !codec.Has(typ) {
			t.Errorf("EventTypes lists unregistered %s", typ)
		}
	}
	if len(EventTypes()) != len(codec.Types()) {
		t.Error("EventTypes and the codec disagree")
	}
}

func TestReplay(t *testing.T) {
	meta := event.Metadata{Actor: accountID, OccurredAt: t0}
	n, err := NewEvent("e1", registered(), meta)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Meta.OccurredAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("metadata not normalised: %v", n.Meta.OccurredAt)
	}
	env := event.Envelope{ID: n.ID, Stream: StreamOf(accountID), Version: 1, Position: 42, Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta}
	a, err := Replay([]event.Envelope{env})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != accountID || a.Version() != 1 || a.Name() != "张三" || a.Company() != NoCompany ||
		a.PrivacyPolicy().Version != "2026-01" || !a.RegisteredAt().Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("replayed %+v", a)
	}
	env.Version = 2
	if _, err := Replay([]event.Envelope{env}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("gap: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(n.Data, &raw); err != nil || raw["account_id"] != accountID {
		t.Errorf("payload %s", n.Data)
	}

	login := mustLogin("13812345678")
	rn, _ := NewEvent("e2", LoginReserved{LoginKind: Phone, LoginHash: login.Hash(), AccountID: accountID, ReservedAt: t0}, meta)
	r, err := ReplayReservation([]event.Envelope{{Stream: login.ReservationStream(), Version: 1, Type: rn.Type, Schema: rn.Schema, Data: rn.Data}})
	if err != nil || r.Holder() != accountID || !r.Reserved() {
		t.Errorf("reservation replay: %+v %v", r, err)
	}
}
