package codes

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"signet/infra/redisdb/redistest"
)

func TestDailyCountIsAtomicAndPerDay(t *testing.T) {
	db := redistest.New(t)
	ctx := context.Background()
	c := NewDailyCount(db, "face", []byte("secret"))
	// A day long past in Redis's clock still counts: the key's expiry is
	// relative, not the day's end.
	day1 := time.Date(2020, 12, 1, 16, 0, 0, 0, time.UTC) // midnight in Shanghai
	day2 := day1.Add(24 * time.Hour)

	var wg sync.WaitGroup
	seen := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			n, err := c.Take(ctx, "350102199001011234", day1)
			if err != nil {
				t.Error(err)
			}
			seen <- n
		})
	}
	wg.Wait()
	close(seen)
	got := map[int]bool{}
	for n := range seen {
		if got[n] {
			t.Fatalf("attempt number %d handed out twice", n)
		}
		got[n] = true
	}
	for i := 1; i <= 10; i++ {
		if !got[i] {
			t.Fatalf("attempt numbers %v miss %d", got, i)
		}
	}
	if n, _ := c.Take(ctx, "350102199001011234", day2); n != 1 {
		t.Fatalf("next day starts at %d, want 1", n)
	}
	if n, _ := c.Peek(ctx, "other", day1); n != 0 {
		t.Fatalf("another subject has %d attempts", n)
	}
	keys, err := db.Keys(ctx, db.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "350102199001011234") {
			t.Fatalf("key %q holds the subject in clear", k)
		}
	}
}
