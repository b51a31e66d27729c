package commands_test

import (
	"sync"
	"testing"
	"time"

	"signet/commands"
	"signet/domain/fault"
)

func register(t *testing.T, w *world, login string) commands.RegisterAccountResult {
	t.Helper()
	code, _ := withCodeFor(t, w, mustNormal(t, login))
	res, err := w.cmds.RegisterAccount.Handle(ctx, registration(login, code))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLogin(t *testing.T) {
	w := newWorld(t)
	first := register(t, w, "13812345678")
	second := register(t, w, "a@example.com")
	// each registration appends LoginReserved, AccountRegistered and PersonalQuotaGranted
	if w.head(t) != 6 || first.Position != 3 || second.Position != 6 {
		t.Fatalf("positions %d %d head %d", first.Position, second.Position, w.head(t))
	}

	w.clock.Advance(time.Hour)
	res, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "+86 138 1234 5678", Password: "Passw0rd", ClientIP: "10.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountID != first.AccountID || !res.ExpiresAt.Equal(w.clock.Now().Add(12*time.Hour)) {
		t.Fatalf("result %+v", res)
	}
	c, err := w.issuer.Verify(res.Token, w.clock.Now())
	// the position of the account's own last event, not the log's head
	if err != nil || c.AccountID != first.AccountID || c.Position != first.Position {
		t.Fatalf("claims %+v %v", c, err)
	}
	if _, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "A@Example.com", Password: "Passw0rd"}); err != nil {
		t.Fatal(err)
	}
}

func TestLoginRefusals(t *testing.T) {
	w := newWorld(t)
	register(t, w, "13812345678")
	head := w.head(t)

	_, unknown := w.cmds.Login.Handle(ctx, commands.Login{Login: "13912345678", Password: "Passw0rd"})
	_, wrong := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd!"})
	fu := wantFault(t, unknown, fault.Unauthorized, "invalid_credentials", "")
	fw := wantFault(t, wrong, fault.Unauthorized, "invalid_credentials", "")
	if *fu != *fw {
		t.Errorf("unknown login and wrong password differ: %+v / %+v", fu, fw)
	}
	// A phone login's email twin does not exist.
	_, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678@example.com", Password: "Passw0rd"})
	wantFault(t, err, fault.Unauthorized, "invalid_credentials", "")

	_, err = w.cmds.Login.Handle(ctx, commands.Login{Login: "nope", Password: "Passw0rd"})
	wantFault(t, err, fault.Invalid, "invalid_login", "login")
	_, err = w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678"})
	wantFault(t, err, fault.Invalid, "password_required", "password")
	if w.head(t) != head {
		t.Fatal("login appended events")
	}
}

func TestLoginThrottle(t *testing.T) {
	w := newWorld(t)
	register(t, w, "13812345678")
	bad := commands.Login{Login: "13812345678", Password: "Wr0ngPass"}
	for i := 1; i <= 5; i++ {
		_, err := w.cmds.Login.Handle(ctx, bad)
		wantFault(t, err, fault.Unauthorized, "invalid_credentials", "")
		w.clock.Advance(2 * time.Minute)
	}
	// Locked (since the 5th failure, 2 minutes ago): even the right password.
	good := commands.Login{Login: "138-1234-5678", Password: "Passw0rd"}
	_, err := w.cmds.Login.Handle(ctx, good)
	f := wantFault(t, err, fault.RateLimited, "login_locked", "")
	if f.RetryAfter != 13*time.Minute {
		t.Errorf("RetryAfter %v", f.RetryAfter)
	}
	// Other logins are not affected.
	register(t, w, "b@example.com")
	if _, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "b@example.com", Password: "Passw0rd"}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(13 * time.Minute)
	if _, err := w.cmds.Login.Handle(ctx, good); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestLoginThrottleUnknownLogin(t *testing.T) {
	w := newWorld(t)
	for range 5 {
		_, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd"})
		wantFault(t, err, fault.Unauthorized, "invalid_credentials", "")
	}
	_, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd"})
	wantFault(t, err, fault.RateLimited, "login_locked", "")
}

func TestLoginSuccessResetsFailures(t *testing.T) {
	w := newWorld(t)
	register(t, w, "13812345678")
	bad := commands.Login{Login: "13812345678", Password: "Wr0ngPass"}
	good := commands.Login{Login: "13812345678", Password: "Passw0rd"}
	for range 4 {
		w.cmds.Login.Handle(ctx, bad)
	}
	if _, err := w.cmds.Login.Handle(ctx, good); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		w.cmds.Login.Handle(ctx, bad)
	}
	if _, err := w.cmds.Login.Handle(ctx, good); err != nil {
		t.Fatalf("failures before a success still counted: %v", err)
	}
}

// A burst of wrong passwords cannot all pass the throttle before the first
// failure is recorded: at most five are tried, the rest are refused as
// locked, and so is the right password afterwards.
func TestLoginThrottleConcurrentGuesses(t *testing.T) {
	w := newWorld(t)
	register(t, w, "13812345678")
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Wr0ngPass"})
		}()
	}
	wg.Wait()
	tried := 0
	for _, err := range errs {
		f, ok := fault.As(err)
		switch {
		case ok && f.Code == "invalid_credentials":
			tried++
		case ok && f.Code == "login_locked":
		default:
			t.Fatalf("error %v", err)
		}
	}
	if tried > 5 {
		t.Fatalf("%d of %d concurrent guesses were tried, want at most 5", tried, n)
	}
	_, err := w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Passw0rd"})
	wantFault(t, err, fault.RateLimited, "login_locked", "")
}
