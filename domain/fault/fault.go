// Package fault is the error vocabulary that the domain and the command
// handlers speak and that the HTTP layers turn into statuses and the JSON
// error shape {"error":{"code","message","field"}}.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind says which class of refusal an error is; HTTP maps it to a status.
type Kind int

const (
	Invalid      Kind = iota + 1 // 400: the input is malformed or fails validation
	Unauthorized                 // 401: no or bad credentials
	Forbidden                    // 403: the caller may not do this
	NotFound                     // 404
	Conflict                     // 409: duplicate, or someone changed it first
	TooLarge                     // 413
	Unsupported                  // 415: media type
	Rule                         // 422: well-formed, but a business rule refuses it
	RateLimited                  // 429
	Unavailable                  // 503: a dependency is down or not caught up
)

// Error is a refusal with a stable machine code, a sentence for humans and,
// when one input field is to blame, its name.
type Error struct {
	Kind       Kind
	Code       string        // slug, e.g. "weak_password"
	Message    string        // human sentence
	Field      string        // optional input field
	RetryAfter time.Duration // for RateLimited/Unavailable: when trying again may work
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// New builds an *Error.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// OnField returns a copy of e blaming field.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Retry returns a copy of e telling the client when to try again.
func (e *Error) Retry(after time.Duration) *Error {
	c := *e
	c.RetryAfter = after
	return &c
}

// Invalidf is a 400 on a field.
func Invalidf(field, code, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var f *Error
	ok := errors.As(err, &f)
	return f, ok
}
