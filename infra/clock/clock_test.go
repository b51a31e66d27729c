package clock

import (
	"sync"
	"testing"
	"time"
)

var _ Clock = Real{}
var _ Clock = (*Fake)(nil)

func TestReal(t *testing.T) {
	before := time.Now()
	got := Real{}.Now()
	if got.Before(before) || time.Since(got) > time.Second {
		t.Errorf("Real.Now = %v", got)
	}
}

func TestFake(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(t0)
	if !f.Now().Equal(t0) {
		t.Fatal(f.Now())
	}
	if got := f.Advance(time.Minute); !got.Equal(t0.Add(time.Minute)) || !f.Now().Equal(got) {
		t.Fatal(got)
	}
	f.Set(t0)
	if !f.Now().Equal(t0) {
		t.Fatal(f.Now())
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { f.Advance(time.Second); _ = f.Now() })
	}
	wg.Wait()
	if !f.Now().Equal(t0.Add(50 * time.Second)) {
		t.Fatal(f.Now())
	}
}
