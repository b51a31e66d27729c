package commands_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"signet/commands"
	"signet/domain/account"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/bank"
)

// interleaved lets a test run a write right after the next stream read of
// the handlers, as a concurrent request landing at that moment would.
type interleaved struct {
	commands.EventStore
	mu   sync.Mutex
	next func()
}

func (s *interleaved) after(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = f
}

func (s *interleaved) ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error) {
	envs, err := s.EventStore.ReadStream(ctx, stream, from, dir, limit)
	s.mu.Lock()
	f := s.next
	s.next = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return envs, err
}

var sentCodeRE = regexp.MustCompile(`验证码 (\d{6})`)

func codeSentTo(t *testing.T, w *world, phone string) string {
	t.Helper()
	m, ok := w.notes.Last(phone)
	if !ok {
		t.Fatalf("no SMS to %s", phone)
	}
	c := sentCodeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in %q", m.Body)
	}
	return c[1]
}

func streamTypes(t *testing.T, w *world, stream string) string {
	t.Helper()
	envs, err := w.store.ReadStream(ctx, stream, 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, env := range envs {
		out = append(out, env.Type)
	}
	return strings.Join(out, ",")
}

// phoneCase walks an enterprise of a up to the legal-rep phone check.
func phoneCase(t *testing.T, w *world, a commands.Actor) string {
	t.Helper()
	id, _ := openCase(t, w, a.AccountID, entName, enterprise.MethodLegalRepPhone)
	return id
}

// A code proves the phone it was sent to, nothing else: a carrier check
// that lands while a code is being confirmed (a second request of the same
// user, for someone else's phone) is not proven by that confirmation.
func TestPhoneConfirmationRacingACarrierCheck(t *testing.T) {
	const (
		ownPhone    = "13912345001"
		victimPhone = "13912345002"
		victimID    = "11010519491231002X"
	)
	tests := []struct {
		name string
		run  func(t *testing.T, w *world, s *interleaved, a commands.Actor) (err error, stream string)
	}{
		{"personal, no code asked before", func(t *testing.T, w *world, s *interleaved, a commands.Actor) (error, string) {
			s.after(func() {
				if _, err := w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "王五", IDNumber: victimID, Phone: victimPhone}); err != nil {
					t.Error(err)
				}
			})
			_, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: "123456"})
			return err, account.StreamOf(a.AccountID)
		}},
		{"personal, own code", func(t *testing.T, w *world, s *interleaved, a commands.Actor) (error, string) {
			if _, err := w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "张三", IDNumber: "110105194912310038", Phone: ownPhone}); err != nil {
				t.Fatal(err)
			}
			code := codeSentTo(t, w, ownPhone)
			s.after(func() {
				if _, err := w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "王五", IDNumber: victimID, Phone: victimPhone}); err != nil {
					t.Error(err)
				}
			})
			_, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: code})
			return err, account.StreamOf(a.AccountID)
		}},
		{"enterprise, no code asked before", func(t *testing.T, w *world, s *interleaved, a commands.Actor) (error, string) {
			id := phoneCase(t, w, a)
			s.after(func() {
				if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: victimPhone}); err != nil {
					t.Error(err)
				}
			})
			_, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: "123456"})
			return err, enterprise.StreamOf(id)
		}},
		{"enterprise, code of another phone", func(t *testing.T, w *world, s *interleaved, a commands.Actor) (error, string) {
			id := phoneCase(t, w, a)
			if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: ownPhone}); err != nil {
				t.Fatal(err)
			}
			code := codeSentTo(t, w, ownPhone)
			s.after(func() {
				if _, err := w.cmds.SendPhoneCode.Handle(ctx, commands.SendPhoneCode{Actor: a, EnterpriseID: id, Phone: victimPhone}); err != nil {
					t.Error(err)
				}
			})
			_, err := w.cmds.ConfirmPhoneCode.Handle(ctx, commands.ConfirmPhoneCode{Actor: a, EnterpriseID: id, Code: code})
			return err, enterprise.StreamOf(id)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &interleaved{}
			w := newWorld(t, withEvents(func(es commands.EventStore) commands.EventStore { s.EventStore = es; return s }))
			acct := register(t, w, "13800138301")
			a := commands.Actor{AccountID: acct.AccountID, ClientIP: "10.0.0.3"}
			for _, side := range []account.Side{account.Portrait, account.Emblem} {
				if _, err := w.cmds.UploadPersonalIDCard.Handle(ctx, commands.UploadPersonalIDCard{Actor: a, Side: side,
					File: commands.Upload{Data: []byte("id card " + string(side)), MediaType: "image/png"}}); err != nil {
					t.Fatal(err)
				}
			}
			err, stream := tc.run(t, w, s, a)
			wantFault(t, err, fault.Conflict, "phone_check_changed", "")
			if evs := streamTypes(t, w, stream); strings.Contains(evs, "Verified") {
				t.Fatalf("verified without the code of the checked phone: %s", evs)
			}
		})
	}
}

// Command logs never carry ID, phone or bank account numbers.
func TestVerificationLogsHoldNoPersonalNumbers(t *testing.T) {
	w := newWorld(t)
	acct := register(t, w, "13800138311")
	a := commands.Actor{AccountID: acct.AccountID, ClientIP: "10.0.0.4"}
	id, fen := depositCase(t, w, acct.AccountID)
	if _, err := w.cmds.ConfirmMicroDeposit.Handle(ctx, commands.ConfirmMicroDeposit{Actor: a, EnterpriseID: id, Amount: bank.FormatFen(fen%99 + 1)}); err == nil {
		t.Fatal("a wrong amount was accepted")
	}
	for _, side := range []account.Side{account.Portrait, account.Emblem} {
		if _, err := w.cmds.UploadPersonalIDCard.Handle(ctx, commands.UploadPersonalIDCard{Actor: a, Side: side,
			File: commands.Upload{Data: []byte("id " + string(side)), MediaType: "image/png"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, phone := range []string{"13912340000", "13912345003"} { // a mismatch, then a match
		_, _ = w.cmds.SendPersonalPhoneCode.Handle(ctx, commands.SendPersonalPhoneCode{Actor: a, Name: "王五", IDNumber: "11010519491231002X", Phone: phone})
	}
	if _, err := w.cmds.ConfirmPersonalPhoneCode.Handle(ctx, commands.ConfirmPersonalPhoneCode{Actor: a, Code: codeSentTo(t, w, "13912345003")}); err != nil {
		t.Fatal(err)
	}
	logs := w.logs.String()
	for _, secret := range []string{"11010519491231002X", "13912340000", "13912345003", "6214830112345678"} {
		if strings.Contains(logs, secret) {
			t.Errorf("command logs show %s", secret)
		}
	}
}
