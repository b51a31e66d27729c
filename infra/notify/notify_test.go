package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestDev(t *testing.T) {
	d := NewDev()
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := d.Notify(ctx, Message{To: "13812345678", Channel: SMS, Body: "one", SentAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(ctx, Message{To: "a@example.com", Channel: Email, Subject: "s", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(ctx, Message{To: "13812345678", Channel: SMS, Body: "two"}); err != nil {
		t.Fatal(err)
	}
	got := d.Messages("13812345678")
	if len(got) != 2 || got[0].Body != "one" || got[1].Body != "two" || !got[0].SentAt.Equal(at) || got[1].SentAt.IsZero() {
		t.Fatalf("messages %+v", got)
	}
	got[0].Body = "changed"
	if d.Messages("13812345678")[0].Body != "one" {
		t.Error("Messages shares its slice")
	}
	if last, ok := d.Last("a@example.com"); !ok || last.Subject != "s" {
		t.Errorf("Last = %+v %v", last, ok)
	}
	if _, ok := d.Last("nobody"); ok || len(d.Messages("nobody")) != 0 {
		t.Error("messages for nobody")
	}
	if len(d.All()) != 3 {
		t.Errorf("All = %d", len(d.All()))
	}
	for _, m := range []Message{{Channel: SMS, Body: "x"}, {To: "x", Channel: "fax", Body: "x"}, {To: "x", Channel: SMS}} {
		if err := d.Notify(ctx, m); !errors.Is(err, ErrInvalid) {
			t.Errorf("Notify(%+v) = %v", m, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := d.Notify(cancelled, Message{To: "x", Channel: SMS, Body: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDevConcurrentAndBounded(t *testing.T) {
	d := NewDev()
	d.max = 100
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			for j := range 10 {
				_ = d.Notify(context.Background(), Message{To: fmt.Sprint(i % 3), Channel: SMS, Body: fmt.Sprint(j)})
				_ = d.Messages(fmt.Sprint(i % 3))
			}
		})
	}
	wg.Wait()
	if n := len(d.All()); n != 100 {
		t.Fatalf("kept %d", n)
	}
	sum := 0
	for _, to := range []string{"0", "1", "2"} {
		sum += len(d.Messages(to))
	}
	if sum != 100 {
		t.Fatalf("per-recipient total %d", sum)
	}
}
