package codes

import (
	"sync"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb/redistest"
)

// wrongPassword is one login attempt that fails, as the Login handler makes
// it: Check, then Failed.
func wrongPassword(t *testing.T, th *Throttle, login string) (locked bool) {
	t.Helper()
	if err := th.Check(ctx, login); err != nil {
		t.Fatalf("check: %v", err)
	}
	locked, err := th.Failed(ctx, login)
	if err != nil {
		t.Fatalf("failed: %v", err)
	}
	return locked
}

func TestThrottleLocksAfterFiveFailures(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for i := 1; i <= 4; i++ {
		if locked := wrongPassword(t, th, "13812345678"); locked {
			t.Fatalf("failure %d locked", i)
		}
		clk.Advance(3 * time.Minute)
	}
	// 5th failure, 12 minutes after the first: locks for 15 minutes.
	if locked := wrongPassword(t, th, "13812345678"); !locked {
		t.Fatal("5th failure did not lock")
	}
	f, _ := fault.As(th.Check(ctx, "13812345678"))
	if f == nil || f.Kind != fault.RateLimited || f.Code != "login_locked" || f.RetryAfter != 15*time.Minute {
		t.Fatalf("check after lock: %+v", f)
	}
	if err := th.Check(ctx, "other"); err != nil {
		t.Errorf("another login is locked: %v", err)
	}
	clk.Advance(15*time.Minute - time.Second)
	f, _ = fault.As(th.Check(ctx, "13812345678"))
	if f == nil || f.RetryAfter != time.Second {
		t.Fatalf("just before unlock: %+v", f)
	}
	clk.Advance(time.Second)
	// The failures that caused the lock are forgotten.
	if locked := wrongPassword(t, th, "13812345678"); locked {
		t.Fatal("one failure after the lock locks again")
	}
}

func TestThrottleWindowSlides(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for range 4 {
		wrongPassword(t, th, "x")
		clk.Advance(4 * time.Minute) // failures at 0, 4, 8, 12
	}
	// at 16: the failure at 0 is older than 15 minutes
	if locked := wrongPassword(t, th, "x"); locked {
		t.Fatal("failures outside the window counted")
	}
	if locked := wrongPassword(t, th, "x"); !locked { // 4, 8, 12, 16, 16
		t.Fatal("five failures within the window did not lock")
	}
}

func TestThrottleSuccessResets(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for range 4 {
		wrongPassword(t, th, "x")
	}
	// The 5th attempt succeeds: it and the failures before are forgotten.
	if err := th.Check(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := th.Succeeded(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if locked := wrongPassword(t, th, "x"); locked {
			t.Fatal("failures before a success counted")
		}
	}
}

// Attempts are counted when they are let through, not when they have
// failed: a burst of attempts cannot all pass before the first failure is
// recorded.
func TestThrottleConcurrentChecks(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = th.Check(ctx, "13812345678")
		}()
	}
	wg.Wait()
	passed := 0
	for _, err := range errs {
		if err == nil {
			passed++
			continue
		}
		if f, ok := fault.As(err); !ok || f.Code != ErrLocked.Code || f.RetryAfter != 15*time.Minute {
			t.Fatalf("refusal %v, want login_locked for 15m", err)
		}
	}
	if passed > th.cfg.MaxFailures {
		t.Fatalf("%d of %d concurrent attempts passed, want at most %d", passed, n, th.cfg.MaxFailures)
	}
	if passed == 0 {
		t.Fatal("no attempt passed")
	}
	// The attempts that passed fail late: the login stays locked.
	for range passed {
		if _, err := th.Failed(ctx, "13812345678"); err != nil {
			t.Fatal(err)
		}
	}
	if f, _ := fault.As(th.Check(ctx, "13812345678")); f == nil || f.Code != ErrLocked.Code {
		t.Fatalf("after the burst: %v", f)
	}
}
