// Package certificate records the signing certificates the platform's
// certificate authority issued: one stream per certificate,
// "certificate-<serial>", opened by CertificateIssued. The keys stay in
// the authority's key store; the events say who holds which certificate.
package certificate

import (
	"fmt"
	"strings"
	"time"

	"signet/domain/event"
)

// Category is the stream category: "certificate-<serial>".
const Category = "certificate"

// StreamOf names a certificate's stream by its serial number (hex).
func StreamOf(serial string) string { return event.StreamName(Category, strings.ToLower(serial)) }

// TypeCertificateIssued is the stored type name. Never rename it.
const TypeCertificateIssued = "CertificateIssued"

// Event is a domain event of this package.
type Event interface{ EventType() string }

// CertificateIssued: the authority issued a signing certificate.
type CertificateIssued struct {
	Serial    string    `json:"serial"`  // hex
	Subject   string    `json:"subject"` // "enterprise-<id>", "account-<id>", or the platform's own: "signet-platform", "signet-tsa"
	Kind      string    `json:"kind"`    // enterprise or person
	DN        string    `json:"dn"`      // the certificate's subject, RFC 2253 (identifiers masked)
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"` // of the DER
	PEM       string    `json:"pem"`    // the certificate itself (public)
}

func (CertificateIssued) EventType() string { return TypeCertificateIssued }

// ErrUnknownEvent: a stored type this package does not know.
var ErrUnknownEvent = fmt.Errorf("%w: unknown certificate event", event.ErrInvalid)

var codec = func() *event.Codec[Event] {
	c := event.NewCodec[Event](ErrUnknownEvent)
	event.Register[CertificateIssued](c, TypeCertificateIssued)
	return c
}()

// NewEvent encodes e as an event to append.
func NewEvent(id string, e Event, meta event.Metadata) (event.New, error) {
	return codec.NewEvent(id, e, meta)
}

// DecodeEnvelope decodes a stored event.
func DecodeEnvelope(env event.Envelope) (Event, error) { return codec.DecodeEnvelope(env) }

// Issue checks an issuance before it is recorded.
func Issue(e CertificateIssued) ([]Event, error) {
	switch {
	case e.Serial == "" || len(e.SHA256) != 64 || e.PEM == "":
		return nil, fmt.Errorf("%w: certificate without serial, hash or PEM", event.ErrInvalid)
	case !e.NotAfter.After(e.NotBefore):
		return nil, fmt.Errorf("%w: certificate %s not valid for any time", event.ErrInvalid, e.Serial)
	case !strings.HasPrefix(e.Subject, "enterprise-") && !strings.HasPrefix(e.Subject, "account-") && !strings.HasPrefix(e.Subject, "signet-"):
		return nil, fmt.Errorf("%w: certificate %s for %q", event.ErrInvalid, e.Serial, e.Subject)
	}
	e.NotBefore, e.NotAfter = e.NotBefore.UTC(), e.NotAfter.UTC()
	return []Event{e}, nil
}
