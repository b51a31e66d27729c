package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/eventstore"
)

func TestRegisterHappyPath(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "+86 138-1234-5678")
	sms := w.notes.Messages("13812345678")
	if len(sms) != 1 || sms[0].Channel != "sms" || sms[0].Body != "【signet】您的验证码是 "+code+"，5分钟内有效。" || !sms[0].SentAt.Equal(t0) {
		t.Fatalf("sms %+v", sms)
	}

	cmd := registration("138 1234 5678", code)
	cmd.Company, cmd.InvitedBy, cmd.AcceptPhoneFollowup = "无", "北京某某有限公司", true
	res, err := w.cmds.RegisterAccount.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(res.AccountID); err != nil || res.MaskedLogin != "138****5678" || res.Position != w.head(t) || res.Position != 3 {
		t.Fatalf("result %+v (head %d)", res, w.head(t))
	}

	login, _ := account.ParseLogin("13812345678")
	resv, err := w.store.ReadStream(ctx, login.ReservationStream(), 1, event.Forwards, 0)
	if err != nil || len(resv) != 1 || resv[0].Type != "LoginReserved" || resv[0].Schema != 1 {
		t.Fatalf("reservation stream %+v %v", resv, err)
	}
	var reserved map[string]any
	json.Unmarshal(resv[0].Data, &reserved)
	if reserved["account_id"] != res.AccountID || reserved["login_kind"] != "phone" || reserved["login_hash"] != login.Hash() {
		t.Errorf("LoginReserved %s", resv[0].Data)
	}

	acct, err := w.store.ReadStream(ctx, "account-"+res.AccountID, 1, event.Forwards, 0)
	if err != nil || len(acct) != 2 || acct[0].Type != "AccountRegistered" || acct[1].Type != "PersonalQuotaGranted" || acct[1].Position != res.Position {
		t.Fatalf("account stream %+v %v", acct, err)
	}
	var quota account.ContractQuotaGranted
	if err := json.Unmarshal(acct[1].Data, &quota); err != nil || quota != (account.ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "registration", GrantedAt: t0}) {
		t.Errorf("PersonalQuotaGranted %s %v", acct[1].Data, err)
	}
	var reg account.AccountRegistered
	if err := json.Unmarshal(acct[0].Data, &reg); err != nil {
		t.Fatal(err)
	}
	if reg.AccountID != res.AccountID || reg.LoginKind != account.Phone || reg.Login != "13812345678" || reg.Name != "张三" ||
		reg.Company != "无" || reg.InvitedBy != "北京某某有限公司" || !strings.HasPrefix(reg.PasswordHash, "$argon2id$v=19$") ||
		reg.PrivacyPolicy != (account.PrivacyConsent{Accepted: true, Version: "2026-01"}) || !reg.PhoneFollowup.Accepted ||
		!reg.RegisteredAt.Equal(t0) {
		t.Errorf("AccountRegistered %+v", reg)
	}
	if strings.Contains(string(acct[0].Data), "Passw0rd") {
		t.Error("password stored in clear")
	}
	for _, e := range []event.Envelope{resv[0], acct[0], acct[1]} {
		m := e.Meta
		if m.Actor != res.AccountID || m.ClientIP != "10.0.0.1" || m.CorrelationID != "corr-1" || !m.OccurredAt.Equal(t0) {
			t.Errorf("metadata of %s: %+v", e.Type, m)
		}
	}
	for _, s := range []string{login.ReservationStream(), "account-" + res.AccountID} {
		if err := eventstore.VerifyStream(ctx, w.store, s); err != nil {
			t.Error(err)
		}
	}

	// and the new account can log in
	lr, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := w.issuer.Verify(lr.Token, t0)
	if err != nil || claims.AccountID != res.AccountID || claims.Position != res.Position || lr.AccountID != res.AccountID {
		t.Fatalf("token claims %+v %v", claims, err)
	}
}

func TestRegisterWithEmail(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "  Alice@Example.COM ")
	m, _ := w.notes.Last("alice@example.com")
	if m.Channel != "email" || !strings.Contains(m.Subject, code) || !strings.Contains(m.Body, "您的验证码是 "+code+"，5分钟内有效。") {
		t.Fatalf("email %+v", m)
	}
	res, err := w.cmds.RegisterAccount.Handle(ctx, registration("alice@example.com", code))
	if err != nil {
		t.Fatal(err)
	}
	if res.MaskedLogin != "a***@example.com" {
		t.Errorf("masked %q", res.MaskedLogin)
	}
	// Phone and email accounts never merge: the same person may register a
	// phone login too.
	code = w.requestCode(t, "13812345678")
	if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code)); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterRefusalsAppendNothing: every refusal is a clear fault and
