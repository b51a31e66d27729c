package bleve

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"signet/infra/search"
)

func doc(id, title string, v uint64) search.ContractDoc {
	return search.ContractDoc{ID: id, Title: title, CreatedAt: time.Now(), Deadline: time.Now(), Visible: []string{"ent:a"}, Version: v}
}

func dirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// A committed rebuild survives a reopen; directories that CURRENT does not
// name (an interrupted rebuild) are removed at Open.
func TestGenerationsOnDisk(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := x.Write(ctx, search.Batch{Contracts: []search.ContractDoc{doc("old", "旧的", 1)}}); err != nil {
		t.Fatal(err)
	}
	rb, err := x.BeginRebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := dirs(t, dir); strings.Join(got, ",") != "gen-000001,gen-000002" {
		t.Errorf("during rebuild: %v", got)
	}
	if err := rb.Write(ctx, search.Batch{Contracts: []search.ContractDoc{doc("new", "新的", 1)}, Checkpoint: &search.Checkpoint{Name: "s", Position: 4}}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := dirs(t, dir); strings.Join(got, ",") != "gen-000002" {
		t.Errorf("after commit: %v", got)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.GetContract(ctx, "new"); err == nil {
		t.Error("GetContract on a closed index succeeded")
	}
	// A crash in the middle of a rebuild leaves its directory behind.
	if err := os.MkdirAll(filepath.Join(dir, "gen-000003", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	y, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if got := dirs(t, dir); strings.Join(got, ",") != "gen-000002" {
		t.Errorf("after reopen: %v", got)
	}
	if _, ok, _ := y.GetContract(ctx, "new"); !ok {
		t.Error("the committed generation's document is missing after reopen")
	}
	if _, ok, _ := y.GetContract(ctx, "old"); ok {
		t.Error("the old generation's document is back after reopen")
	}
	if p, _ := y.Checkpoint(ctx, "s"); p != 4 {
		t.Errorf("checkpoint after reopen: %d", p)
	}
	if err := os.WriteFile(filepath.Join(dir, currentFile), []byte("nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open with a corrupt CURRENT succeeded")
	}
}

// Searches running while rebuilds commit never fail and always see one
// whole generation.
func TestCommitUnderReaders(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx := t.Context()
	gen := func(g search.Generation, n int) {
		var docs []search.ContractDoc
		for i := range 20 {
			docs = append(docs, doc(string(rune('a'+i)), "合同", uint64(n)))
		}
		if err := g.Write(ctx, search.Batch{Contracts: docs}); err != nil {
			t.Error(err)
		}
	}
	gen(x, 1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p, err := x.SearchContracts(ctx, search.ContractQuery{Principals: []string{"ent:a"}, Text: "合同", Limit: 50})
				if err != nil {
					t.Errorf("search during commit: %v", err)
					return
				}
				if p.Total != 20 {
					t.Errorf("search during commit: %d hits", p.Total)
					return
				}
				v := p.Hits[0].Version
				for _, h := range p.Hits {
					if h.Version != v {
						t.Errorf("hits from two generations: %d and %d", v, h.Version)
						return
					}
				}
			}
		}()
	}
	for n := 2; n <= 6; n++ {
		rb, err := x.BeginRebuild(ctx)
		if err != nil {
			t.Fatal(err)
		}
		gen(rb, n)
		if err := rb.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
}
