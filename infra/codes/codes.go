// Package codes keeps one-time verification codes (SMS / email) and the
// login throttle in Redis.
//
// Every rule is decided by a Lua script against the time of the injected
// clock, passed in and stored in the values, so that tests can move time
// and concurrent callers see one atomic decision. Keys also get a PEXPIRE
// (in real time) only so that a real server cleans up after itself.
package codes

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/redisdb"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Length is the number of digits of a code.
const Length = 6

// Config are the rules of codes.
type Config struct {
	TTL         time.Duration  // a code expires this long after it was issued (5 min)
	ResendAfter time.Duration  // at most one code per destination in this interval (1 min)
	DailyLimit  int            // at most this many codes per destination and calendar day (10)
	MaxAttempts int            // this many wrong codes burn the code (5)
	Location    *time.Location // whose calendar day counts (Asia/Shanghai)
	// Secret keys the HMACs that codes and the destinations in key names
	// are stored under. Without one a built-in constant is used, which
	// production must not rely on: a leak of Redis then exposes codes to a
	// brute force of 10^6 guesses per code (they live five minutes) and
	// phone numbers to one of some 10^10 guesses per key.
	Secret []byte
}

// Shanghai is Asia/Shanghai, or UTC+8 where the zone database is missing
// (China has kept UTC+8 without summer time since 1991).
var Shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*60*60)
}()

// DefaultConfig: 5-minute codes, one a minute, ten a day (Asia/Shanghai),
// five tries.
func DefaultConfig() Config {
	return Config{TTL: 5 * time.Minute, ResendAfter: time.Minute, DailyLimit: 10, MaxAttempts: 5, Location: Shanghai}
}

// Store issues and checks codes. It is safe for concurrent use, across
// processes too (the decisions are Lua scripts on one Redis).
type Store struct {
	db    *redisdb.DB
	clock Clock
	cfg   Config
}

// New returns a code store; zero Config fields take DefaultConfig's values.
func New(db *redisdb.DB, clk Clock, cfg Config) *Store {
	d := DefaultConfig()
	if cfg.TTL <= 0 {
		cfg.TTL = d.TTL
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = d.ResendAfter
	}
	if cfg.DailyLimit <= 0 {
		cfg.DailyLimit = d.DailyLimit
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = d.MaxAttempts
	}
	if cfg.Location == nil {
		cfg.Location = d.Location
	}
	cfg.Secret = secretOrDefault(cfg.Secret)
	return &Store{db: db, clock: clk, cfg: cfg}
}

// Config returns the rules in force.
func (s *Store) Config() Config { return s.cfg }

// Refusals. RateLimited ones carry RetryAfter.
var (
	ErrTooSoon    = fault.New(fault.RateLimited, "code_too_soon", "a code was sent to this address less than a minute ago; wait before asking for another")
	ErrDailyLimit = fault.New(fault.RateLimited, "code_daily_limit", "too many codes were sent to this address today; try again tomorrow")
	ErrExpired    = fault.Invalidf("code", "code_expired", "the code has expired or was never sent; request a new one")
	ErrWrongCode  = fault.Invalidf("code", "invalid_code", "the code is not correct")
	ErrBurned     = fault.Invalidf("code", "code_attempts_exhausted", "too many wrong codes; request a new one")
)

// defaultSecret keys the HMACs when no secret is configured. It is public
// (it is in the source), so it only keeps the formats uniform: production
// must configure a secret of its own.
const defaultSecret = "signet verification codes v1"

func secretOrDefault(secret []byte) []byte {
	if len(secret) == 0 {
		return []byte(defaultSecret)
	}
	return secret
}

// keyHash is what a destination, login or client address is called in key
// names: an HMAC under secret, not a plain hash, because phone numbers are
// few enough (some 10^10) to be recovered from a plain SHA-256 in minutes.
func keyHash(secret []byte, s string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("signet redis key\x00"))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Store) codeKey(purpose, dest string) string {
	return s.db.Key("code", purpose, keyHash(s.cfg.Secret, dest))
}

func (s *Store) limitKey(dest string) string {
	return s.db.Key("codelimit", keyHash(s.cfg.Secret, dest))
}

