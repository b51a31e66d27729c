package contractstate

import (
	"context"
	"testing"

	"signet/domain/contract"
	"signet/domain/event"
)

// countingHistory serves no events and counts reads.
type countingHistory struct{ reads int }

func (h *countingHistory) ReadStream(context.Context, string, uint64, event.Direction, int) ([]event.Envelope, error) {
	h.reads++
	return nil, nil
}

func TestBeforeUsesTheCacheOnlyForTheNextVersion(t *testing.T) {
	ctx := context.Background()
	h := &countingHistory{}
	c := New(h, 2)
	if k, err := c.Before(ctx, "contract-a", 1); err != nil || k.Exists() || h.reads != 0 {
		t.Fatalf("version 1 needs no history: %v %v reads %d", k, err, h.reads)
	}
	k := contract.New()
	c.Keep("contract-a", 3, k)
	if got, err := c.Before(ctx, "contract-a", 4); err != nil || got != k || h.reads != 0 {
		t.Fatalf("cached state: %v %v reads %d", got, err, h.reads)
	}
	// Taken out: asking again reads the stream (which here is too short).
	if _, err := c.Before(ctx, "contract-a", 4); err == nil || h.reads != 1 {
		t.Fatalf("second take: %v reads %d", err, h.reads)
	}
	// A state at another version is not used.
	c.Keep("contract-a", 3, k)
	if _, err := c.Before(ctx, "contract-a", 6); err == nil || h.reads != 2 {
		t.Fatalf("stale state: %v reads %d", err, h.reads)
	}
	// The least recently kept is evicted beyond size.
	for _, s := range []string{"contract-b", "contract-c", "contract-d"} {
		c.Keep(s, 1, contract.New())
	}
	if _, err := c.Before(ctx, "contract-b", 2); err == nil || h.reads != 3 {
		t.Fatalf("evicted state: %v reads %d", err, h.reads)
	}
	if _, err := c.Before(ctx, "contract-d", 2); err != nil || h.reads != 3 {
		t.Fatalf("kept state: %v reads %d", err, h.reads)
	}
}
