// Package sealing produces a completed contract's final PDFs: every seal,
// signature, date and business value stamped at its field's rectangle
// (pdfcpu), then one PDF digital signature per party, in signing order,
// each an incremental update so earlier signatures stay valid, each with
// the party's certificate from pki and an RFC 3161 timestamp from the
// platform's own TSA.
package sealing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/pkcs7"

	"signet/domain/layout"
	"signet/infra/artwork"
	"signet/infra/pki"
	"signet/infra/tsa"
)

// Stamp is one image or text drawn on a document.
type Stamp struct {
	DocumentID string
	Page       int         // 1-based
	Rect       layout.Rect // points, origin at the displayed page's lower left
	Image      []byte
	MediaType  string // image/png or image/jpeg; anything else draws Text instead
	Text       string // dates and business values, and the fallback for an image that cannot be placed
}

// Party is one signer, in the order they signed.
type Party struct {
	PartyID      string
	SubjectID    string // pki subject: "enterprise-<uuid>" or "account-<uuid>"
	Kind         string // pki.Enterprise or pki.Person
	Name         string
	Organization string
	SerialNumber string // masked identifier for the certificate
	SignedAt     time.Time
	Reason       string // e.g. "签署合同 HT2026... / signs contract ..."; empty: one is made from the contract number
	Location     string
}

// Document is one of the contract's documents as sent.
type Document struct {
	ID, Name string
	PDF      []byte
}

// Request is everything Seal needs about a completed contract.
type Request struct {
	ContractID, Number, Title string
	Documents                 []Document
	Stamps                    []Stamp
	Parties                   []Party // in the order they signed
}

// SignedDocument is a final PDF.
type SignedDocument struct {
	ID         string
	PDF        []byte
	SHA256     string // hex
	Signatures int
}

// Result is the sealed contract.
type Result struct {
	Documents  []SignedDocument
	Issued     []pki.Issued // certificates issued on the way, for CertificateIssued events
	Timestamps [][]byte     // DER TimeStampTokens, document by document, party by party
}

// Error says which document and which step failed; Seal can be retried.
type Error struct {
	DocumentID string // empty when no one document is to blame
	Step       string // "certificate", "timestamp authority", "stamp", "sign <party ID>"
	Err        error
}

