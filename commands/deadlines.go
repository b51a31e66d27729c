package commands

import (
	"context"
	"log/slog"
	"time"

	"signet/domain/fault"
)

// DueContracts lists contracts being signed whose signing deadline is at
// or before until (a read model; it may lag or repeat, which is harmless).
type DueContracts interface {
	Due(ctx context.Context, until time.Time, limit int) ([]string, error)
}

// Deadlines is the policy that expires contracts whose signing deadline
// passed. Several processes may run it at once: the contract's stream
// version decides, so each contract is expired exactly once, and the
// others' attempts are refused and ignored.
type Deadlines struct {
	Due      DueContracts
	Expire   Handler[ExpireContract, ContractResult]
	Clock    Clock
	Interval time.Duration // default 15 s
	Batch    int           // default 500
	Logger   *slog.Logger
}

// Tick expires what is due now and reports how many it expired.
func (d Deadlines) Tick(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 500
	}
	ids, err := d.Due.Due(ctx, d.Clock.Now(), batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := d.Expire.Handle(ctx, ExpireContract{ContractID: id}); err != nil {
			if _, refused := fault.As(err); refused {
				continue // ended meanwhile, or expired by another process
			}
			return n, err
		}
		n++
	}
	return n, nil
}

// Run ticks until ctx ends.
func (d Deadlines) Run(ctx context.Context) {
	every := d.Interval
	if every <= 0 {
		every = 15 * time.Second
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := d.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Warn("expiring contracts", "err", err)
		} else if n > 0 {
			log.Info("contracts expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
