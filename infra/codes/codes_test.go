package codes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb/redistest"
)

var ctx = context.Background()

// 10:00 in Shanghai.
var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, Shanghai)

func wantFault(t *testing.T, err error, kind fault.Kind, code string) *fault.Error {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != kind || f.Code != code {
		t.Fatalf("error %v, want kind %d %s", err, kind, code)
	}
	return f
}

func newStore(t *testing.T) (*Store, *clock.Fake) {
	clk := clock.NewFake(t0)
	return New(redistest.New(t), clk, Config{}), clk
}

func TestIssueAndVerify(t *testing.T) {
	s, clk := newStore(t)
	code, exp, resend, err := s.Issue(ctx, "register", "13812345678")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidFormat(code) || !exp.Equal(t0.Add(5*time.Minute)) || !resend.Equal(t0.Add(time.Minute)) {
		t.Fatalf("code %q expires %v resend %v", code, exp, resend)
	}
	// A code of another purpose or destination does not match.
	wantFault(t, s.Verify(ctx, "reset", "13812345678", code), fault.Invalid, "code_expired")
	wantFault(t, s.Verify(ctx, "register", "13812345679", code), fault.Invalid, "code_expired")

	clk.Advance(4*time.Minute + 59*time.Second)
	if err := s.Verify(ctx, "register", "13812345678", code); err != nil {
		t.Fatalf("valid code refused: %v", err)
	}
	// consumed once
	wantFault(t, s.Verify(ctx, "register", "13812345678", code), fault.Invalid, "code_expired")
}

func TestCodeExpiresAtFiveMinutes(t *testing.T) {
	s, clk := newStore(t)
	code, _, _, err := s.Issue(ctx, "register", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	f := wantFault(t, s.Verify(ctx, "register", "a@example.com", code), fault.Invalid, "code_expired")
	if f.Field != "code" {
		t.Errorf("field %q", f.Field)
	}
}

func TestWrongCodesBurn(t *testing.T) {
	s, _ := newStore(t)
	code, _, _, _ := s.Issue(ctx, "register", "d")
	wrong := fmt.Sprintf("%06d", (mustAtoi(code)+1)%1_000_000)
	// malformed codes do not count
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "１２３４５６"} {
		wantFault(t, s.Verify(ctx, "register", "d", bad), fault.Invalid, "invalid_code")
	}
	for i := 1; i <= 4; i++ {
		f := wantFault(t, s.Verify(ctx, "register", "d", wrong), fault.Invalid, "invalid_code")
		if want := fmt.Sprintf("%d tries left", 5-i); !strings.Contains(f.Message, want) {
			t.Errorf("message %q, want %q", f.Message, want)
		}
	}
	wantFault(t, s.Verify(ctx, "register", "d", wrong), fault.Invalid, "code_attempts_exhausted")
	// burned: even the right code no longer works
	wantFault(t, s.Verify(ctx, "register", "d", code), fault.Invalid, "code_expired")
}

func TestFourWrongThenRight(t *testing.T) {
	s, _ := newStore(t)
	code, _, _, _ := s.Issue(ctx, "register", "d")
	wrong := fmt.Sprintf("%06d", (mustAtoi(code)+1)%1_000_000)
	for range 4 {
		wantFault(t, s.Verify(ctx, "register", "d", wrong), fault.Invalid, "invalid_code")
	}
	if err := s.Verify(ctx, "register", "d", code); err != nil {
		t.Fatal(err)
	}
}

func TestResendAfterAMinute(t *testing.T) {
	s, clk := newStore(t)
	first, _, _, err := s.Issue(ctx, "register", "d")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(40 * time.Second)
	_, _, _, err = s.Issue(ctx, "register", "d")
	f := wantFault(t, err, fault.RateLimited, "code_too_soon")
	if f.RetryAfter != 20*time.Second {
		t.Errorf("RetryAfter %v", f.RetryAfter)
	}
	// the limit is per destination, whatever the purpose; others are free
	_, _, _, err = s.Issue(ctx, "reset", "d")
	wantFault(t, err, fault.RateLimited, "code_too_soon")
	if _, _, _, err := s.Issue(ctx, "register", "other"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Second)
	second, _, _, err := s.Issue(ctx, "register", "d")
	if err != nil {
		t.Fatalf("after a minute: %v", err)
	}
	// the new code replaces the old one
	if first != second {
		wantFault(t, s.Verify(ctx, "register", "d", first), fault.Invalid, "invalid_code")
	}
	if err := s.Verify(ctx, "register", "d", second); err != nil {
		t.Fatal(err)
	}
}

func TestTenCodesADayInShanghai(t *testing.T) {
	s, clk := newStore(t)
	// Start at 23:40 UTC of the 29th = 07:40 on the 30th in Shanghai.
	start := time.Date(2026, 11, 29, 23, 40, 0, 0, time.UTC)
	clk.Set(start)
	for i := range 10 {
		if _, _, _, err := s.Issue(ctx, "register", "d"); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		clk.Advance(time.Hour + time.Second)
	}
	// 17:50 Shanghai: the 11th code of the day is refused until midnight there.
	_, _, _, err := s.Issue(ctx, "register", "d")
	f := wantFault(t, err, fault.RateLimited, "code_daily_limit")
	midnight := time.Date(2026, 12, 1, 0, 0, 0, 0, Shanghai)
	if want := midnight.Sub(clk.Now()); f.RetryAfter != want {
		t.Errorf("RetryAfter %v, want %v", f.RetryAfter, want)
	}
	clk.Set(midnight.Add(-time.Second))
	_, _, _, err = s.Issue(ctx, "register", "d")
	wantFault(t, err, fault.RateLimited, "code_daily_limit")
	clk.Set(midnight)
	if _, _, _, err := s.Issue(ctx, "register", "d"); err != nil {
		t.Fatalf("new day: %v", err)
	}
}

func TestVerifyIsAtomic(t *testing.T) {
	s, _ := newStore(t)
	code, _, _, _ := s.Issue(ctx, "register", "d")
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			err := s.Verify(ctx, "register", "d", code)
			if err == nil {
				ok.Add(1)
			} else if _, isFault := fault.As(err); !isFault {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d callers consumed one code", ok.Load())
	}
}

func TestIssueIsAtomic(t *testing.T) {
	s, _ := newStore(t)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, _, _, err := s.Issue(ctx, "register", "d"); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d codes issued within a minute", ok.Load())
	}
}

func TestKeysHoldNoDestination(t *testing.T) {
	db := redistest.New(t)
	s := New(db, clock.NewFake(t0), Config{})
	code, _, _, _ := s.Issue(ctx, "register", "secret@example.com")
	keys, err := db.Keys(ctx, db.Prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v", keys, err)
	}
	for _, k := range keys {
		if strings.Contains(k, "secret") {
			t.Errorf("key %q names the destination", k)
		}
		vals, _ := db.HGetAll(ctx, k).Result()
		for _, v := range vals {
			if v == code {
				t.Errorf("code stored in clear in %s", k)
			}
		}
		if ttl := db.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no expiry (%v)", k, ttl)
		}
	}
}

func TestRedisDownIsAnError(t *testing.T) {
	db := redistest.New(t)
	s := New(db, clock.NewFake(t0), Config{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, _, err := s.Issue(cctx, "register", "d")
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("issue with cancelled context: %v", err)
	}
	if _, isFault := fault.As(err); isFault {
		t.Error("infrastructure failure reported as a refusal")
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}
