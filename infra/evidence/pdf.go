package evidence

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digitorus/pdf"
	pdfverify "github.com/digitorus/pdfsign/verify"
	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

var oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// signature is one signature field's value in a PDF, as checked.
type signature struct {
	Object  uint32
	Range   [4]int64
	Signer  *x509.Certificate
	Token   *timestamp.Timestamp
	Value   []byte // the signer's signature value, which its token covers
	Problem string // "" when the signature holds
}

func (s signature) who() string {
	return fmt.Sprintf("signed by %q (certificate serial %X)", s.Signer.Subject.CommonName, s.Signer.SerialNumber)
}

// trust checks signatures and tokens against the bundle's CA; a token is
// checked once though it is both inside a PDF and in timestamps/.
type trust struct {
	ca     *x509.CertPool
	tokens map[string]error
}

// readSignatures finds every signature dictionary of a PDF and checks it
// against the CA: the bytes it covers, the signature over them, the
// signer's chain to the CA at the time of its timestamp, and the timestamp.
func (tr *trust) readSignatures(data []byte) (sigs []signature, err error) {
	defer func() {
		if p := recover(); p != nil {
			sigs, err = nil, fmt.Errorf("the PDF does not parse (%v)", p)
		}
	}()
	rdr, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the PDF does not parse: %v", err)
	}
	for _, x := range rdr.Xref() {
		ptr := x.Ptr()
		v := rdr.Resolve(ptr, ptr)
		if v.Kind() != pdf.Dict || v.Key("ByteRange").IsNull() {
			continue
		}
		s := signature{Object: ptr.GetID()}
		s.Problem = tr.checkSignature(&s, v, data)
		sigs = append(sigs, s)
	}
	slices.SortFunc(sigs, func(a, b signature) int { return cmp.Compare(a.Range[1], b.Range[1]) })
	return sigs, nil
}

func (tr *trust) checkSignature(s *signature, v pdf.Value, data []byte) string {
	if f := v.Key("Filter").Name(); f != "Adobe.PPKLite" {
		return fmt.Sprintf("uses the signature handler %q, not Adobe.PPKLite", f)
	}
	br := v.Key("ByteRange")
	if br.Len() != 4 {
		return "its ByteRange is not four numbers"
	}
	for i := range 4 {
		if br.Index(i).Kind() != pdf.Integer {
			return "its ByteRange is not four whole numbers"
		}
		s.Range[i] = br.Index(i).Int64()
	}
	r, size := s.Range, int64(len(data))
	if r[0] != 0 || r[1] < 1 || r[2] > size || r[2]-r[1] < 2 || r[3] < 0 || r[3] > size-r[2] {
		return fmt.Sprintf("its ByteRange %v does not describe this %d-byte file", r, size)
	}
	// The gap must be exactly the hex string of /Contents.
	gap := data[r[1]:r[2]]
	contents := []byte(v.Key("Contents").RawString())
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		return "the bytes its ByteRange leaves out are not its /Contents"
	}
	raw := make([]byte, hex.DecodedLen(len(gap)-2))
	if n, err := hex.Decode(raw, gap[1:len(gap)-1]); err != nil || !bytes.Equal(raw[:n], contents) {
		return "the bytes its ByteRange leaves out are not its /Contents"
	}
	covered := append(slices.Clone(data[r[0]:r[0]+r[1]]), data[r[2]:r[2]+r[3]]...)

	if sub := v.Key("SubFilter").Name(); sub != "adbe.pkcs7.detached" {
		return fmt.Sprintf("has the SubFilter %q; the platform signs with adbe.pkcs7.detached only", sub)
	}
	return tr.checkCMS(s, contents, covered)
}

