package codes_test

import (
	"context"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/codes"
	"signet/infra/redisdb/redistest"
)

func TestSenderLimitSlidingWindow(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	l := codes.NewSenderLimit(redistest.New(t), clk, 3, time.Hour, nil)
	for i := range 3 {
		if err := l.Allow(ctx, "10.1.2.3"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		clk.Advance(10 * time.Minute)
	}
	err := l.Allow(ctx, "10.1.2.3")
	f, ok := fault.As(err)
	if !ok || f.Code != codes.ErrSenderLimit.Code || f.Kind != fault.RateLimited {
		t.Fatalf("4th request in the hour: %v", err)
	}
	// The first request (at 08:00) leaves the window at 09:00; it is 08:30 now.
	if f.RetryAfter != 30*time.Minute {
		t.Fatalf("RetryAfter = %v, want 30m", f.RetryAfter)
	}
	if err := l.Allow(ctx, "10.9.9.9"); err != nil {
		t.Fatalf("another client is not limited: %v", err)
	}
	clk.Advance(30*time.Minute + time.Millisecond)
	if err := l.Allow(ctx, "10.1.2.3"); err != nil {
		t.Fatalf("after the oldest left the window: %v", err)
	}
}
