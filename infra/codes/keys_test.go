package codes

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"testing"

	"signet/infra/clock"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
)

func keysUnder(t *testing.T, db *redisdb.DB) []string {
	t.Helper()
	var keys []string
	iter := db.Scan(ctx, 0, db.Prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// A phone number cannot be read back from key names by hashing every
// number: keys carry an HMAC under the secret, not a plain SHA-256.
func TestKeysDoNotHoldPlainHashes(t *testing.T) {
	const dest, login, sender = "13812345678", "phone:13912345678", "10.1.2.3"
	names := func(secret []byte) []string {
		db := redistest.New(t)
		clk := clock.NewFake(t0)
		s := New(db, clk, Config{Secret: secret})
		th := NewThrottle(db, clk, ThrottleConfig{Secret: secret, MaxFailures: 2})
		l := NewSenderLimit(db, clk, 0, 0, secret)
		code, _, _, err := s.Issue(ctx, "register", dest)
		if err != nil {
			t.Fatal(err)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if err := s.Verify(ctx, "register", dest, wrong); err == nil {
			t.Fatal("wrong code accepted")
		}
		for _, lg := range []string{login, dest} {
			if err := th.Check(ctx, lg); err != nil {
				t.Fatal(err)
			}
			if _, err := th.Failed(ctx, lg); err != nil {
				t.Fatal(err)
			}
		}
		// a second failure of login locks it (loginlock key)
		th.Check(ctx, login)
		if locked, err := th.Failed(ctx, login); err != nil || !locked {
			t.Fatalf("lock: %v %v", locked, err)
		}
		if err := l.Allow(ctx, sender); err != nil {
			t.Fatal(err)
		}
		if err := l.Allow(ctx, dest); err != nil {
			t.Fatal(err)
		}
		keys := keysUnder(t, db)
		for i, k := range keys {
			keys[i] = strings.TrimPrefix(k, db.Prefix)
		}
		sort.Strings(keys)
		return keys
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, keys := range [][]string{names(nil), names(secret)} {
		kinds := map[string]bool{}
		for _, k := range keys {
			kinds[strings.SplitN(k, ":", 2)[0]] = true
			for _, plain := range []string{dest, login, sender} {
				sum := sha256.Sum256([]byte(plain))
				if strings.Contains(k, hex.EncodeToString(sum[:])) || strings.Contains(k, plain) {
					t.Errorf("key %q names %q", k, plain)
				}
			}
		}
		for _, want := range []string{"code", "codelimit", "loginfail", "loginlock", "codesender"} {
			if !kinds[want] {
				t.Errorf("no %s key among %q", want, keys)
			}
		}
	}
	// The secret is what the names depend on.
	a, b := strings.Join(names(secret), " "), strings.Join(names([]byte("another secret")), " ")
	if a == b {
		t.Error("key names do not depend on the secret")
	}
}
