package certificate

import (
	"strings"
	"testing"
	"time"

	"signet/domain/event"
)

func TestIssue(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	ok := CertificateIssued{Serial: "0A1B", Subject: "enterprise-e1", Kind: "enterprise", SHA256: strings.Repeat("a", 64), PEM: "-----BEGIN CERTIFICATE-----",
		NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	cases := []struct {
		name string
		edit func(e *CertificateIssued)
		ok   bool
	}{
		{"issued", func(*CertificateIssued) {}, true},
		{"no serial", func(e *CertificateIssued) { e.Serial = "" }, false},
		{"short hash", func(e *CertificateIssued) { e.SHA256 = "ab" }, false},
		{"never valid", func(e *CertificateIssued) { e.NotAfter = e.NotBefore }, false},
		{"unknown subject", func(e *CertificateIssued) { e.Subject = "template-x" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := ok
			tc.edit(&e)
			evs, err := Issue(e)
			if (err == nil) != tc.ok {
				t.Fatalf("Issue: %v", err)
			}
			if err == nil {
				n, err := NewEvent("id", evs[0], event.Metadata{OccurredAt: t0})
				if err != nil {
					t.Fatal(err)
				}
				back, err := DecodeEnvelope(event.Envelope{Type: n.Type, Schema: n.Schema, Data: n.Data})
				if err != nil || back.(CertificateIssued).Serial != e.Serial {
					t.Fatalf("round trip: %v %v", back, err)
				}
			}
		})
	}
	if StreamOf("0A1B") != "certificate-0a1b" {
		t.Fatal(StreamOf("0A1B"))
	}
}
