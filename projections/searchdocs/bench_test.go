package searchdocs_test

import (
	"context"
	"testing"

	"signet/infra/search"
	"signet/infra/search/bleve"
)

// BenchmarkRebuild rebuilds a bleve index from a log of 2,000 random
// contracts (with filing) through search.Runner and reports events/s.
func BenchmarkRebuild(b *testing.B) {
	w := newWorld(b)
	randomWorld(b, w, 2000, 9)
	x, err := bleve.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	b.ResetTimer()
	for range b.N {
		r := &search.Runner{Log: w.store, Index: x, Build: newBuilder(w.store).Build}
		st, err := r.Rebuild(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.Skipped() != 0 {
			b.Fatalf("%d events skipped", r.Skipped())
		}
		b.ReportMetric(st.PerSecond, "events/s")
		b.ReportMetric(float64(st.Events), "events")
	}
}
