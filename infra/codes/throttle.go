package codes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
)

// ThrottleConfig are the rules of the login throttle.
type ThrottleConfig struct {
	MaxFailures int           // this many attempts without a success (5) ...
	Window      time.Duration // ... within this window (15 min) ...
	Lockout     time.Duration // ... lock the login for this long (15 min)
	// Secret keys the HMAC that logins are named by in keys. Without one a
	// built-in constant is used, which production must not rely on: the
	// phone numbers in a leaked Redis could then be recovered by brute force.
	Secret []byte
}

// DefaultThrottleConfig: 5 wrong passwords within 15 minutes lock a login
// for 15 minutes.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
}

// ErrLocked refuses a login attempt while the login is locked.
var ErrLocked = fault.New(fault.RateLimited, "login_locked", "too many wrong passwords for this login; try again later")

// Throttle counts login attempts per login and locks a login that has too
// many without a success. Keys hold an HMAC of the login, never the login
// itself.
//
// An attempt is counted by Check, before the password is verified, so that
// concurrent attempts cannot all pass before the first failure is recorded:
// at most MaxFailures attempts are let through per window, however many
// arrive at once. Failed keeps the attempt (and locks once MaxFailures are
// recorded); Succeeded forgets the attempts.
type Throttle struct {
	db    *redisdb.DB
	clock Clock
	cfg   ThrottleConfig
}

// NewThrottle returns a login throttle; zero fields take the defaults.
func NewThrottle(db *redisdb.DB, clk Clock, cfg ThrottleConfig) *Throttle {
	d := DefaultThrottleConfig()
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = d.MaxFailures
	}
	if cfg.Window <= 0 {
		cfg.Window = d.Window
	}
	if cfg.Lockout <= 0 {
		cfg.Lockout = d.Lockout
	}
	cfg.Secret = secretOrDefault(cfg.Secret)
	return &Throttle{db: db, clock: clk, cfg: cfg}
}

func (t *Throttle) keys(login string) (attempts, lock string) {
	h := keyHash(t.cfg.Secret, login)
	return t.db.Key("loginfail", h), t.db.Key("loginlock", h)
}

// checkScript: KEYS[1] attempts zset, KEYS[2] lock key. ARGV: now ms,
// window start ms (attempts at or before it no longer count), max
// attempts, lock-until ms, member, attempts TTL ms, lock TTL ms.
// Returns 0 when the attempt is let through (and recorded), else the ms
// until the lock ends.
var checkScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local untilms = tonumber(redis.call('GET', KEYS[2]))
if untilms and untilms > now then
  return untilms - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[7])
  return tonumber(ARGV[4]) - now
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 0
`)

// Check refuses (ErrLocked with RetryAfter) while login is locked, and
// locks it when MaxFailures attempts without a success are already
// recorded in the window. Otherwise it records this attempt, which counts
// until Succeeded forgets it: call Check before verifying the password,
// then Failed or Succeeded.
func (t *Throttle) Check(ctx context.Context, login string) error {
	now := t.clock.Now()
	attemptsKey, lockKey := t.keys(login)
	left, err := checkScript.Run(ctx, t.db, []string{attemptsKey, lockKey},
		ms(now), ms(now.Add(-t.cfg.Window)), t.cfg.MaxFailures, ms(now.Add(t.cfg.Lockout)),
		member(now), ttlMargin(t.cfg.Window), ttlMargin(t.cfg.Lockout),
	).Int64()
	if err != nil {
		return fmt.Errorf("login throttle: check: %w", err)
	}
	if left > 0 {
		return ErrLocked.Retry(time.Duration(left) * time.Millisecond)
	}
	return nil
}

// member is a unique zset member for an event at now.
func member(now time.Time) string {
	var nonce [8]byte
	rand.Read(nonce[:])
	return ms(now) + ":" + hex.EncodeToString(nonce[:])
}

// failScript: KEYS[1] attempts zset, KEYS[2] lock key. ARGV: now ms,
// window start ms, max attempts, lock-until ms, attempts TTL ms, lock TTL
// ms. Returns 1 when this failure locked the login, else 0.
var failScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[6])
  return 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
`)

// Failed reports a wrong password for the attempt Check recorded: the
// attempt keeps counting, and when MaxFailures are recorded in the window
// the login is locked for Lockout. It reports whether this failure locked
// the login.
func (t *Throttle) Failed(ctx context.Context, login string) (locked bool, err error) {
	now := t.clock.Now()
	attemptsKey, lockKey := t.keys(login)
	n, err := failScript.Run(ctx, t.db, []string{attemptsKey, lockKey},
		ms(now), ms(now.Add(-t.cfg.Window)), t.cfg.MaxFailures, ms(now.Add(t.cfg.Lockout)),
		ttlMargin(t.cfg.Window), ttlMargin(t.cfg.Lockout),
	).Int()
	if err != nil {
		return false, fmt.Errorf("login throttle: record failure: %w", err)
	}
	return n == 1, nil
}

// Succeeded forgets the recorded attempts of login (a lock stays).
func (t *Throttle) Succeeded(ctx context.Context, login string) error {
	attemptsKey, _ := t.keys(login)
	if err := t.db.Del(ctx, attemptsKey).Err(); err != nil {
		return fmt.Errorf("login throttle: reset: %w", err)
	}
	return nil
}