func (tr *trust) checkCMS(s *signature, contents, covered []byte) string {
	p7, err := pkcs7.Parse(contents)
	if err != nil {
		return fmt.Sprintf("its PKCS#7 signature does not parse: %v", err)
	}
	if len(p7.Signers) != 1 {
		return fmt.Sprintf("its PKCS#7 holds %d signers, not one", len(p7.Signers))
	}
	p7.Content = covered
	s.Signer = p7.GetOnlySigner()
	if s.Signer == nil {
		return "its PKCS#7 does not hold the signer's certificate"
	}
	si := p7.Signers[0]
	s.Value = si.EncryptedDigest
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			if s.Token, err = timestamp.Parse(a.Value.Bytes); err != nil {
				return fmt.Sprintf("its timestamp token does not parse: %v", err)
			}
			break
		}
	}
	if s.Token == nil {
		return "it has no RFC 3161 timestamp token"
	}
	if !imprintMatches(s.Token, s.Value) {
		return "its timestamp token is for another signature value (the token's hash does not match)"
	}
	if err := tr.checkToken(s.Token); err != nil {
		return "its timestamp token " + err.Error()
	}
	// The signature over the covered bytes, and the signer's chain to the
	// bundle's CA at the time the token proves.
	if tr.ca == nil {
		return "its certificate chain cannot be checked: ca.pem did not load"
	}
	err = p7.VerifyWithOpts(x509.VerifyOptions{Roots: tr.ca, Intermediates: certPool(p7.Certificates), CurrentTime: s.Token.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err == nil {
		return ""
	}
	var mismatch *pkcs7.MessageDigestMismatchError
	if errors.As(err, &mismatch) {
		return "the bytes it covers were changed after signing (their digest differs from the signed one)"
	}
	if err := p7.Verify(); err != nil {
		return fmt.Sprintf("the signature does not verify: %v", err)
	}
	return fmt.Sprintf("the signer's certificate %q does not chain to ca.pem at %s: %v", s.Signer.Subject.CommonName, s.Token.Time.UTC().Format(time.RFC3339), err)
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func imprintMatches(ts *timestamp.Timestamp, data []byte) bool {
	if !ts.HashAlgorithm.Available() {
		return false
	}
	h := ts.HashAlgorithm.New()
	h.Write(data)
	return bytes.Equal(h.Sum(nil), ts.HashedMessage)
}

// checkToken checks a parsed token's signature and that its signer holds
// a timestamping certificate chaining to the CA at the token's time.
func (tr *trust) checkToken(ts *timestamp.Timestamp) error {
	key := sha256Hex(ts.RawToken)
	if err, done := tr.tokens[key]; done {
		return err
	}
	err := tr.tokenError(ts)
	tr.tokens[key] = err
	return err
}

func (tr *trust) tokenError(ts *timestamp.Timestamp) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("does not parse (%v)", p)
		}
	}()
	if len(ts.Certificates) == 0 {
		return errors.New("carries no TSA certificate, so its signer cannot be checked")
	}
	if tr.ca == nil {
		return errors.New("cannot be checked: ca.pem did not load")
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return fmt.Errorf("does not parse: %v", err)
	}
	if err := p7.VerifyWithOpts(x509.VerifyOptions{Roots: tr.ca, Intermediates: certPool(p7.Certificates), CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return fmt.Errorf("is not signed by a timestamp authority chaining to ca.pem: %v", err)
	}
	return nil
}

// isPDF names the bundle's PDFs: the documents and the certificate.
func isPDF(name string) bool {
	return name == CertificateName || strings.HasPrefix(name, DocumentsDir)
}

