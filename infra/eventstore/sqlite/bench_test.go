package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
)

// rawRate is the events/s of the last baseline=raw-insert run, so that the
// store's sub-benchmarks can report themselves as a multiple of it.
var rawRate atomic.Uint64

// BenchmarkAppend measures durable appends of one event each to distinct
// streams (expected version NoStream) with 1 and 64 concurrent writers, and,
// as the yardstick, plain single-row INSERT transactions into the same table
// with the same pragmas. Run the baseline in the same invocation:
//
//	go test ./infra/eventstore/sqlite -run xxx -bench BenchmarkAppend -benchtime 3s
func BenchmarkAppend(b *testing.B) {
	b.Run("baseline=raw-insert", benchRawInsert)
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchAppend(b, writers) })
	}
}

func benchEvents(n int) ([]string, []event.New) {
	streams := make([]string, n)
	evs := make([]event.New, n)
	for i := range evs {
		streams[i] = fmt.Sprintf("bench-%d", i)
		evs[i] = newEvent(i)
	}
	return streams, evs
}

// cpuTime is the CPU time (user + system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report puts events/s, the ratio to the raw-insert baseline and the CPU
// time per event (a steadier figure than events/s on a busy machine).
func report(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(0, "ns/op") // events/s says it; ns/op of a concurrent run misleads
	if raw := rawRate.Load(); raw > 0 && !strings.Contains(b.Name(), "baseline") {
		b.ReportMetric(rate/float64(raw), "x-raw")
	}
}

func benchAppend(b *testing.B, writers int) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	streams, evs := benchEvents(b.N)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if _, err := s.Append(ctx, streams[i], event.NoStream, evs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	report(b, cpuTime()-cpu0)
	if commits, reqs := sqlite.GroupCommits(s); commits > 0 {
		b.ReportMetric(float64(reqs)/float64(commits), "events/commit")
	}
}

func benchRawInsert(b *testing.B) {
	path := filepath.Join(b.TempDir(), "raw.db")
	s, err := sqlite.Open(path) // creates the same table
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ins, err := db.Prepare(`INSERT INTO events (id, stream, version, type, schema_version, data, metadata, prev_hash, hash) VALUES (?, ?, 1, ?, 1, ?, ?, '', ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer ins.Close()
	streams, evs := benchEvents(b.N)
	meta := `{"occurred_at":"2026-11-30T16:00:00.123456Z"}`
	hash := strings.Repeat("ab", 32)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		if _, err := ins.Exec(evs[i].ID, streams[i], evs[i].Type, evs[i].Data, meta, hash); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	rawRate.Store(uint64(float64(b.N) / b.Elapsed().Seconds()))
	report(b, cpu)
}
