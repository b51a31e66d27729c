package codes

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
)

// SenderLimit caps how many codes one client address may have sent in a
// sliding window, whatever the destinations: without it one client could
// make the platform text thousands of numbers (SMS pumping).
type SenderLimit struct {
	db     *redisdb.DB
	clock  Clock
	max    int
	window time.Duration
	secret []byte
}

// DefaultSenderLimit: 60 codes an hour per client address.
const (
	DefaultSenderMax    = 60
	DefaultSenderWindow = time.Hour
)

// NewSenderLimit allows max codes per window per sender; zero values take
// the defaults. secret keys the HMAC that senders are named by in keys;
// without one a built-in constant is used, which production must not rely
// on (pass the secret of the code store's Config).
func NewSenderLimit(db *redisdb.DB, clk Clock, max int, window time.Duration, secret []byte) *SenderLimit {
	if max <= 0 {
		max = DefaultSenderMax
	}
	if window <= 0 {
		window = DefaultSenderWindow
	}
	return &SenderLimit{db: db, clock: clk, max: max, window: window, secret: secretOrDefault(secret)}
}

// ErrSenderLimit refuses a code request from a client that asked for too many.
var ErrSenderLimit = fault.New(fault.RateLimited, "too_many_codes_from_client",
	"this client asked for too many verification codes; try again later")

// senderScript: KEYS[1] zset of request times. ARGV: now ms, window start ms,
// max, member, TTL ms. Returns -1 when allowed (and recorded), else the
// time in ms of the oldest request still in the window.
var senderScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return -1
`)

// Allow records one code request from sender, or refuses it (ErrSenderLimit
// with RetryAfter) when sender already has max requests in the window.
func (l *SenderLimit) Allow(ctx context.Context, sender string) error {
	now := l.clock.Now()
	oldest, err := senderScript.Run(ctx, l.db, []string{l.db.Key("codesender", keyHash(l.secret, sender))},
		ms(now), ms(now.Add(-l.window)), l.max, member(now), ttlMargin(l.window),
	).Int64()
	if err != nil {
		return fmt.Errorf("code sender limit: %w", err)
	}
	if oldest < 0 {
		return nil
	}
	return ErrSenderLimit.Retry(max(time.Second, time.UnixMilli(oldest).Add(l.window).Sub(now)))
}