// checkPDFs checks every signature of every PDF; each document must carry
// as many signatures as the sealing recorded, each timestamped, the last
// covering the whole file. The certificate of completion is checked the
// same way when it is signed.
func (v *verifier) checkPDFs() {
	signers := map[string]bool{}
	if v.sealed != nil {
		for _, c := range v.sealed.Certificates {
			signers[c.SHA256] = true
		}
	}
	for _, name := range v.names {
		if !isPDF(name) {
			continue
		}
		data := v.files[name]
		sigs, err := v.trust.readSignatures(data)
		if err != nil {
			v.fail("signatures", name, "%v", err)
			continue
		}
		v.pdfs[name] = sigs
		if name == CertificateName && len(sigs) == 0 {
			v.pass("signatures", name, "is not digitally signed; its SHA-256 is what binds it (see the sealed check)")
			continue
		}
		if len(sigs) == 0 {
			v.fail("signatures", name, "has no digital signature")
			continue
		}
		ok := true
		var end int64
		var lines []string
		for i, s := range sigs {
			if s.Problem != "" {
				v.fail("signatures", name, "signature %d (object %d) %s", i+1, s.Object, s.Problem)
				ok = false
				continue
			}
			end = max(end, s.Range[2]+s.Range[3])
			line := fmt.Sprintf("%d: %s, timestamped %s", i+1, s.who(), s.Token.Time.UTC().Format(time.RFC3339))
			if name != CertificateName && len(signers) > 0 && !signers[sha256Hex(s.Signer.Raw)] {
				v.fail("signatures", name, "signature %d (object %d) is by certificate %q (SHA-256 %s), which the contract's sealing does not record",
					i+1, s.Object, s.Signer.Subject.CommonName, sha256Hex(s.Signer.Raw))
				ok = false
			}
			lines = append(lines, line)
		}
		if ok && end != int64(len(data)) {
			v.fail("signatures", name, "the file was changed after its last signature: signatures cover %d of its %d bytes", end, len(data))
			ok = false
		}
		if want := v.sealedSignatures(name); want > 0 && want != len(sigs) {
			v.fail("signatures", name, "holds %d signatures; the contract's sealing recorded %d", len(sigs), want)
			ok = false
		}
		if ok {
			if err := crossCheck(data, len(sigs)); err != nil {
				v.fail("signatures", name, "%v", err)
				continue
			}
			v.pass("signatures", name, "%d valid signatures, each chaining to ca.pem and timestamped, the last covering the whole file (%s)",
				len(sigs), strings.Join(lines, "; "))
		}
	}
}

func (v *verifier) sealedSignatures(name string) int {
	if v.sealed == nil {
		return 0
	}
	for _, d := range v.sealed.Documents {
		if DocumentName(d.DocumentID) == name {
			return d.Signatures
		}
	}
	return 0
}

// crossCheck asks digitorus/pdfsign's own verifier too: it must find as
// many signatures and call each valid.
func crossCheck(data []byte, n int) error {
	opts := pdfverify.DefaultVerifyOptions()
	opts.ValidateTimestampCertificates = false // checked above against ca.pem
	resp, err := pdfverify.VerifyWithOptions(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return fmt.Errorf("pdfsign's verifier refuses the file: %v", err)
	}
	if len(resp.Signers) != n {
		return fmt.Errorf("pdfsign's verifier finds %d signatures, not %d", len(resp.Signers), n)
	}
	for i, s := range resp.Signers {
		if !s.ValidSignature {
			return fmt.Errorf("pdfsign's verifier finds signature %d invalid", i+1)
		}
	}
	return nil
}

// parseToken reads a token file: a DER TimeStampToken, as sealing keeps it.
func parseToken(b []byte) (ts *timestamp.Timestamp, err error) {
	defer func() {
		if p := recover(); p != nil {
			ts, err = nil, fmt.Errorf("it does not parse (%v)", p)
		}
	}()
	return timestamp.Parse(b)
}

// checkTimestamps checks each token file and says which signature of
// which PDF it timestamps.
func (v *verifier) checkTimestamps() {
	for _, name := range v.names {
		if !strings.HasPrefix(name, TimestampsDir) {
			continue
		}
		ts, err := parseToken(v.files[name])
		if err != nil {
			v.fail("timestamps", name, "is not an RFC 3161 timestamp: %v", err)
			continue
		}
		if err := v.trust.checkToken(ts); err != nil {
			v.fail("timestamps", name, "the token %v", err)
			continue
		}
		covers := v.covered(ts)
		if covers == "" {
			v.fail("timestamps", name, "the token (time %s) is for no signature in this bundle", ts.Time.UTC().Format(time.RFC3339))
			continue
		}
		v.pass("timestamps", name, "valid token of %s by %q, for %s", ts.Time.UTC().Format(time.RFC3339), tsaName(ts), covers)
	}
}

func tsaName(ts *timestamp.Timestamp) string {
	for _, c := range ts.Certificates {
		if slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
			return c.Subject.CommonName
		}
	}
	return "?"
}

func (v *verifier) covered(ts *timestamp.Timestamp) string {
	for _, name := range v.names {
		for i, s := range v.pdfs[name] {
			if s.Value != nil && imprintMatches(ts, s.Value) {
				return fmt.Sprintf("signature %d of %s", i+1, name)
			}
		}
	}
	return ""
}
