package codes

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/infra/redisdb"
)

// DailyCount counts attempts per subject per calendar day (face scans per
// person per day in Asia/Shanghai). Keys hold an HMAC of the subject (an ID
// number), never the subject itself, and expire with their day.
type DailyCount struct {
	db     *redisdb.DB
	secret []byte
	name   string
}

// NewDailyCount returns a counter whose keys are named name.
func NewDailyCount(db *redisdb.DB, name string, secret []byte) *DailyCount {
	return &DailyCount{db: db, secret: secret, name: name}
}

// The key names its day, so a relative expiry of two days is enough and does
// not depend on Redis's clock agreeing with ours.
var takeScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

const dayKeyTTL = 48 * time.Hour

// Take counts one attempt of subject on the day that ends at dayEnd and
// returns the attempt's number (1 for the day's first). Counting is atomic,
// so concurrent attempts get distinct numbers.
func (d *DailyCount) Take(ctx context.Context, subject string, dayEnd time.Time) (int, error) {
	key := d.db.Key(d.name, dayEnd.UTC().Format("20060102T15"), keyHash(d.secret, subject))
	n, err := takeScript.Run(ctx, d.db, []string{key}, dayKeyTTL.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", d.name, err)
	}
	return n, nil
}

// Peek returns how many attempts subject has made on the day ending at dayEnd.
func (d *DailyCount) Peek(ctx context.Context, subject string, dayEnd time.Time) (int, error) {
	key := d.db.Key(d.name, dayEnd.UTC().Format("20060102T15"), keyHash(d.secret, subject))
	n, err := d.db.Get(ctx, key).Int()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", d.name, err)
	}
	return n, nil
}
