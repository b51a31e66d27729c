package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/fault"
	"signet/infra/notify"
)

func TestRequestCodeRefusals(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		cmd         commands.RequestCode
		kind        fault.Kind
		code, field string
	}{
		{commands.RequestCode{To: "13812345678", Purpose: "reset"}, fault.Invalid, "invalid_purpose", "purpose"},
		{commands.RequestCode{To: "13812345678"}, fault.Invalid, "invalid_purpose", "purpose"},
		{commands.RequestCode{To: "12345", Purpose: "register"}, fault.Invalid, "invalid_login", "to"},
		{commands.RequestCode{To: "", Purpose: "register"}, fault.Invalid, "invalid_login", "to"},
	} {
		_, err := w.cmds.RequestCode.Handle(ctx, tc.cmd)
		wantFault(t, err, tc.kind, tc.code, tc.field)
	}
	if len(w.notes.All()) != 0 {
		t.Error("refused requests sent messages")
	}
}

func TestRequestCodeRates(t *testing.T) {
	w := newWorld(t)
	res, err := w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "13812345678", Purpose: "register"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.ExpiresAt.Equal(t0.Add(5*time.Minute)) || !res.ResendAfter.Equal(t0.Add(time.Minute)) {
		t.Fatalf("result %+v", res)
	}
	// Resend after one minute, not before.
	w.clock.Advance(59 * time.Second)
	_, err = w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "138 1234 5678", Purpose: "register"})
	f := wantFault(t, err, fault.RateLimited, "code_too_soon", "")
	if f.RetryAfter != time.Second {
		t.Errorf("RetryAfter %v", f.RetryAfter)
	}
	w.clock.Advance(time.Second)
	for i := 2; i <= 10; i++ {
		if _, err := w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "13812345678", Purpose: "register"}); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
		w.clock.Advance(time.Minute)
	}
	// The 11th code of the (Shanghai) day is refused until midnight there.
	_, err = w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "13812345678", Purpose: "register"})
	f = wantFault(t, err, fault.RateLimited, "code_daily_limit", "")
	midnight := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC) // 2026-12-01 00:00 +08:00
	if f.RetryAfter != midnight.Sub(w.clock.Now()) {
		t.Errorf("RetryAfter %v", f.RetryAfter)
	}
	if n := len(w.notes.Messages("13812345678")); n != 10 {
		t.Errorf("%d messages sent", n)
	}
	w.clock.Set(midnight)
	if _, err := w.cmds.RequestCode.Handle(ctx, commands.RequestCode{To: "13812345678", Purpose: "register"}); err != nil {
		t.Fatalf("next day: %v", err)
	}
	// The latest code is the one that works.
	code := w.lastCode(t, "13812345678")
	if _, err := w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code)); err != nil {
		t.Fatal(err)
	}
}

type brokenNotifier struct{}

func (brokenNotifier) Notify(context.Context, notify.Message) error {
	return errors.New("sms gateway down")
}

func TestRequestCodeNotifierDown(t *testing.T) {
	w := newWorld(t)
	h := commands.NewRequestCodeHandler(commands.Deps{Events: w.store, Codes: w.codes, Senders: w.senders, Notifier: brokenNotifier{}, Clock: w.clock,
		Logger: discard()})
	_, err := h.Handle(ctx, commands.RequestCode{To: "13812345678", Purpose: "register"})
	wantFault(t, err, fault.Unavailable, "notify_failed", "")
}