// leaves the event store as it was; refusals found by validation do not
// spend the code.
func TestRegisterRefusalsAppendNothing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(*commands.RegisterAccount)
		kind       fault.Kind
		code       string
		field      string
		spendsCode bool
	}{
		{name: "bad login", edit: func(c *commands.RegisterAccount) { c.Login = "1381234567" }, kind: fault.Invalid, code: "invalid_login", field: "login"},
		{name: "no name", edit: func(c *commands.RegisterAccount) { c.Name = "" }, kind: fault.Invalid, code: "name_required", field: "name"},
		{name: "no company", edit: func(c *commands.RegisterAccount) { c.Company = " " }, kind: fault.Invalid, code: "company_required", field: "company"},
		{name: "long inviter", edit: func(c *commands.RegisterAccount) { c.InvitedBy = strings.Repeat("x", 101) }, kind: fault.Invalid, code: "invalid_invited_by", field: "invited_by"},
		{name: "weak password", edit: func(c *commands.RegisterAccount) { c.Password = "password1" }, kind: fault.Invalid, code: "weak_password", field: "password"},
		{name: "short password", edit: func(c *commands.RegisterAccount) { c.Password = "Pa55" }, kind: fault.Invalid, code: "weak_password", field: "password"},
		{name: "no consent", edit: func(c *commands.RegisterAccount) { c.AcceptPrivacyPolicy = false }, kind: fault.Rule, code: "privacy_policy_required", field: "accept_privacy_policy"},
		{name: "malformed code", edit: func(c *commands.RegisterAccount) { c.Code = "12a456" }, kind: fault.Invalid, code: "invalid_code", field: "code"},
		{name: "no code", edit: func(c *commands.RegisterAccount) { c.Code = "" }, kind: fault.Invalid, code: "invalid_code", field: "code"},
		{name: "wrong code", edit: func(c *commands.RegisterAccount) { c.Code = wrongCode(c.Code) }, kind: fault.Invalid, code: "invalid_code", field: "code", spendsCode: true},
		{name: "code for another login", edit: func(c *commands.RegisterAccount) { c.Login = "13912345678" }, kind: fault.Invalid, code: "code_expired", field: "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			code := w.requestCode(t, "13812345678")
			cmd := registration("13812345678", code)
			tc.edit(&cmd)
			_, err := w.cmds.RegisterAccount.Handle(ctx, cmd)
			wantFault(t, err, tc.kind, tc.code, tc.field)
			if h := w.head(t); h != 0 {
				t.Fatalf("refusal appended: head %d", h)
			}
			// the right registration still works with the same code (a
			// wrong try only counts one of five)
			if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code)); err != nil {
				t.Fatalf("after refusal: %v", err)
			}
		})
	}
}

func TestRegisterExpiredCode(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	w.clock.Advance(5 * time.Minute)
	_, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	wantFault(t, err, fault.Invalid, "code_expired", "code")
	if w.head(t) != 0 {
		t.Fatal("expired code appended")
	}
}

func TestRegisterCodeJustBeforeExpiry(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	w.clock.Advance(5*time.Minute - time.Millisecond)
	if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code)); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterFiveWrongCodesBurn(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	cmd := registration("13812345678", wrongCode(code))
	for range 4 {
		_, err := w.cmds.RegisterAccount.Handle(ctx, cmd)
		wantFault(t, err, fault.Invalid, "invalid_code", "code")
	}
	_, err := w.cmds.RegisterAccount.Handle(ctx, cmd)
	wantFault(t, err, fault.Invalid, "code_attempts_exhausted", "code")
	_, err = w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	wantFault(t, err, fault.Invalid, "code_expired", "code")
	if w.head(t) != 0 {
		t.Fatal("appended")
	}
}

func TestRegisterTakenLogin(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code)); err != nil {
		t.Fatal(err)
	}
	head := w.head(t)

	// Asking for a code for a registered login is refused...
	_, err := w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "+8613812345678", Purpose: "register"})
	wantFault(t, err, fault.Conflict, "login_taken", "to")

	// ...and so is registering it again, even with a valid code, an hour later.
	w.clock.Advance(time.Hour)
	other, _ := withCodeFor(t, w, "13812345678")
	_, err = w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", other))
	wantFault(t, err, fault.Conflict, "login_taken", "login")
	if w.head(t) != head {
		t.Fatal("duplicate registration appended")
	}
}

