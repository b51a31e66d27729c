// Package face is the port to the face-scan (刷脸) provider: signet starts
// a session for a person, shows its QR code, the person scans it and
// completes liveness and comparison on the phone, and the provider posts
// the Result to the session's callback URL (authenticated by
// signet/infra/callback).
package face

import (
	"bytes"
	"context"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"signet/domain/fault"
	"signet/infra/clock"
	"signet/infra/web"
)

// SessionTTL is how long a started session can be scanned.
const SessionTTL = 10 * time.Minute

// Session is a started face scan.
type Session struct {
	ID        string
	QRURL     string // what the QR code shown to the person encodes
	ExpiresAt time.Time
}

// StartRequest asks for a face scan of the person with this name and ID
// number. SessionID is signet's own ID; the provider keys the session by it
// and sends it back in the Result.
type StartRequest struct {
	SessionID, Name, IDNumber, CallbackURL string
}

// Starter starts face-scan sessions.
type Starter interface {
	Start(ctx context.Context, req StartRequest) (Session, error)
}

// Result is the provider's callback payload.
type Result struct {
	SessionID   string    `json:"session_id"`
	Passed      bool      `json:"passed"`
	Score       float64   `json:"score"` // similarity the provider measured, 0 to 100
	Reason      string    `json:"reason,omitempty"`
	CompletedAt time.Time `json:"completed_at"`
}

// Bounds of the callback's fields.
const (
	maxIDLen     = 128
	maxReasonLen = 256
)

// ParseResult reads a callback body strictly: one JSON object, no unknown
// fields, session_id and completed_at present, score within 0..100.
// Refusals are *fault.Error of kind Invalid (or TooLarge).
func ParseResult(body []byte) (Result, error) {
	var r Result
	if err := web.DecodeStrict(bytes.NewReader(body), &r); err != nil {
		return Result{}, err
	}
	switch {
	case r.SessionID == "":
		return Result{}, fault.Invalidf("session_id", "required", "Field \"session_id\" is required.")
	case !validID(r.SessionID):
		return Result{}, fault.Invalidf("session_id", "invalid_id", "Field \"session_id\" must be at most %d printable characters.", maxIDLen)
	case math.IsNaN(r.Score) || r.Score < 0 || r.Score > 100:
		return Result{}, fault.Invalidf("score", "out_of_range", "Field \"score\" must be between 0 and 100.")
	case len(r.Reason) > maxReasonLen:
		return Result{}, fault.Invalidf("reason", "too_long", "Field \"reason\" must be at most %d bytes.", maxReasonLen)
	case r.CompletedAt.IsZero():
		return Result{}, fault.Invalidf("completed_at", "required", "Field \"completed_at\" is required (RFC 3339).")
	}
	return r, nil
}

// validID: short, and nothing that could break a log line or a key.
func validID(s string) bool {
	if len(s) > maxIDLen {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return false
		}
	}
	return true
}

// Started is a session the Dev starter started, with the request it came from.
type Started struct {
	Request StartRequest
	Session Session
}

// maxRecords bounds the memory of a long-running dev server.
const maxRecords = 10000

// Dev starts sessions without calling out: it records them (the last
// 10,000) and answers a QR URL under https://face.dev.invalid/scan/.
// Tests then play the provider with Complete. Safe for concurrent use.
type Dev struct {
	Clock clock.Clock // nil: system clock

	mu    sync.Mutex
	order []string
	byID  map[string]Started
}

// NewDev returns a Dev starter on clock c (nil: system clock).
func NewDev(c clock.Clock) *Dev { return &Dev{Clock: c, byID: map[string]Started{}} }

func (d *Dev) now() time.Time {
	if d.Clock != nil {
		return d.Clock.Now()
	}
	return time.Now()
}

// Start records the session. Missing fields, a callback URL that is not
// absolute http(s), or a session ID already started are refused, as a real
// provider would.
func (d *Dev) Start(ctx context.Context, req StartRequest) (Session, error) {
	if err := ctx.Err(); err != nil {
		return Session{}, err
	}
	switch {
	case !validID(req.SessionID) || req.SessionID == "":
		return Session{}, fault.Invalidf("session_id", "invalid_id", "A face session needs an ID of at most %d printable characters.", maxIDLen)
	case strings.TrimSpace(req.Name) == "":
		return Session{}, fault.Invalidf("name", "required", "Enter the name of the person to scan.")
	case strings.TrimSpace(req.IDNumber) == "":
		return Session{}, fault.Invalidf("id_number", "required", "Enter the ID number of the person to scan.")
	}
	if u, err := url.Parse(req.CallbackURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Session{}, fault.Invalidf("callback_url", "invalid_url", "The callback URL must be an absolute http(s) URL.")
	}
	s := Session{
		ID:        req.SessionID,
		QRURL:     "https://face.dev.invalid/scan/" + url.PathEscape(req.SessionID),
		ExpiresAt: d.now().Add(SessionTTL),
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]Started{}
	}
	if _, dup := d.byID[s.ID]; dup {
		return Session{}, fault.New(fault.Conflict, "face_session_exists", "A face session with this ID was already started; start a new one with a new ID.")
	}
	d.byID[s.ID] = Started{Request: req, Session: s}
	d.order = append(d.order, s.ID)
	if len(d.order) > maxRecords {
		delete(d.byID, d.order[0])
		d.order = d.order[1:]
	}
	return s, nil
}

// Sessions returns the started sessions, oldest first.
func (d *Dev) Sessions() []Started {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Started, len(d.order))
	for i, id := range d.order {
		out[i] = d.byID[id]
	}
	return out
}

// Session returns the started session id.
func (d *Dev) Session(id string) (Started, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.byID[id]
	return s, ok
}

// Complete plays the person finishing the scan now: the Result the provider
// would post for session id. A session that was never started is
// NotFound; one past its expiry is refused as the provider would.
func (d *Dev) Complete(id string, passed bool, score float64, reason string) (Result, error) {
	s, ok := d.Session(id)
	if !ok {
		return Result{}, fault.New(fault.NotFound, "face_session_not_found", "No face session with this ID was started.")
	}
	now := d.now()
	if now.After(s.Session.ExpiresAt) {
		return Result{}, fault.New(fault.Rule, "face_session_expired", "The face session expired before the scan; start a new one.")
	}
	return Result{SessionID: id, Passed: passed, Score: score, Reason: reason, CompletedAt: now.UTC()}, nil
}
