package projector

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/redisdb/redistest"
	"signet/projections"
)

const (
	benchEvents  = 50_000
	benchStreams = 5_000 // 10 events each, interleaved in the global log
	benchOwners  = 500
)

var (
	fixtureOnce  sync.Once
	fixtureDir   string
	fixtureStore *sqlite.Store
	fixtureErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureStore != nil {
		fixtureStore.Close()
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

type benchData struct {
	Owner  string `json:"owner"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
}

// benchStore fills a SQLite store once per test binary run: benchEvents
// events over benchStreams contract streams, appended by 16 writers so that
// streams interleave in the global log (and group commit keeps it quick).
func benchStore(b testing.TB) *sqlite.Store {
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "signet-projector-bench-")
		if fixtureErr != nil {
			return
		}
		fixtureStore, fixtureErr = sqlite.Open(filepath.Join(fixtureDir, "events.db"))
		if fixtureErr != nil {
			return
		}
		ctx := context.Background()
		const writers = 16
		perStream := benchEvents / benchStreams
		statuses := []string{"draft", "sent", "signing", "signed", "archived"}
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for v := range perStream {
					for s := w; s < benchStreams; s += writers {
						d := benchData{
							Owner:  fmt.Sprintf("acct-%03d", s%benchOwners),
							Title:  fmt.Sprintf("房屋租赁合同 第%d号（修订 %d）", s, v),
							Status: statuses[v%len(statuses)],
							Amount: int64(s*100 + v),
						}
						data, _ := json.Marshal(d)
						_, err := fixtureStore.Append(ctx, fmt.Sprintf("contract-%05d", s), event.Exactly(uint64(v)), event.New{
							ID: uuid.NewString(), Type: "ContractChanged", Schema: 1, Data: data,
							Meta: event.Metadata{Actor: d.Owner, OccurredAt: time.Now()},
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		fixtureErr = <-errs
		b.Logf("fixture: %d events in %v", benchEvents, time.Since(start).Round(time.Millisecond))
	})
	if fixtureErr != nil {
		b.Fatalf("bench fixture: %v", fixtureErr)
	}
	return fixtureStore
}

// contractList is a realistic projection: decode the payload, HSET a few
// fields of the contract's document, ZADD it into its owner's sorted set.
type contractList struct{}

func (contractList) Name() string { return "contractlist" }

func (contractList) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	var d benchData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, err
	}
	id := strings.TrimPrefix(e.Stream, "contract-")
	at := e.Meta.OccurredAt.UnixMilli()
	return []projections.Op{
		projections.HSet("contract:"+id, "title", d.Title, "status", d.Status, "owner", d.Owner, "amount", d.Amount, "updated", at),
		projections.ZAdd("owner:"+d.Owner, float64(at), id),
	}, nil
}

// BenchmarkRebuild rebuilds a 50,000-event read model from a SQLite store
// and, in the same run, measures the raw rate of the same writes pipelined
// into the same Redis without event store, mapping or script (baseline).
//
//	SIGNET_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench Rebuild -benchtime 5x ./infra/projector/
func BenchmarkRebuild(b *testing.B) {
	ctx := context.Background()
	store := benchStore(b)
	db := redistest.New(b)
	r, err := New(db, store, []projections.Projection{contractList{}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var rebuilt int
	var rebuildTime time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := r.Rebuild(ctx, "contractlist", nil); err != nil {
			b.Fatal(err)
		}
		rebuildTime += time.Since(start)
		rebuilt += benchEvents
	}
	b.StopTimer()
	if st, _ := r.Status(ctx); st[0].Checkpoint != benchEvents || st[0].Poisoned != 0 {
		b.Fatalf("status after rebuild: %+v", st[0])
	}
	if n := db.ZCard(ctx, projections.Key(db, "contractlist", "owner", "acct-007")).Val(); n != benchStreams/benchOwners {
		b.Fatalf("owner set has %d members, want %d", n, benchStreams/benchOwners)
	}

	// Baseline: the same writes, precomputed, pipelined 1000 events a time.
	evs, err := readAllEvents(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	type write struct {
		key, zkey, member string
		fields            []any
		score             float64
	}
	writes := make([]write, len(evs))
	for i := range evs {
		ops, _ := contractList{}.Handle(ctx, evs[i])
		writes[i] = write{
			key: db.Prefix + "base:" + ops[0].Key, fields: ops[0].Args,
			zkey: db.Prefix + "base:" + ops[1].Key, score: ops[1].Args[0].(float64), member: ops[1].Args[1].(string),
		}
	}
	var baseTime time.Duration
	runs := max(1, min(3, rebuilt/benchEvents))
	for range runs {
		start := time.Now()
		for i := 0; i < len(writes); i += 1000 {
			pipe := db.Pipeline()
			for _, w := range writes[i:min(i+1000, len(writes))] {
				pipe.HSet(ctx, w.key, w.fields...)
				pipe.ZAdd(ctx, w.zkey, redis.Z{Score: w.score, Member: w.member})
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		baseTime += time.Since(start)
	}
	rate := float64(rebuilt) / rebuildTime.Seconds()
	base := float64(runs*len(writes)) / baseTime.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(base, "baseline-events/s")
	b.ReportMetric(100*rate/base, "%-of-baseline")
}

func readAllEvents(ctx context.Context, store EventLog) ([]event.Envelope, error) {
	var out []event.Envelope
	var after uint64
	for {
		page, err := store.ReadAll(ctx, after, 1000)
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		after = page[len(page)-1].Position
	}
}