// withCodeFor plants a code for dest directly in the code store (bypassing
// RequestCode, which refuses taken logins).
func withCodeFor(t *testing.T, w *world, dest string) (string, time.Time) {
	t.Helper()
	code, exp, _, err := w.codes.Issue(ctx, "register", dest)
	if err != nil {
		t.Fatal(err)
	}
	return code, exp
}

// acceptAnyCode is a code store for tests that are about something else
// than codes: every code is right.
type acceptAnyCode struct{}

func (acceptAnyCode) Issue(context.Context, string, string) (string, time.Time, time.Time, error) {
	return "000000", t0.Add(5 * time.Minute), t0.Add(time.Minute), nil
}
func (acceptAnyCode) Verify(context.Context, string, string, string) error { return nil }

func TestConcurrentRegistrationsOfOneLogin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []option
		other string // the refusal code of the losers
	}{
		// Every caller gets past the code: the reservation stream decides.
		{"reservation decides", []option{withCodes(acceptAnyCode{})}, "login_taken"},
		// Real codes: one code, consumed once.
		{"one code", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.opts...)
			code := "000000"
			if tc.other == "" {
				code = w.requestCode(t, "13812345678")
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			ids := make(chan string, 20)
			for i := range 20 {
				wg.Go(func() {
					cmd := registration("13812345678", code)
					cmd.Name = "Racer " + string(rune('A'+i))
					res, err := w.cmds.RegisterAccount.Handle(ctx, cmd)
					if err == nil {
						wins.Add(1)
						ids <- res.AccountID
						return
					}
					f, ok := fault.As(err)
					switch {
					case !ok:
						t.Errorf("failure: %v", err)
					case tc.other != "" && f.Code != tc.other:
						t.Errorf("loser got %v", err)
					case f.Code != "login_taken" && f.Code != "code_expired" && f.Code != "invalid_code":
						t.Errorf("loser got %v", err)
					}
				})
			}
			wg.Wait()
			close(ids)
			if wins.Load() != 1 {
				t.Fatalf("%d registrations won", wins.Load())
			}
			winner := <-ids
			// exactly one reservation event and one account (with its quota) in the whole log
			all, err := w.store.ReadAll(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range all {
				types = append(types, e.Type)
				if e.Type == "AccountRegistered" && e.Stream != "account-"+winner {
					t.Errorf("second account %s", e.Stream)
				}
			}
			if strings.Join(types, ",") != "LoginReserved,AccountRegistered,PersonalQuotaGranted" {
				t.Fatalf("log %v", types)
			}
		})
	}
}

// crashingStore fails appends to account streams while crash is set, like
// a process dying between the reservation and the account.
type crashingStore struct {
	commands.EventStore
	crash atomic.Bool
}

func (c *crashingStore) Append(ctx context.Context, stream string, expected event.ExpectedVersion, events ...event.New) (event.AppendResult, error) {
	if c.crash.Load() && strings.HasPrefix(stream, "account-") {
		return event.AppendResult{}, errors.New("disk on fire")
	}
	return c.EventStore.Append(ctx, stream, expected, events...)
}

