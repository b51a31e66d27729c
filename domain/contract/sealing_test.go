package contract

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
)

// allSigned is a two-party contract after both signatures: "sealing".
func allSigned(t *testing.T, more ...Event) *Contract {
	t.Helper()
	c := given(t, created(t, false))
	s := sent(t, c)
	c = given(t, created(t, false), s)
	at := t0.Add(time.Minute)
	e1, err := c.Sign(Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal}, at)
	if err != nil {
		t.Fatal(err)
	}
	c = given(t, created(t, false), s, e1[0])
	e2, err := c.Sign(Signing{PartyID: "r2", Signer: person, Signature: sig}, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(e2) != 2 {
		t.Fatalf("last signature: %v", types(e2))
	}
	return given(t, append([]Event{created(t, false), s, e1[0], e2[0], e2[1]}, more...)...)
}

func sealedResult() ContractSealed {
	return ContractSealed{
		Documents:         []SealedDocument{{DocumentID: "d1", Name: "合同", SHA256: strings.Repeat("a", 64), Size: 1000, Signatures: 2}},
		CertificateSHA256: strings.Repeat("c", 64),
	}
}

func TestSealing(t *testing.T) {
	now := t0.Add(time.Hour)
	failed := ContractSealingFailed{Attempt: 1, Step: "sign", Reason: "boom", FailedAt: now, RetryAt: now.Add(30 * time.Second)}
	bad := sealedResult()
	bad.Documents[0].Signatures = 1
	noCert := sealedResult()
	noCert.CertificateSHA256 = ""
	cases := []struct {
		name string
		c    func() *Contract
		do   func(c *Contract) ([]Event, error)
		want string
	}{
		{"sealed completes", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.Seal(sealedResult(), now) }, "ContractSealed,ContractCompleted"},
		{"after a failure", func() *Contract { return allSigned(t, failed) }, func(c *Contract) ([]Event, error) { return c.Seal(sealedResult(), now) }, "ContractSealed,ContractCompleted"},
		{"failure recorded", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.SealingFailed("stamp", "no font", now) }, "ContractSealingFailed"},
		{"a signature missing", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.Seal(bad, now) }, "error"},
		{"no certificate of completion", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.Seal(noCert, now) }, "error"},
		{"still signing", func() *Contract { c := given(t, created(t, false)); return given(t, created(t, false), sent(t, c)) },
			func(c *Contract) ([]Event, error) { return c.Seal(sealedResult(), now) }, "not_sealing"},
		{"already completed", func() *Contract {
			return allSigned(t, sealedResult(), ContractCompleted{CompletedAt: now})
		}, func(c *Contract) ([]Event, error) { return c.Seal(sealedResult(), now) }, "not_sealing"},
		{"failure after completion", func() *Contract {
			return allSigned(t, sealedResult(), ContractCompleted{CompletedAt: now})
		}, func(c *Contract) ([]Event, error) { return c.SealingFailed("x", "y", now) }, "not_sealing"},
		{"sealing cannot be revoked", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.Revoke("acct-sender", "late", now) }, "contract_signed"},
		{"sealing does not expire", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) { return c.Expire(t0.Add(30 * 24 * time.Hour)) }, "contract_ended"},
		{"no one signs twice", func() *Contract { return allSigned(t) }, func(c *Contract) ([]Event, error) {
			return c.Sign(Signing{PartyID: "r2", Signer: person, Signature: sig}, now)
		}, "contract_signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := tc.do(tc.c())
			got := code(err)
			if err != nil && got == "" {
				got = "error"
			}
			if err == nil {
				got = types(evs)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
}

func TestSealingStates(t *testing.T) {
	now := t0.Add(time.Hour)
	c := allSigned(t)
	if c.Status() != StatusSealing || c.Status().Ended() || len(c.Turn()) != 0 {
		t.Fatalf("after every signature: %s, turn %v", c.Status(), c.Turn())
	}
	evs, _ := c.SealingFailed("sign", "boom", now)
	f := evs[0].(ContractSealingFailed)
	if f.Attempt != 1 || !f.RetryAt.Equal(now.Add(30*time.Second)) {
		t.Fatalf("first failure %+v", f)
	}
	c = allSigned(t, f)
	evs, _ = c.SealingFailed("sign", "boom", now)
	if f2 := evs[0].(ContractSealingFailed); f2.Attempt != 2 || !f2.RetryAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("second failure %+v", f2)
	}
	evs, err := c.Seal(sealedResult(), now)
	if err != nil {
		t.Fatal(err)
	}
	if s := evs[0].(ContractSealed); s.Attempt != 2 || !s.SealedAt.Equal(now) {
		t.Fatalf("sealed %+v", s)
	}
	c = allSigned(t, f, evs[0], evs[1])
	sealed, failures := c.Sealing()
	if c.Status() != StatusCompleted || sealed == nil || len(failures) != 1 {
		t.Fatalf("completed: %s %v %v", c.Status(), sealed, failures)
	}
	if got := SealingRetryAt(20, now); !got.Equal(now.Add(maxSealingRetry)) {
		t.Fatalf("retry after many failures at %v", got)
	}
}

