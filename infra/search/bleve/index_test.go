package bleve

import (
	"testing"

	"signet/infra/search"
	"signet/infra/search/searchtest"
)

func TestIndex(t *testing.T) {
	searchtest.AcceptanceTest(t, func(t *testing.T) search.Index {
		x, err := Open(t.TempDir())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return x
	})
}
