package enterprise

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/fault"
)

// Quota grants by the platform, beyond the free contracts of verification
// (EnterpriseQuota): a purchase, a promotion, a correction.
const (
	// MaxQuotaGrant bounds one grant, so that a slip of the keyboard
	// cannot hand out contracts without end.
	MaxQuotaGrant = 1_000_000
	// MaxQuotaReasonRunes bounds the recorded reason.
	MaxQuotaReasonRunes = 200
)

// GrantQuota gives the enterprise amount more contracts to send. Platform
// staff decide it (the actor goes in the event's metadata); the reason is
// recorded for the auditors. The enterprise need not be verified yet: the
// quota waits for it.
func (e *Enterprise) GrantQuota(amount int, reason string, now time.Time) ([]Event, error) {
	if !e.Exists() {
		return nil, ErrNotFound
	}
	if amount < 1 || amount > MaxQuotaGrant {
		return nil, fault.Invalidf("amount", "invalid_quota_amount", "Grant between 1 and %d contracts at a time.", MaxQuotaGrant)
	}
	reason = strings.TrimSpace(reason)
	n := utf8.RuneCountInString(reason)
	switch {
	case n == 0:
		return nil, fault.Invalidf("reason", "quota_reason_required", "Say why the contracts are granted, such as the order number of a purchase.")
	case n > MaxQuotaReasonRunes:
		return nil, fault.Invalidf("reason", "invalid_quota_reason", "The reason is at most %d characters.", MaxQuotaReasonRunes)
	case !utf8.ValidString(reason) || strings.IndexFunc(reason, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) >= 0:
		// The reason is shown to auditors as it was given: no control or
		// format characters that would hide or reorder parts of it.
		return nil, fault.Invalidf("reason", "invalid_quota_reason", "The reason has characters that cannot be shown.")
	}
	return []Event{ContractQuotaGranted{Kind: "enterprise", Amount: amount, Reason: reason, GrantedAt: timestamp(now)}}, nil
}