// Contracts completed before sealing existed (PartySigned and
// ContractCompleted in one append) still replay as completed.
func TestCompletedBeforeSealingReplays(t *testing.T) {
	c := given(t, created(t, false))
	s := sent(t, c)
	c = given(t, created(t, false), s)
	e1, _ := c.Sign(Signing{PartyID: "r1", Signer: enterpriseA, Seal: seal}, t0.Add(time.Minute))
	c = given(t, created(t, false), s, e1[0])
	e2, _ := c.Sign(Signing{PartyID: "r2", Signer: person, Signature: sig}, t0.Add(2*time.Minute))
	c = given(t, created(t, false), s, e1[0], e2[0], ContractCompleted{CompletedAt: t0.Add(2 * time.Minute)})
	if c.Status() != StatusCompleted {
		t.Fatalf("status %s", c.Status())
	}
}

// A PartySigned stored at schema v1 (willingness as a bare method name)
// loads as v2, and v2 is what is written now.
func TestPartySignedV1Upcast(t *testing.T) {
	v1 := `{"party_id":"r2","signer_account_id":"acct-li","signer_name":"李四","signature":{"kind":"typed","text":"李四"},` +
		`"willingness":"sms_code","documents":[{"document_id":"d1","sha256":"` + strings.Repeat("b", 64) + `"}],"client_ip":"10.0.0.2","signed_at":"2026-11-30T10:00:00Z"}`
	got, err := DecodeEnvelope(event.Envelope{Stream: "contract-x", Version: 3, Type: TypePartySigned, Schema: 1, Data: json.RawMessage(v1)})
	if err != nil {
		t.Fatal(err)
	}
	want := PartySigned{PartyID: "r2", SignerAccountID: "acct-li", SignerName: "李四", Signature: &SignatureUse{Kind: "typed", Text: "李四"},
		Willingness: Willingness{Method: WillingnessSMSCode}, Documents: []DocumentHash{{DocumentID: "d1", SHA256: strings.Repeat("b", 64)}},
		ClientIP: "10.0.0.2", SignedAt: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("upcast\n got %+v\nwant %+v", got, want)
	}
	typ, schema, data, err := Encode(want)
	if err != nil || typ != TypePartySigned || schema != 2 || !strings.Contains(string(data), `"willingness":{"method":"sms_code"}`) {
		t.Fatalf("encode: %s v%d %s %v", typ, schema, data, err)
	}
	if _, err := DecodeEnvelope(event.Envelope{Type: TypePartySigned, Schema: 3, Data: json.RawMessage(v1)}); !IsUnknownEvent(err) {
		t.Fatalf("schema 3: %v", err)
	}
}
