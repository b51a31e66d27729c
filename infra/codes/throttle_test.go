package codes

import (
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb/redistest"
)

func TestThrottleLocksAfterFiveFailures(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for i := 1; i <= 4; i++ {
		if err := th.Check(ctx, "13812345678"); err != nil {
			t.Fatal(err)
		}
		locked, err := th.Failed(ctx, "13812345678")
		if err != nil || locked {
			t.Fatalf("failure %d: locked %v %v", i, locked, err)
		}
		clk.Advance(3 * time.Minute)
	}
	// 5th failure, 12 minutes after the first: locks for 15 minutes.
	locked, err := th.Failed(ctx, "13812345678")
	if err != nil || !locked {
		t.Fatalf("5th failure: locked %v %v", locked, err)
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
	if err := th.Check(ctx, "13812345678"); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
	// The failures that caused the lock are forgotten.
	if locked, _ := th.Failed(ctx, "13812345678"); locked {
		t.Fatal("one failure after the lock locks again")
	}
}

func TestThrottleWindowSlides(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for range 4 {
		th.Failed(ctx, "x")
		clk.Advance(4 * time.Minute) // failures at 0, 4, 8, 12
	}
	// at 16: the failure at 0 is older than 15 minutes
	if locked, _ := th.Failed(ctx, "x"); locked {
		t.Fatal("failures outside the window counted")
	}
	if locked, _ := th.Failed(ctx, "x"); !locked { // 4, 8, 12, 16, 16
		t.Fatal("five failures within the window did not lock")
	}
}

func TestThrottleSuccessResets(t *testing.T) {
	clk := clock.NewFake(t0)
	th := NewThrottle(redistest.New(t), clk, ThrottleConfig{})
	for range 4 {
		th.Failed(ctx, "x")
	}
	if err := th.Succeeded(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if locked, _ := th.Failed(ctx, "x"); locked {
			t.Fatal("failures before a success counted")
		}
	}
}
