package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"signet/domain/event"
)

// Event is a domain event of this package. Type names are explicit and
// stable; they are never derived from Go type names.
type Event interface {
	EventType() string
}

// Stored event type names. Never rename one: stored history refers to them.
const (
	TypeAccountRegistered         = "AccountRegistered"
	TypeLoginReserved             = "LoginReserved"
	TypeLoginReservationReclaimed = "LoginReservationReclaimed"
)

// PrivacyConsent records the privacy policy box and the version of the
// policy that was shown.
type PrivacyConsent struct {
	Accepted bool   `json:"accepted"`
	Version  string `json:"version"`
}

// FollowupConsent records the "我愿意接受电话回访" box.
type FollowupConsent struct {
	Accepted bool `json:"accepted"`
}

// AccountRegistered opens an account stream "account-<account_id>".
type AccountRegistered struct {
	AccountID     string          `json:"account_id"`
	LoginKind     LoginKind       `json:"login_kind"`
	Login         string          `json:"login"`
	Name          string          `json:"name"`
	Company       string          `json:"company"`
	InvitedBy     string          `json:"invited_by"`
	PasswordHash  string          `json:"password_hash"`
	PrivacyPolicy PrivacyConsent  `json:"privacy_policy"`
	PhoneFollowup FollowupConsent `json:"phone_followup"`
	RegisteredAt  time.Time       `json:"registered_at"`
}

// LoginReserved opens a reservation stream "accountname-<login_hash>": the
// login now belongs to account_id.
type LoginReserved struct {
	LoginKind  LoginKind `json:"login_kind"`
	LoginHash  string    `json:"login_hash"`
	AccountID  string    `json:"account_id"`
	ReservedAt time.Time `json:"reserved_at"`
}

// LoginReservationReclaimed hands a reservation whose account was never
// written (the registration failed between the two appends) to a new
// registration.
type LoginReservationReclaimed struct {
	LoginKind         LoginKind `json:"login_kind"`
	LoginHash         string    `json:"login_hash"`
	PreviousAccountID string    `json:"previous_account_id"`
	AccountID         string    `json:"account_id"`
	ReclaimedAt       time.Time `json:"reclaimed_at"`
}

func (AccountRegistered) EventType() string         { return TypeAccountRegistered }
func (LoginReserved) EventType() string             { return TypeLoginReserved }
func (LoginReservationReclaimed) EventType() string { return TypeLoginReservationReclaimed }

// ErrUnknownEvent: a stored event type (or schema version) this package does
// not know. It wraps event.ErrInvalid.
var ErrUnknownEvent = fmt.Errorf("%w: unknown account event", event.ErrInvalid)

// codec is one registered event type: its current schema version and how to
// decode each schema version it has ever had (upcasting older ones).
type codec struct {
	schema int
	decode map[int]func([]byte) (Event, error)
}

// registry lists every event type by its explicit name.
var registry = map[string]codec{
	TypeAccountRegistered: {schema: 1, decode: map[int]func([]byte) (Event, error){
		1: decodeJSON[AccountRegistered],
	}},
	TypeLoginReserved: {schema: 1, decode: map[int]func([]byte) (Event, error){
		1: decodeJSON[LoginReserved],
	}},
	TypeLoginReservationReclaimed: {schema: 1, decode: map[int]func([]byte) (Event, error){
		1: decodeJSON[LoginReservationReclaimed],
	}},
}

func decodeJSON[T Event](data []byte) (Event, error) {
	var e T
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}

// EventTypes lists the registered type names (for subscribers' filters).
func EventTypes() []string {
	return []string{TypeAccountRegistered, TypeLoginReserved, TypeLoginReservationReclaimed}
}

// Encode turns a domain event into its stored type name, schema version and
// JSON payload.
func Encode(e Event) (typ string, schema int, data []byte, err error) {
	switch e.(type) {
	case AccountRegistered, LoginReserved, LoginReservationReclaimed:
	default:
		return "", 0, nil, fmt.Errorf("%w: cannot encode %T", ErrUnknownEvent, e)
	}
	c, ok := registry[e.EventType()]
	if !ok {
		return "", 0, nil, fmt.Errorf("%w: %q", ErrUnknownEvent, e.EventType())
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), c.schema, data, nil
}

// Decode turns a stored type name, schema version and payload back into a
// domain event, upcasting older schema versions.
func Decode(typ string, schema int, data []byte) (Event, error) {
	c, ok := registry[typ]
	if !ok {
		return nil, fmt.Errorf("%w: type %q", ErrUnknownEvent, typ)
	}
	dec, ok := c.decode[schema]
	if !ok {
		return nil, fmt.Errorf("%w: %s schema version %d", ErrUnknownEvent, typ, schema)
	}
	e, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s v%d: %v", event.ErrInvalid, typ, schema, err)
	}
	return e, nil
}

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) {
	e, err := Decode(env.Type, env.Schema, env.Data)
	if err != nil {
		return nil, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
	}
	return e, nil
}

// NewEvent encodes e as an event to append with the given ID and metadata.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	typ, schema, data, err := Encode(e)
	if err != nil {
		return event.New{}, err
	}
	return event.New{ID: id, Type: typ, Schema: schema, Data: data, Meta: meta.Normalize()}, nil
}

// IsUnknownEvent reports whether err says an event type or version is unknown.
func IsUnknownEvent(err error) bool { return errors.Is(err, ErrUnknownEvent) }

// timestamp is how this package stores times: UTC at microsecond precision,
// like event metadata.
func timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
