package commands_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"signet/commands"
	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
)

// The quota grant needs nothing but the event store and a clock: the CLI
// runs it on a stopped server.
func TestGrantEnterpriseQuota(t *testing.T) {
	w := newWorld(t)
	id, _ := verified(t, w, "13800000001")
	grant := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: w.store, Clock: w.clock, Logger: discard()})
	before := load(t, w, id)

	res, err := grant.Handle(ctx, commands.GrantEnterpriseQuota{EnterpriseID: id, Amount: 500, Reason: " order 2026-118 ", GrantedBy: "cli:ops"})
	if err != nil {
		t.Fatal(err)
	}
	envs, err := w.store.ReadStream(ctx, enterprise.StreamOf(id), before.Version()+1, event.Forwards, 0)
	if err != nil || len(envs) != 1 {
		t.Fatalf("appended %d events: %v", len(envs), err)
	}
	env := envs[0]
	var got enterprise.ContractQuotaGranted
	if err := json.Unmarshal(env.Data, &got); err != nil {
		t.Fatal(err)
	}
	want := enterprise.ContractQuotaGranted{Kind: "enterprise", Amount: 500, Reason: "order 2026-118", GrantedAt: t0}
	if env.Type != enterprise.TypeContractQuotaGranted || got != want || env.Position != res.Position {
		t.Fatalf("appended %s %+v at %d, want %+v at %d", env.Type, got, env.Position, want, res.Position)
	}
	if env.Meta.Actor != "cli:ops" || env.Meta.Enterprise != id || env.Meta.CorrelationID == "" {
		t.Fatalf("metadata %+v", env.Meta)
	}
	if left := load(t, w, id).QuotaLeft(0); left != enterprise.EnterpriseQuota+500 {
		t.Fatalf("quota left %d", left)
	}

	head := w.head(t)
	for _, tc := range []struct {
		name  string
		cmd   commands.GrantEnterpriseQuota
		kind  fault.Kind
		code  string
		field string
	}{
		{"unknown enterprise", commands.GrantEnterpriseQuota{EnterpriseID: "0190a0d2-0000-7000-8000-0000000000ff", Amount: 1, Reason: "x", GrantedBy: "cli:ops"}, fault.NotFound, "enterprise_not_found", ""},
		{"not an ID", commands.GrantEnterpriseQuota{EnterpriseID: "../account-1", Amount: 1, Reason: "x", GrantedBy: "cli:ops"}, fault.NotFound, "enterprise_not_found", ""},
		{"no amount", commands.GrantEnterpriseQuota{EnterpriseID: id, Reason: "x", GrantedBy: "cli:ops"}, fault.Invalid, "invalid_quota_amount", "amount"},
		{"too much", commands.GrantEnterpriseQuota{EnterpriseID: id, Amount: enterprise.MaxQuotaGrant + 1, Reason: "x", GrantedBy: "cli:ops"}, fault.Invalid, "invalid_quota_amount", "amount"},
		{"no reason", commands.GrantEnterpriseQuota{EnterpriseID: id, Amount: 1, GrantedBy: "cli:ops"}, fault.Invalid, "quota_reason_required", "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := grant.Handle(ctx, tc.cmd)
			wantFault(t, err, tc.kind, tc.code, tc.field)
		})
	}
	if _, err := grant.Handle(ctx, commands.GrantEnterpriseQuota{EnterpriseID: id, Amount: 1, Reason: "x"}); err == nil {
		t.Fatal("a grant by nobody was accepted")
	}
	if h := w.head(t); h != head {
		t.Fatalf("refused grants appended events: head %d -> %d", head, h)
	}
}

// readBarrier holds the first n reads of a stream until all n have
// arrived, so that n writers decide on the same version and all but one
// append in conflict.
type readBarrier struct {
	commands.EventStore
	stream string
	mu     sync.Mutex
	n      int
	all    chan struct{}
}

func (b *readBarrier) ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error) {
	if stream == b.stream {
		b.mu.Lock()
		first := b.n > 0
		if first {
			b.n--
			if b.n == 0 {
				close(b.all)
			}
		}
		b.mu.Unlock()
		if first {
			<-b.all
		}
	}
	return b.EventStore.ReadStream(ctx, stream, from, dir, limit)
}

// Grants that race each other (or a contract using the quota) are decided
// again on the new state: none is lost to a concurrency conflict. Four
// writers read the same version; each loses at most three times, within
// the handler's retries.
func TestConcurrentQuotaGrantsAllCount(t *testing.T) {
	w := newWorld(t)
	id, _ := verified(t, w, "13800000002")
	const writers = 4
	b := &readBarrier{EventStore: w.store, stream: enterprise.StreamOf(id), n: writers, all: make(chan struct{})}
	grant := commands.NewGrantEnterpriseQuotaHandler(commands.Deps{Events: b, Clock: w.clock, Logger: discard()})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 1; i <= writers; i++ {
		wg.Go(func() {
			_, err := grant.Handle(ctx, commands.GrantEnterpriseQuota{EnterpriseID: id, Amount: i, Reason: "promotion", GrantedBy: "cli:ops"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if left := load(t, w, id).QuotaLeft(0); left != enterprise.EnterpriseQuota+1+2+3+4 {
		t.Fatalf("quota left %d", left)
	}
}
