package enterprise

import (
	"strings"
	"testing"
	"time"

	"signet/domain/fault"
)

func TestGrantQuota(t *testing.T) {
	later := t0.Add(90 * time.Minute).Add(123 * time.Nanosecond)
	at := later.Truncate(time.Microsecond)
	grant := func(amount int, reason string) decision {
		return func(e *Enterprise) ([]Event, error) { return e.GrantQuota(amount, reason, later) }
	}
	leftAfter := func(used, n int) func(*testing.T, *Enterprise) {
		return func(t *testing.T, e *Enterprise) {
			t.Helper()
			if e.QuotaLeft(used) != n {
				t.Fatalf("quota left with %d used: %d, want %d", used, e.QuotaLeft(used), n)
			}
		}
	}
	left := func(n int) func(*testing.T, *Enterprise) { return leftAfter(0, n) }
	runSealCases(t, []sealCase{
		{name: "adds to the free contracts of verification", given: team(), do: grant(100, "  order 2026-118  "),
			want:  []Event{ContractQuotaGranted{Kind: "enterprise", Amount: 100, Reason: "order 2026-118", GrantedAt: at}},
			check: left(EnterpriseQuota + 100)},
		{name: "gives contracts back to an enterprise that used them all", given: team(), do: grant(1, "补偿"),
			want:  []Event{ContractQuotaGranted{Kind: "enterprise", Amount: 1, Reason: "补偿", GrantedAt: at}},
			check: leftAfter(EnterpriseQuota, 1)},
		{name: "waits for an enterprise that is not verified yet", given: []Event{created()}, do: grant(MaxQuotaGrant, "pilot"),
			want:  []Event{ContractQuotaGranted{Kind: "enterprise", Amount: MaxQuotaGrant, Reason: "pilot", GrantedAt: at}},
			check: left(MaxQuotaGrant)},
		{name: "a reason at the limit", given: team(), do: grant(5, strings.Repeat("理", MaxQuotaReasonRunes)),
			want: []Event{ContractQuotaGranted{Kind: "enterprise", Amount: 5, Reason: strings.Repeat("理", MaxQuotaReasonRunes), GrantedAt: at}}},
		{name: "no enterprise", do: grant(5, "x"), errCode: "enterprise_not_found", kind: fault.NotFound},
		{name: "zero", given: team(), do: grant(0, "x"), errCode: "invalid_quota_amount", kind: fault.Invalid, check: left(EnterpriseQuota)},
		{name: "negative", given: team(), do: grant(-3, "x"), errCode: "invalid_quota_amount", kind: fault.Invalid},
		{name: "over the limit", given: team(), do: grant(MaxQuotaGrant+1, "x"), errCode: "invalid_quota_amount", kind: fault.Invalid},
		{name: "no reason", given: team(), do: grant(5, " \t "), errCode: "quota_reason_required", kind: fault.Invalid},
		{name: "reason too long", given: team(), do: grant(5, strings.Repeat("理", MaxQuotaReasonRunes+1)), errCode: "invalid_quota_reason", kind: fault.Invalid},
		{name: "reason with a control character", given: team(), do: grant(5, "order\x00 7"), errCode: "invalid_quota_reason", kind: fault.Invalid},
		{name: "reason with a right-to-left override", given: team(), do: grant(5, "order \u202e7"), errCode: "invalid_quota_reason", kind: fault.Invalid},
		{name: "reason that is not UTF-8", given: team(), do: grant(5, "order \xff"), errCode: "invalid_quota_reason", kind: fault.Invalid},
	})
}