func (e *Error) Error() string {
	if e.DocumentID == "" {
		return fmt.Sprintf("sealing: %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("sealing: document %s: %s: %v", e.DocumentID, e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sealer seals contracts. It is safe for concurrent use.
type Sealer struct {
	ca  *pki.Authority
	tsa *tsa.TSA
	art *artwork.Artwork
	log *slog.Logger
	now func() time.Time
}

// New returns a Sealer. art draws text stamps (nil: Latin text only, in
// Go Regular); a nil logger discards.
func New(ca *pki.Authority, t *tsa.TSA, art *artwork.Artwork, logger *slog.Logger) *Sealer {
	if art == nil {
		art, _ = artwork.New("") // cannot fail without a font file
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sealer{ca: ca, tsa: t, art: art, log: logger, now: time.Now}
}

type partyKey struct {
	party Party
	key   crypto.Signer
	chain []*x509.Certificate
}

// Seal stamps and signs every document of req.
func (s *Sealer) Seal(ctx context.Context, req Request) (Result, error) {
	start := s.now()
	if len(req.Documents) == 0 {
		return Result{}, &Error{Step: "request", Err: errors.New("the contract has no documents")}
	}
	if len(req.Parties) == 0 {
		return Result{}, &Error{Step: "request", Err: errors.New("the contract has no signing parties")}
	}
	docs := map[string]bool{}
	for _, d := range req.Documents {
		docs[d.ID] = true
	}
	for _, st := range req.Stamps {
		if !docs[st.DocumentID] {
			return Result{}, &Error{DocumentID: st.DocumentID, Step: "stamp", Err: errors.New("a stamp refers to a document the contract does not have")}
		}
	}

	var res Result
	keys := make([]partyKey, len(req.Parties))
	for i, p := range req.Parties {
		key, chain, issued, err := s.ca.Signer(ctx, pki.Subject{ID: p.SubjectID, Kind: p.Kind, Name: p.Name, Organization: p.Organization, SerialNumber: p.SerialNumber})
		if err != nil {
			return Result{}, &Error{Step: "certificate for " + p.PartyID, Err: err}
		}
		if issued != nil {
			res.Issued = append(res.Issued, *issued)
		}
		keys[i] = partyKey{p, key, chain}
	}

	url, stop, err := s.tsa.InMemory()
	if err != nil {
		s.log.Warn("sealing: in-memory TSA route unavailable, serving it on loopback", "err", err)
		if url, stop, err = s.tsa.Loopback(ctx); err != nil {
			return Result{}, &Error{Step: "timestamp authority", Err: err}
		}
	}
	defer stop()

	for _, d := range req.Documents {
		var stamps []Stamp
		for _, st := range req.Stamps {
			if st.DocumentID == d.ID {
				stamps = append(stamps, st)
			}
		}
		data := d.PDF
		if len(stamps) > 0 {
			if data, err = stamp(d.PDF, stamps, s.art); err != nil {
				return Result{}, &Error{DocumentID: d.ID, Step: "stamp", Err: err}
			}
		}
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			var token []byte
			if data, token, err = s.sign(data, k, req, url); err != nil {
				return Result{}, &Error{DocumentID: d.ID, Step: "sign " + k.party.PartyID, Err: err}
			}
			res.Timestamps = append(res.Timestamps, token)
		}
		sum := sha256.Sum256(data)
		res.Documents = append(res.Documents, SignedDocument{ID: d.ID, PDF: data, SHA256: hex.EncodeToString(sum[:]), Signatures: len(keys)})
	}
	s.log.Info("contract sealed", "contract", req.ContractID, "documents", len(res.Documents),
		"signatures", len(res.Timestamps), "issued", len(res.Issued), "elapsed", s.now().Sub(start))
	return res, nil
}

// SignPlatform signs pdf as the platform, for documents the platform
// itself vouches for, such as a certificate of completion. issued is
// non-nil when the platform certificate was issued on the way.
func (s *Sealer) SignPlatform(ctx context.Context, pdf []byte, reason string) (doc SignedDocument, token []byte, issued *pki.Issued, err error) {
	key, chain, issued, err := s.ca.PlatformSigner(ctx)
	if err != nil {
		return SignedDocument{}, nil, nil, &Error{Step: "platform certificate", Err: err}
	}
	url, stop, err := s.tsa.InMemory()
	if err != nil {
		if url, stop, err = s.tsa.Loopback(ctx); err != nil {
			return SignedDocument{}, nil, issued, &Error{Step: "timestamp authority", Err: err}
		}
	}
	defer stop()
	p := Party{PartyID: "platform", Name: chain[0].Subject.CommonName, Reason: reason, SignedAt: s.now()}
	out, token, err := s.sign(pdf, partyKey{p, key, chain}, Request{}, url)
	if err != nil {
		return SignedDocument{}, nil, issued, &Error{Step: "sign platform", Err: err}
	}
	sum := sha256.Sum256(out)
	return SignedDocument{PDF: out, SHA256: hex.EncodeToString(sum[:]), Signatures: 1}, token, issued, nil
}

// sign appends one signature to data and returns the new PDF and the
// signature's timestamp token.
func (s *Sealer) sign(data []byte, k partyKey, req Request, tsaURL string) (out, token []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // digitorus/pdf panics on some malformed files
			out, token, err = nil, nil, fmt.Errorf("pdfsign failed: %v", r)
		}
	}()
	rdr, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("read PDF: %w", err)
	}
	p := k.party
	reason, reasonASCII := reasonFor(p, req)
	var b bytes.Buffer
	err = sign.Sign(bytes.NewReader(data), &b, rdr, int64(len(data)), sign.SignData{
		Signature: sign.SignDataSignature{
			CertType: sign.ApprovalSignature, // later signatures may follow
			Info: sign.SignDataSignatureInfo{
				Name:     dictText(p.Name, ""),
				Location: dictText(p.Location, ""),
				Reason:   dictText(reason, reasonASCII),
				Date:     s.now(),
			},
		},
		Signer:            k.key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       k.chain[0],
		CertificateChains: [][]*x509.Certificate{k.chain},
		TSA:               sign.TSA{URL: tsaURL},
	})
	if err != nil {
		return nil, nil, err
	}
	out = b.Bytes()
	token, err = lastTimestamp(out[len(data):])
	if err != nil {
		return nil, nil, err
	}
	return out, token, nil
}

