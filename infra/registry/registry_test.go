package registry

import (
	"context"
	"sync"
	"testing"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
)

func TestDevRules(t *testing.T) {
	d := NewDev(clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	cases := []struct {
		uscc, name, rep string
		want            Result
	}{
		{"91350100M000100Y43", "杭州井然食品贸易有限公司", "井然", Result{Match: true}},
		{"91350100M000100Y43", "杭州错字贸易有限公司", "井然", Result{Reason: ReasonNameMismatch}},
		{"91350100M000100Y43", "杭州井然食品贸易有限公司", "错人", Result{Reason: ReasonLegalRepMismatch}},
		{"91350100M000100Y43", "杭州已注销贸易有限公司", "井然", Result{Reason: ReasonDeregistered}},
		{"91350100000000000X", "杭州井然食品贸易有限公司", "井然", Result{Reason: ReasonNotFound}},
	}
	for _, c := range cases {
		got, err := d.Check(context.Background(), c.uscc, c.name, c.rep)
		if err != nil || got != c.want {
			t.Errorf("Check(%s, %s, %s) = %+v, %v; want %+v", c.uscc, c.name, c.rep, got, err, c.want)
		}
	}
	if n := len(d.Checks()); n != len(cases) {
		t.Fatalf("%d checks recorded, want %d", n, len(cases))
	}
	if _, err := d.Check(context.Background(), "", "x", "y"); err == nil {
		t.Fatal("an empty USCC was checked")
	} else if f, ok := fault.As(err); !ok || f.Field != "uscc" {
		t.Fatalf("empty USCC: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Check(ctx, "a", "b", "c"); err == nil {
		t.Fatal("a cancelled check answered")
	}
}

func TestDevIsSafeForConcurrentUse(t *testing.T) {
	d := NewDev(nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { _, _ = d.Check(context.Background(), "91350100M000100Y43", "名", "人") })
	}
	wg.Wait()
	if n := len(d.Checks()); n != 20 {
		t.Fatalf("%d checks recorded", n)
	}
}
