// Package registry is the port to the authoritative business registry
// (工商信息核验): is there an enterprise with this unified social credit code,
// this name and this legal representative? The seed's verification is "a
// consistency check against authoritative data sources"; without it anyone
// could name themselves the legal representative of any company.
package registry

import (
	"context"
	"strings"
	"sync"
	"time"

	"signet/domain/fault"
	"signet/infra/clock"
)

// Reasons a check does not match.
const (
	ReasonNotFound         = "not_registered"
	ReasonNameMismatch     = "name_mismatch"
	ReasonLegalRepMismatch = "legal_rep_mismatch"
	ReasonDeregistered     = "deregistered"
)

// Result is the registry's answer; Reason is set when Match is false.
type Result struct {
	Match  bool   `json:"match"`
	Reason string `json:"reason,omitempty"`
}

// Checker asks the registry. An error means no answer; a mismatch is a
// Result.
type Checker interface {
	Check(ctx context.Context, uscc, name, legalRep string) (Result, error)
}

// Check is one check the Dev registry answered.
type Check struct {
	USCC     string    `json:"uscc"`
	Name     string    `json:"name"`
	LegalRep string    `json:"legal_rep"`
	Result   Result    `json:"result"`
	At       time.Time `json:"at"`
}

const maxRecords = 10000

// Dev answers like a registry without asking one. Its rules, like test
// cards: a name containing 错 is name_mismatch, a legal representative
// containing 错 is legal_rep_mismatch, a name containing 注销 is
// deregistered, a code whose organisation code (characters 9 to 16) is all
// zeros is not_registered; everything else matches.
type Dev struct {
	Clock clock.Clock

	mu     sync.Mutex
	checks []Check
}

// NewDev returns a dev registry.
func NewDev(clk clock.Clock) *Dev { return &Dev{Clock: clk} }

// Check implements Checker.
func (d *Dev) Check(ctx context.Context, uscc, name, legalRep string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	for _, f := range []struct{ field, value string }{{"uscc", uscc}, {"name", name}, {"legal_rep_name", legalRep}} {
		if strings.TrimSpace(f.value) == "" {
			return Result{}, fault.Invalidf(f.field, "required", "Enter the %s to check.", strings.ReplaceAll(f.field, "_", " "))
		}
	}
	var res Result
	switch {
	case len(uscc) == 18 && uscc[8:16] == "00000000":
		res.Reason = ReasonNotFound
	case strings.Contains(name, "注销"):
		res.Reason = ReasonDeregistered
	case strings.Contains(name, "错"):
		res.Reason = ReasonNameMismatch
	case strings.Contains(legalRep, "错"):
		res.Reason = ReasonLegalRepMismatch
	default:
		res.Match = true
	}
	now := time.Now()
	if d.Clock != nil {
		now = d.Clock.Now()
	}
	d.mu.Lock()
	d.checks = append(d.checks, Check{USCC: uscc, Name: name, LegalRep: legalRep, Result: res, At: now})
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
	return append([]Check{}, d.checks...)
}