// reasonFor is the signature's reason with the party's signing time, and
// an ASCII form for when the Chinese one cannot be written (see dictText).
func reasonFor(p Party, req Request) (string, string) {
	cst := time.FixedZone("CST", 8*3600)
	at := p.SignedAt.In(cst).Format("2006-01-02 15:04:05 -07:00")
	reason := strings.TrimSpace(p.Reason)
	if reason == "" {
		reason = fmt.Sprintf("签署合同 %s / signs contract %s", req.Number, req.Number)
	}
	return fmt.Sprintf("%s; 签署时间 signed at %s", reason, at),
		fmt.Sprintf("signs contract %s; signed at %s", asciiOnly(req.Number), at)
}

// dictText returns s if digitorus/pdfsign can write it into the signature
// dictionary, else fallback. pdfsign writes non-ASCII text as raw UTF-16BE
// inside a literal string without escaping, so a character whose code
// units contain the bytes of "(", ")", "\", CR or LF (山 is U+5C71, 小
// U+5C0F) would corrupt the dictionary or the text.
func dictText(s, fallback string) string {
	for _, r := range s {
		if r >= 0x80 {
			for _, u := range utf16.Encode([]rune(s)) {
				for _, c := range [2]byte{byte(u >> 8), byte(u)} {
					if c == '(' || c == ')' || c == '\\' || c == '\r' || c == '\n' {
						return fallback
					}
				}
			}
			return s
		}
		if r == '\r' || r == '\n' {
			return fallback
		}
	}
	return s
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

var oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// lastTimestamp finds the signature that pdfsign appended in increment and
// returns the timestamp token inside it.
func lastTimestamp(increment []byte) ([]byte, error) {
	i := bytes.LastIndex(increment, []byte("/Contents<"))
	if i < 0 {
		return nil, errors.New("the new signature has no /Contents")
	}
	rest := increment[i+len("/Contents<"):]
	j := bytes.IndexByte(rest, '>')
	if j < 0 {
		return nil, errors.New("the new signature's /Contents is not closed")
	}
	der := make([]byte, hex.DecodedLen(j))
	if _, err := hex.Decode(der, rest[:j]); err != nil {
		return nil, fmt.Errorf("the new signature's /Contents: %w", err)
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(der, &raw); err != nil { // drops the zero padding
		return nil, fmt.Errorf("the new signature: %w", err)
	}
	p7, err := pkcs7.Parse(raw.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("the new signature: %w", err)
	}
	for _, s := range p7.Signers {
		for _, a := range s.UnauthenticatedAttributes {
			if a.Type.Equal(oidTimeStampToken) {
				return a.Value.Bytes, nil
			}
		}
	}
	return nil, errors.New("the new signature carries no timestamp token")
}

// Certificate is the subject's current signing certificate (issued now if
// it has none), for the record of which certificate signed.
func (s *Sealer) Certificate(ctx context.Context, subj pki.Subject) (*pki.Issued, error) {
	_, chain, issued, err := s.ca.Signer(ctx, subj)
	if err != nil {
		return nil, err
	}
	if issued != nil {
		return issued, nil
	}
	return pki.Describe(subj, chain[0]), nil
}
