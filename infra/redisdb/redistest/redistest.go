// Package redistest gives each test its own Redis namespace: on the real
// server named by SIGNET_REDIS_URL when set (CI always sets it), otherwise on
// an in-process server. Keys are removed by prefix afterwards; never FLUSHALL.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"signet/infra/redisdb"
)

// New opens Redis for t under a fresh random prefix and cleans it up.
func New(t testing.TB) *redisdb.DB {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	prefix := "signet-test:" + hex.EncodeToString(b[:]) + ":"
	db, err := redisdb.Open(context.Background(), os.Getenv("SIGNET_REDIS_URL"), prefix)
	if err != nil {
		t.Fatalf("open redis: %v", err)
	}
	t.Cleanup(func() {
		if err := db.DeletePrefix(context.Background(), ""); err != nil {
			t.Errorf("clean redis prefix %s: %v", prefix, err)
		}
		db.Close()
	})
	return db
}

// Real reports whether tests run against a real Redis server.
func Real() bool { return os.Getenv("SIGNET_REDIS_URL") != "" }
