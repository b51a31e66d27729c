package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/search"
)

// BenchmarkRunnerRebuild rebuilds the search index (bleve) from a log of
// 10,000 contracts of 3 events each, through the example Build:
//
//	go test -run '^$' -bench RunnerRebuild -benchtime 1x ./infra/search/
func BenchmarkRunnerRebuild(b *testing.B) {
	s := newStoreB(b)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		var evs []event.New
		for _, typ := range []string{"ContractDrafted", "ContractSent", "ContractTagged"} {
			data, _ := json.Marshal(payload{Title: fmt.Sprintf("房屋租赁合同%d", i), Enterprise: fmt.Sprint(i % 50), Tag: "t/x"})
			evs = append(evs, event.New{ID: uuid.NewString(), Type: typ, Schema: 1, Data: data, Meta: event.Metadata{OccurredAt: at}})
		}
		if _, err := s.Append(context.Background(), fmt.Sprintf("contract-%05d", i), event.NoStream, evs...); err != nil {
			b.Fatal(err)
		}
	}
	x := newIndexB(b)
	r := &search.Runner{Log: s, Index: x, Build: build}
	for b.Loop() {
		st, err := r.Rebuild(b.Context(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(st.PerSecond, "events/s")
	}
}
