package account

import (
	"reflect"
	"strings"
	"testing"

	"signet/domain/fault"
)

var (
	sigPNG = File{SHA256: strings.Repeat("d", 64), Size: 300, MediaType: "image/png"}
	sigJPG = File{SHA256: strings.Repeat("e", 64), Size: 400, MediaType: "image/jpeg"}
)

func TestUseQuota(t *testing.T) {
	use := func(cid string, used int) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.UseQuota(cid, used, t0) }
	}
	full := RegistrationQuota + PersonalVerificationQuota
	runDecisions(t, []decision{
		{name: "a verified person uses the first", given: given(verifiedByPhone, verifiedQuota), decide: use("c1", 0),
			outcome: outcome{want: []Event{PersonalQuotaUsed{ContractID: "c1", UsedAt: at, Used: 1}}},
			check: func(t *testing.T, a *Account) {
				if a.QuotaLeft(1) != 9 || a.Quota() != 10 {
					t.Fatalf("left %d of %d", a.QuotaLeft(1), a.Quota())
				}
			}},
		{name: "the ledger's count goes on", given: given(verifiedByPhone, verifiedQuota), decide: use("c5", 4),
			outcome: outcome{want: []Event{PersonalQuotaUsed{ContractID: "c5", UsedAt: at, Used: 5}}}},
		{name: "used up", given: given(verifiedByPhone, verifiedQuota), decide: use("c99", full),
			outcome: outcome{err: "quota_exhausted", kind: fault.Rule},
			check: func(t *testing.T, a *Account) {
				_, err := a.UseQuota("c99", full, t0)
				if f, _ := fault.As(err); !strings.Contains(f.Message, "10 granted, 10 used") {
					t.Fatalf("message %q", f.Message)
				}
			}},
		{name: "not verified", given: given(), decide: use("c1", 0), outcome: outcome{err: "person_not_verified", kind: fault.Rule}},
		{name: "not registered", decide: use("c1", 0), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
		{name: "no contract ID", given: given(verifiedByPhone), decide: use("", 0), outcome: outcome{err: "error"}},
	})
}

func TestAddSignatureImage(t *testing.T) {
	add := func(id string, f File) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.AddSignatureImage(id, f, t0) }
	}
	var full []Event
	for i := range MaxSignatureImages {
		full = append(full, SignatureImageAdded{SignatureID: "g" + string(rune('a'+i)),
			File: File{SHA256: strings.Repeat(string(rune('a'+i)), 64), Size: 1, MediaType: "image/png"}, AddedAt: at})
	}
	runDecisions(t, []decision{
		{name: "add", given: given(SignatureImageAdded{SignatureID: "g1", File: sigJPG, AddedAt: at}), decide: add("g2", sigPNG),
			outcome: outcome{want: []Event{SignatureImageAdded{SignatureID: "g2", File: sigPNG, AddedAt: at}}},
			check: func(t *testing.T, a *Account) {
				want := []SignatureImage{{ID: "g1", File: sigJPG, AddedAt: at}, {ID: "g2", File: sigPNG, AddedAt: at}}
				if got := a.SignatureImages(); !reflect.DeepEqual(got, want) {
					t.Fatalf("images %+v", got)
				}
				if f, ok := a.SignatureImage("g2"); !ok || f != sigPNG {
					t.Fatalf("g2: %+v %v", f, ok)
				}
				if _, ok := a.SignatureImage("g3"); ok {
					t.Fatal("g3 exists")
				}
			}},
		{name: "the same image again", given: given(SignatureImageAdded{SignatureID: "g1", File: sigPNG}), decide: add("g2", sigPNG)},
		{name: "ten at most", given: given(full...), decide: add("g99", File{SHA256: strings.Repeat("z", 64), Size: 1, MediaType: "image/png"}), outcome: outcome{err: "signature_limit", kind: fault.Rule}},
		{name: "no GIF", given: given(), decide: add("g1", File{SHA256: "ab", Size: 1, MediaType: "image/gif"}),
			outcome: outcome{err: "unsupported_signature_image", kind: fault.Unsupported, field: "file"}},
		{name: "no stored file", given: given(), decide: add("g1", File{MediaType: "image/png"}), outcome: outcome{err: "error"}},
		{name: "an ID is used once", given: given(SignatureImageAdded{SignatureID: "g1", File: sigJPG}), decide: add("g1", sigPNG), outcome: outcome{err: "error"}},
		{name: "not registered", decide: add("g1", sigPNG), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
	})
}

func TestSigningEventsRoundTrip(t *testing.T) {
	for _, ev := range []Event{PersonalQuotaUsed{ContractID: "c1", UsedAt: at, Used: 1}, SignatureImageAdded{SignatureID: "g1", File: sigPNG, AddedAt: at}} {
		typ, schema, data, err := Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(typ, schema, data)
		if err != nil || !reflect.DeepEqual(back, ev) {
			t.Fatalf("%s: %#v %v", typ, back, err)
		}
		found := false
		for _, n := range EventTypes() {
			found = found || n == typ
		}
		if !found {
			t.Errorf("%s missing from EventTypes", typ)
		}
	}
}
