package codes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
)

// ThrottleConfig are the rules of the login throttle.
type ThrottleConfig struct {
	MaxFailures int           // this many wrong passwords (5) ...
	Window      time.Duration // ... within this window (15 min) ...
	Lockout     time.Duration // ... lock the login for this long (15 min)
}

// DefaultThrottleConfig: 5 wrong passwords within 15 minutes lock a login
// for 15 minutes.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
}

// ErrLocked refuses a login attempt while the login is locked.
var ErrLocked = fault.New(fault.RateLimited, "login_locked", "too many wrong passwords for this login; try again later")

// Throttle counts wrong passwords per login and locks a login that has too
// many. Keys hold a hash of the login, never the login itself.
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
	return &Throttle{db: db, clock: clk, cfg: cfg}
}

func (t *Throttle) keys(login string) (failures, lock string) {
	h := sha(login)
	return t.db.Key("loginfail", h), t.db.Key("loginlock", h)
}

// Check refuses (ErrLocked with RetryAfter) while login is locked.
func (t *Throttle) Check(ctx context.Context, login string) error {
	_, lockKey := t.keys(login)
	v, err := t.db.Get(ctx, lockKey).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("login throttle: check: %w", err)
	}
	until, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("login throttle: lock value %q: %w", v, err)
	}
	if left := time.UnixMilli(until).Sub(t.clock.Now()); left > 0 {
		return ErrLocked.Retry(left)
	}
	return nil
}

// failScript: KEYS[1] failures zset, KEYS[2] lock key. ARGV: now ms,
// window start ms (failures at or before it no longer count), max
// failures, lock-until ms, member, failures TTL ms, lock TTL ms.
// Returns 1 when this failure locked the login, else 0.
var failScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[7])
  return 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 0
`)

// Failed records a wrong password for login. It reports whether this
// failure locked the login.
func (t *Throttle) Failed(ctx context.Context, login string) (locked bool, err error) {
	now := t.clock.Now()
	var nonce [8]byte
	rand.Read(nonce[:])
	failKey, lockKey := t.keys(login)
	n, err := failScript.Run(ctx, t.db, []string{failKey, lockKey},
		ms(now), ms(now.Add(-t.cfg.Window)), t.cfg.MaxFailures, ms(now.Add(t.cfg.Lockout)),
		ms(now)+":"+hex.EncodeToString(nonce[:]), ttlMargin(t.cfg.Window), ttlMargin(t.cfg.Lockout),
	).Int()
	if err != nil {
		return false, fmt.Errorf("login throttle: record failure: %w", err)
	}
	return n == 1, nil
}

// Succeeded forgets the wrong passwords of login (a lock stays).
func (t *Throttle) Succeeded(ctx context.Context, login string) error {
	failKey, _ := t.keys(login)
	if err := t.db.Del(ctx, failKey).Err(); err != nil {
		return fmt.Errorf("login throttle: reset: %w", err)
	}
	return nil
}