func (s *Store) hash(purpose, dest, code string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(purpose + "\x00" + dest + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidFormat reports whether code looks like a code (six ASCII digits).
func ValidFormat(code string) bool {
	if len(code) != Length {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("codes: random: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func ms(t time.Time) string            { return strconv.FormatInt(t.UnixMilli(), 10) }
func dms(d time.Duration) string       { return strconv.FormatInt(d.Milliseconds(), 10) }
func ttlMargin(d time.Duration) string { return dms(d + time.Minute) }

// issueScript: KEYS[1] code hash, KEYS[2] limit hash of the destination.
// ARGV: now ms, resend ms, today, daily limit, code hash, expires-at ms,
// code key TTL ms, limit key TTL ms, ms until tomorrow.
// Returns {0} issued, {1, retry ms} too soon, {2, retry ms} daily limit.
var issueScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local resend = tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[2], 'last'))
if last and now < last + resend then
  return {1, last + resend - now}
end
local count = 0
if redis.call('HGET', KEYS[2], 'day') == ARGV[3] then
  count = tonumber(redis.call('HGET', KEYS[2], 'count')) or 0
end
if count >= tonumber(ARGV[4]) then
  return {2, tonumber(ARGV[9])}
end
redis.call('HSET', KEYS[2], 'last', ARGV[1], 'day', ARGV[3], 'count', count + 1)
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[5], 'exp', ARGV[6], 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {0}
`)

// Issue makes a new code for (purpose, destination), replacing any earlier
// one, unless the destination had a code less than ResendAfter ago
// (ErrTooSoon) or DailyLimit codes today (ErrDailyLimit); both carry
// RetryAfter. The caller sends the code; only its HMAC is stored.
func (s *Store) Issue(ctx context.Context, purpose, destination string) (code string, expiresAt, resendAfter time.Time, err error) {
	if purpose == "" || destination == "" {
		return "", time.Time{}, time.Time{}, errors.New("codes: issue: no purpose or destination")
	}
	code, err = newCode()
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	now := s.clock.Now()
	local := now.In(s.cfg.Location)
	y, m, d := local.Date()
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, s.cfg.Location)
	untilTomorrow := tomorrow.Sub(now)
	expiresAt = now.Add(s.cfg.TTL)
	resendAfter = now.Add(s.cfg.ResendAfter)
	res, err := issueScript.Run(ctx, s.db, []string{s.codeKey(purpose, destination), s.limitKey(destination)},
		ms(now), dms(s.cfg.ResendAfter), local.Format("20060102"), s.cfg.DailyLimit, s.hash(purpose, destination, code),
		ms(expiresAt), ttlMargin(s.cfg.TTL), ttlMargin(max(untilTomorrow, s.cfg.ResendAfter)), dms(untilTomorrow),
	).Int64Slice()
	if err != nil {
		return "", time.Time{}, time.Time{}, fmt.Errorf("codes: issue: %w", err)
	}
	switch res[0] {
	case 0:
		return code, expiresAt, resendAfter, nil
	case 1:
		return "", time.Time{}, time.Time{}, ErrTooSoon.Retry(time.Duration(res[1]) * time.Millisecond)
	default:
		return "", time.Time{}, time.Time{}, ErrDailyLimit.Retry(time.Duration(res[1]) * time.Millisecond)
	}
}

// verifyScript: KEYS[1] code hash. ARGV: now ms, candidate hash, max tries.
// Returns {0} right (consumed), {1} none or expired, {2, tries left} wrong,
// {3} wrong and burned.
var verifyScript = redis.NewScript(`
local h = redis.call('HGET', KEYS[1], 'h')
if not h then
  return {1}
end
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp'))
if not exp or tonumber(ARGV[1]) >= exp then
  redis.call('DEL', KEYS[1])
  return {1}
end
if h == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return {0}
end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return {3}
end
return {2, tonumber(ARGV[3]) - tries}
`)

// Verify consumes the code of (purpose, destination) when code is right and
// still valid: nil exactly once, however many callers race. Otherwise it
// returns ErrExpired (none, expired, used or burned), ErrWrongCode (a try is
// counted) or ErrBurned (the try that burned it). A code that is not six
// digits is refused as wrong without counting a try.
func (s *Store) Verify(ctx context.Context, purpose, destination, code string) error {
	if !ValidFormat(code) {
		return ErrWrongCode
	}
	res, err := verifyScript.Run(ctx, s.db, []string{s.codeKey(purpose, destination)},
		ms(s.clock.Now()), s.hash(purpose, destination, code), s.cfg.MaxAttempts).Int64Slice()
	if err != nil {
		return fmt.Errorf("codes: verify: %w", err)
	}
	switch res[0] {
	case 0:
		return nil
	case 1:
		return ErrExpired
	case 2:
		w := *ErrWrongCode
		w.Message = fmt.Sprintf("the code is not correct; %d tries left", res[1])
		return &w
	default:
		return ErrBurned
	}
}
