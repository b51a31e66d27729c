// Package notify sends SMS and email. The dev notifier records what would
// have been sent so that tests (and `serve --dev` routes) can read it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Channels a message can go through.
const (
	SMS   = "sms"
	Email = "email"
)

// Message is one SMS or email.
type Message struct {
	To      string // normalised phone number or email address
	Channel string // SMS or Email
	Subject string // email only
	Body    string
	SentAt  time.Time
}

// ErrInvalid: a message without recipient, body or known channel.
var ErrInvalid = errors.New("notify: invalid message")

// Validate checks a message before sending.
func (m Message) Validate() error {
	switch {
	case m.To == "":
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	case m.Channel != SMS && m.Channel != Email:
		return fmt.Errorf("%w: channel %q", ErrInvalid, m.Channel)
	case m.Body == "":
		return fmt.Errorf("%w: no body", ErrInvalid)
	}
	return nil
}

// Dev records messages in memory instead of sending them. It is safe for
// concurrent use.
type Dev struct {
	mu   sync.Mutex
	byTo map[string][]Message
	all  []Message
	max  int
}

// NewDev returns an empty dev notifier keeping at most the last 10,000
// messages.
func NewDev() *Dev { return &Dev{byTo: map[string][]Message{}, max: 10000} }

// Notify records m (stamping SentAt with the current time when unset).
func (d *Dev) Notify(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if m.SentAt.IsZero() {
		m.SentAt = time.Now()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.all = append(d.all, m)
	d.byTo[m.To] = append(d.byTo[m.To], m)
	if len(d.all) > d.max {
		old := d.all[0]
		d.all = d.all[1:]
		if q := d.byTo[old.To]; len(q) > 0 {
			if len(q) == 1 {
				delete(d.byTo, old.To)
			} else {
				d.byTo[old.To] = q[1:]
			}
		}
	}
	return nil
}

// Messages returns a copy of what was sent to to, newest last.
func (d *Dev) Messages(to string) []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Message(nil), d.byTo[to]...)
}

// All returns a copy of every recorded message, newest last.
func (d *Dev) All() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Message(nil), d.all...)
}

// Last returns the newest message sent to to.
func (d *Dev) Last(to string) (Message, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.byTo[to]
	if len(q) == 0 {
		return Message{}, false
	}
	return q[len(q)-1], true
}
