// Package carrier is the port to the mobile carriers' three-factor check
// (运营商三要素): does this phone number belong, by real-name registration,
// to the person with this name and ID number?
package carrier

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
)

// Reasons a check does not match.
const (
	ReasonNameMismatch  = "name_mismatch"
	ReasonIDMismatch    = "id_mismatch"
	ReasonPhoneNotOwned = "phone_not_owned"
	ReasonNotRegistered = "not_real_name_registered"
)

// Result is the carrier's answer. Reason is set when Match is false.
type Result struct {
	Match  bool
	Reason string
}

// Checker asks the carriers. An error means no answer (the check may be
// repeated); a mismatch is a Result, not an error.
type Checker interface {
	Check(ctx context.Context, name, idNumber, phone string) (Result, error)
}

// Check is one check the Dev checker answered.
type Check struct {
	Name, IDNumber, Phone string
	Result                Result
	At                    time.Time
}

// String shows the check with the personal data masked, for logs.
func (c Check) String() string {
	return fmt.Sprintf("carrier check %s %s %s: match=%t reason=%q at %s",
		maskName(c.Name), maskMiddle(c.IDNumber, 4, 4), maskMiddle(c.Phone, 3, 4),
		c.Result.Match, c.Result.Reason, c.At.Format(time.RFC3339))
}

// maskName keeps the first character: 张三丰 -> 张**.
func maskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// maskMiddle keeps head and tail characters and stars the rest; short
// values are starred entirely.
func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// maxRecords bounds the memory of a long-running dev server.
const maxRecords = 10000

// Dev answers checks by fixed rules, like a payment provider's test cards,
// and records the last 10,000. It never calls out. Safe for concurrent use.
//
// Rules, in order:
//   - a phone ending in 9999: the carrier does not answer (a fault.Unavailable error);
//   - a phone ending in 0000: the phone is not registered to this person (ReasonPhoneNotOwned);
//   - a name containing 错: ReasonNameMismatch;
//   - anything else matches.
//
// Calls with an empty name, ID number or phone are refused (fault.Invalid)
// and not recorded, as a real carrier would refuse them.
type Dev struct {
	Clock clock.Clock // nil: system clock

	mu     sync.Mutex
	checks []Check
}

// NewDev returns a Dev checker on clock c (nil: system clock).
func NewDev(c clock.Clock) *Dev { return &Dev{Clock: c} }

// Check applies the rules above.
func (d *Dev) Check(ctx context.Context, name, idNumber, phone string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	for _, f := range []struct{ field, value string }{{"name", name}, {"id_number", idNumber}, {"phone", phone}} {
		if strings.TrimSpace(f.value) == "" {
			return Result{}, fault.Invalidf(f.field, "required", "Enter the %s to check.", strings.ReplaceAll(f.field, "_", " "))
		}
	}
	var res Result
	switch {
	case strings.HasSuffix(phone, "9999"):
		return Result{}, fault.New(fault.Unavailable, "carrier_unavailable",
			"The mobile carrier did not answer; try the check again in a minute.").Retry(time.Minute)
	case strings.HasSuffix(phone, "0000"):
		res = Result{Reason: ReasonPhoneNotOwned}
	case strings.Contains(name, "错"):
		res = Result{Reason: ReasonNameMismatch}
	default:
		res = Result{Match: true}
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	d.mu.Lock()
	d.checks = append(d.checks, Check{Name: name, IDNumber: idNumber, Phone: phone, Result: res, At: now})
	if len(d.checks) > maxRecords {
		d.checks = d.checks[len(d.checks)-maxRecords:]
	}
	d.mu.Unlock()
	return res, nil
}

// Checks returns the answered checks, oldest first.
func (d *Dev) Checks() []Check {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Check(nil), d.checks...)
}
