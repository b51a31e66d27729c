// Package callback authenticates the calls that outside providers (face
// scan, bank) make into signet: an HMAC-SHA256 over a timestamp and the raw
// body, a freshness window, and a replay store that lets each signed
// delivery through once.
//
// Wire format:
//
//	Signet-Timestamp: <unix seconds, decimal>
//	Signet-Signature: v1=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
package callback

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/redisdb"
	"signet/infra/web"
)

// Header names and limits of the wire format.
const (
	HeaderTimestamp = "Signet-Timestamp"
	HeaderSignature = "Signet-Signature"
	DefaultWindow   = 5 * time.Minute
	MaxBodyBytes    = 1 << 20

	sigPrefix = "v1="
	// 12 digits reach the year 33658; a longer timestamp is garbage.
	maxTimestampDigits = 12
)

var (
	errUnsigned = fault.New(fault.Unauthorized, "callback_unsigned",
		"Sign the callback with the "+HeaderTimestamp+" (unix seconds) and "+HeaderSignature+" (v1=<hex HMAC-SHA256>) headers.")
	errStale = fault.New(fault.Unauthorized, "callback_stale",
		"The callback's timestamp is too far from the current time; check the sender's clock and sign the delivery again.")
	errBadSignature = fault.New(fault.Unauthorized, "callback_bad_signature",
		"The callback's signature does not match its timestamp and body; sign the exact bytes sent with the shared secret.")
	// Conflict, not Unauthorized: a replay carries a valid signature, so
	// the sender holds the secret and is most likely the provider retrying
	// a delivery we already accepted (its first answer was lost). A 409
	// tells it to stop retrying without looking like a credential problem,
	// which a 401 would (and which providers alert on or retry forever).
	errReplayed = fault.New(fault.Conflict, "callback_replayed",
		"This exact callback delivery was already received; it is not processed twice.")
	errTooLarge = fault.New(fault.TooLarge, "body_too_large",
		fmt.Sprintf("The callback body is larger than the %d bytes allowed.", MaxBodyBytes))
	errUnreadable = fault.New(fault.Invalid, "callback_body_unreadable",
		"The callback body could not be read; send the delivery again.")
)

// Sign returns the two header values that authenticate body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) (timestampHeader, signatureHeader string) {
	timestampHeader = strconv.FormatInt(ts.Unix(), 10)
	return timestampHeader, sigPrefix + hex.EncodeToString(mac(secret, timestampHeader, body))
}

// SignRequest sets the authentication headers of req for body sent at ts.
// The caller sets req's body to exactly body.
func SignRequest(req *http.Request, secret []byte, ts time.Time, body []byte) {
	t, s := Sign(secret, ts, body)
	req.Header.Set(HeaderTimestamp, t)
	req.Header.Set(HeaderSignature, s)
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// ReplayStore remembers keys for a while.
type ReplayStore interface {
	// Seen records key for ttl and reports whether it was already there.
	// It must be atomic: of concurrent calls with one key, one sees false.
	Seen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// RedisReplays is a ReplayStore on Redis.
type RedisReplays struct {
	DB *redisdb.DB
}

// Seen sets the key with SET NX PX; a key that already exists was seen.
func (r RedisReplays) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	err := r.DB.Do(ctx, "SET", r.DB.Key("callback:seen:"+key), "1", "NX", "PX", ms).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("callback: record delivery: %w", err)
	}
	return false, nil
}

// Verifier checks callbacks signed with Secret. A zero Window means
// DefaultWindow; a nil Clock means the system clock. Secret and Replays are
// required: without them every callback is refused.
type Verifier struct {
	Secret  []byte
	Window  time.Duration
	Replays ReplayStore
	Clock   clock.Clock
}

// Verify authenticates body with the headers that came with it. Refusals
// are *fault.Error (Unauthorized, or Conflict for a replay); a failing
// replay store is returned as a plain error.
func (v Verifier) Verify(ctx context.Context, header http.Header, body []byte) error {
	if len(v.Secret) == 0 || v.Replays == nil {
		return errors.New("callback: verifier without secret or replay store")
	}
	ts, tsRaw, sig, ok := parseHeaders(header.Values(HeaderTimestamp), header.Values(HeaderSignature))
	if !ok {
		return errUnsigned
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	var now time.Time
	if v.Clock != nil {
		now = v.Clock.Now()
	} else {
		now = time.Now()
	}
	sent := time.Unix(ts, 0)
	if age := now.Sub(sent); age > window || age < -window {
		return errStale
	}
	if !hmac.Equal(sig, mac(v.Secret, tsRaw, body)) {
		return errBadSignature
	}
	// Only a delivery with a valid signature reaches the store, so a
	// forger cannot spend the key of a genuine one. The key lives until
	// the timestamp leaves the window (plus a second for the rounding of
	// unix seconds); afterwards the staleness check refuses it anyway.
	ttl := sent.Add(window).Sub(now) + time.Second
	seen, err := v.Replays.Seen(ctx, hex.EncodeToString(sig), ttl)
	if err != nil {
		return err
	}
	if seen {
		return errReplayed
	}
	return nil
}

// parseHeaders accepts exactly one canonical decimal timestamp and exactly
// one "v1=" + 64 lowercase hex signature.
func parseHeaders(tsValues, sigValues []string) (ts int64, tsRaw string, sig []byte, ok bool) {
	if len(tsValues) != 1 || len(sigValues) != 1 {
		return 0, "", nil, false
	}
	tsRaw = tsValues[0]
	if len(tsRaw) == 0 || len(tsRaw) > maxTimestampDigits || (len(tsRaw) > 1 && tsRaw[0] == '0') {
		return 0, "", nil, false
	}
	for i := 0; i < len(tsRaw); i++ {
		if tsRaw[i] < '0' || tsRaw[i] > '9' {
			return 0, "", nil, false
		}
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return 0, "", nil, false
	}
	s := sigValues[0]
	if len(s) != len(sigPrefix)+2*sha256.Size || s[:len(sigPrefix)] != sigPrefix {
		return 0, "", nil, false
	}
	h := s[len(sigPrefix):]
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, "", nil, false
		}
	}
	sig, err = hex.DecodeString(h)
	if err != nil {
		return 0, "", nil, false
	}
	return ts, tsRaw, sig, true
}

// Middleware verifies every request with v before next sees it; next reads
// the same body again. Refusals are answered in the API's error shape.
func Middleware(v Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil {
				r.Body = http.NoBody
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			if err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					web.WriteError(w, r, errTooLarge)
				} else {
					web.WriteError(w, r, errUnreadable)
				}
				return
			}
			if err := v.Verify(r.Context(), r.Header, body); err != nil {
				web.WriteError(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}
