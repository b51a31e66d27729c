package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"signet/infra/search"
	"signet/infra/search/searchtest"
)

// TestIndexStandIn runs the port's acceptance suite through the real client
// against the in-process stand-in (see standIn: it is not Elasticsearch).
func TestIndexStandIn(t *testing.T) {
	searchtest.AcceptanceTest(t, func(t *testing.T) search.Index {
		return open(t, newStandIn(t).URL, "signet-", false)
	})
}

// TestIndex runs the acceptance suite against a real Elasticsearch.
func TestIndex(t *testing.T) {
	url := os.Getenv("SIGNET_SEARCH_URL")
	if url == "" {
		t.Skip("SIGNET_SEARCH_URL not set: no Elasticsearch server to test against")
	}
	searchtest.AcceptanceTest(t, func(t *testing.T) search.Index {
		return open(t, url, randomPrefix(t), true)
	})
}

func randomPrefix(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "signet-test-" + hex.EncodeToString(b) + "-"
}

// open opens an index; with cleanup (a real server) it deletes the test's
// indices and templates when the test ends, by name: Elasticsearch 8 refuses
// wildcard deletes by default (action.destructive_requires_name).
func open(t *testing.T, url, prefix string, cleanup bool) *Index {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	x, err := Open(ctx, Config{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !cleanup {
		return x
	}
	t.Cleanup(func() {
		c := &Index{es: x.es, prefix: prefix}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var names map[string]any
		if err := c.do(ctx, esapi.IndicesGetRequest{Index: []string{prefix + "*"}}, &names, "cleanup"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for name := range names {
			yes := true
			c.do(ctx, esapi.IndicesDeleteRequest{Index: []string{name}, IgnoreUnavailable: &yes}, nil, "cleanup")
		}
		for k := range kinds {
			c.do(ctx, esapi.IndicesDeleteIndexTemplateRequest{Name: c.alias(k)}, nil, "cleanup")
		}
	})
	return x
}

// The client refuses a server that does not say it is Elasticsearch; the
// stand-in must therefore send the product header.
func TestRefusesNonElasticsearch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"acknowledged":true}`))
	}))
	defer srv.Close()
	if _, err := Open(t.Context(), Config{URL: srv.URL}); err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Fatalf("Open against a server without X-Elastic-Product: %v", err)
	}
}

// Reopening keeps the live generation; a committed rebuild stays switched.
func TestReopen(t *testing.T) {
	url := newStandIn(t).URL
	x := open(t, url, "signet-", false)
	doc := search.ContractDoc{ID: "c1", Title: "合同", CreatedAt: time.Now(), Deadline: time.Now(), Visible: []string{"ent:a"}, Version: 1}
	if err := x.Write(t.Context(), search.Batch{Contracts: []search.ContractDoc{doc}}); err != nil {
		t.Fatal(err)
	}
	rb, err := x.BeginRebuild(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	doc.ID = "c2"
	if err := rb.Write(t.Context(), search.Batch{Contracts: []search.ContractDoc{doc}, Checkpoint: &search.Checkpoint{Name: "s", Position: 9}}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, _, err := x.GetContract(t.Context(), "c2"); err == nil {
		t.Error("GetContract on a closed index succeeded")
	}
	y, err := Open(t.Context(), Config{URL: url, Prefix: "signet-"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := y.current(t.Context()); err != nil || n != 2 {
		t.Errorf("generation after reopen: %d, %v", n, err)
	}
	if _, ok, _ := y.GetContract(t.Context(), "c2"); !ok {
		t.Error("c2 missing after reopen")
	}
	if _, ok, _ := y.GetContract(t.Context(), "c1"); ok {
		t.Error("c1 of the old generation visible after reopen")
	}
	if p, _ := y.Checkpoint(t.Context(), "s"); p != 9 {
		t.Errorf("checkpoint after reopen: %d", p)
	}
}