func TestReclaimAbandonedReservation(t *testing.T) {
	var cs *crashingStore
	w := newWorld(t, withEvents(func(s commands.EventStore) commands.EventStore {
		cs = &crashingStore{EventStore: s}
		return cs
	}))
	login, _ := account.ParseLogin("13812345678")

	cs.crash.Store(true)
	code := w.requestCode(t, "13812345678")
	w.clock.Advance(10 * time.Second)
	reservedAt := w.clock.Now()
	_, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	wantFault(t, err, fault.Unavailable, "event_store_unavailable", "")
	if !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("cause lost: %v", err)
	}
	cs.crash.Store(false)
	resv, _ := w.store.ReadStream(ctx, login.ReservationStream(), 1, event.Forwards, 0)
	if len(resv) != 1 || w.head(t) != 1 {
		t.Fatalf("after crash: reservation %d events, head %d", len(resv), w.head(t))
	}
	var abandoned account.LoginReserved
	json.Unmarshal(resv[0].Data, &abandoned)

	// The login has no account, so a code may be requested again; but
	// just before ReclaimAfter a registration may still be in progress:
	// taken (the code is spent: only a code holder learns that).
	w.clock.Set(reservedAt.Add(account.ReclaimAfter - 2*time.Second))
	code = w.requestCode(t, "13812345678")
	w.clock.Set(reservedAt.Add(account.ReclaimAfter - time.Second))
	_, err = w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	wantFault(t, err, fault.Conflict, "login_taken", "login")
	if w.head(t) != 1 {
		t.Fatal("appended while reservation fresh")
	}

	// ReclaimAfter after the reservation it is reclaimed (with a new code,
	// a minute after the last one).
	w.clock.Set(reservedAt.Add(account.ReclaimAfter + time.Minute))
	code = w.requestCode(t, "13812345678")
	res, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	if err != nil {
		t.Fatal(err)
	}
	resv, _ = w.store.ReadStream(ctx, login.ReservationStream(), 1, event.Forwards, 0)
	if len(resv) != 2 || resv[1].Type != "LoginReservationReclaimed" || resv[1].Version != 2 {
		t.Fatalf("reservation stream %+v", resv)
	}
	var rec account.LoginReservationReclaimed
	json.Unmarshal(resv[1].Data, &rec)
	if rec.AccountID != res.AccountID || rec.PreviousAccountID != abandoned.AccountID || rec.LoginHash != login.Hash() {
		t.Errorf("reclaim %+v", rec)
	}
	if err := eventstore.VerifyStream(ctx, w.store, login.ReservationStream()); err != nil {
		t.Error(err)
	}
	if _, err := w.store.ReadStream(ctx, "account-"+abandoned.AccountID, 1, event.Forwards, 0); !errors.Is(err, event.ErrNotFound) {
		t.Errorf("abandoned account stream: %v", err)
	}
	lr, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd"})
	if err != nil || lr.AccountID != res.AccountID {
		t.Fatalf("login after reclaim: %+v %v", lr, err)
	}

	// A reclaimed login with an account is as taken as any.
	w.clock.Advance(time.Hour)
	other, _ := withCodeFor(t, w, "13812345678")
	_, err = w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", other))
	wantFault(t, err, fault.Conflict, "login_taken", "login")
}

// TestConcurrentReclaims: many registrations find one abandoned reservation
// at once; exactly one reclaims it.
func TestConcurrentReclaims(t *testing.T) {
	var cs *crashingStore
	w := newWorld(t, withCodes(acceptAnyCode{}), withEvents(func(s commands.EventStore) commands.EventStore {
		cs = &crashingStore{EventStore: s}
		return cs
	}))
	cs.crash.Store(true)
	if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("a@example.com", "000000")); err == nil {
		t.Fatal("crash did not fail")
	}
	cs.crash.Store(false)
	w.clock.Advance(account.ReclaimAfter + time.Minute)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := w.cmds.RegisterAccount.Handle(ctx, registration("a@example.com", "000000"))
			if err == nil {
				wins.Add(1)
			} else if f, ok := fault.As(err); !ok || f.Code != "login_taken" {
				t.Errorf("loser: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d won", wins.Load())
	}
	login, _ := account.ParseLogin("a@example.com")
	resv, _ := w.store.ReadStream(ctx, login.ReservationStream(), 1, event.Forwards, 0)
	if len(resv) != 2 {
		t.Fatalf("reservation stream has %d events", len(resv))
	}
}

// slowHasher takes most of ReclaimAfter in clock time.
type slowHasher struct {
	commands.PasswordHasher
	w *world
}

func (s slowHasher) Hash(pw string) (string, error) {
	s.w.clock.Advance(account.ReclaimAfter * 3 / 4)
	return s.PasswordHasher.Hash(pw)
}

func TestRegisterTooSlowGivesUp(t *testing.T) {
	w := newWorld(t)
	var hasher commands.PasswordHasher
	// rebuild RegisterAccount with a hasher slower than half of ReclaimAfter
	d := commands.Deps{Events: w.store, Codes: w.codes, Clock: w.clock, Logger: slog.New(slog.DiscardHandler)}
	hasher = slowHasher{PasswordHasher: mustHasher(t), w: w}
	d.Hasher = hasher
	h := commands.NewRegisterAccountHandler(d)
	code := w.requestCode(t, "13812345678")
	_, err := h.Handle(ctx, registration("13812345678", code))
	wantFault(t, err, fault.Unavailable, "registration_timeout", "")
	if w.head(t) != 1 {
		t.Fatalf("head %d, want just the reservation", w.head(t))
	}
}

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
