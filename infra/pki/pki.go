// Package pki is the platform's certificate authority and key store: a
// root CA (created in the data dir on first start, or supplied by
// configuration) that issues each verified enterprise or person a signing
// certificate, plus the platform's own timestamp-authority and
// platform-signing certificates. Private keys live only in dir/keys/,
// sealed with AES-256-GCM under a key derived from the configured secret,
// and leave this package only as crypto.Signer values.
//
// Keys are ECDSA P-256: poppler's pdfsig (NSS) validates them and they keep
// signatures small.
package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Subject kinds. Enterprise and Person are the kinds callers ask for;
// the other two are the platform's own certificates.
const (
	Enterprise = "enterprise"
	Person     = "person"
	Platform   = "platform"
	Timestamp  = "tsa"
)

// Validity periods and when a certificate is renewed before it expires.
const (
	RootValidity = 10 * 365 * 24 * time.Hour
	LeafValidity = 2 * 365 * 24 * time.Hour
	RenewBefore  = 30 * 24 * time.Hour
	backdate     = 5 * time.Minute // verifiers with a slightly slow clock still accept a fresh certificate
)

// RootName is the common name of a root the authority creates itself.
const RootName = "Signet Demo Root CA"

// Subject IDs of the platform's own certificates; refused for anyone else.
const (
	PlatformID  = "signet-platform"
	TimestampID = "signet-tsa"
)

// Object identifiers of the extended key usages set on leaves.
var (
	OIDDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36} // RFC 9336
	oidExtKeyUsage     = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// Subject is who a signing certificate is for.
type Subject struct {
	ID           string // stream name: "enterprise-<uuid>" or "account-<uuid>"
	Kind         string // Enterprise or Person
	Name         string // certificate CN; Chinese allowed
	Organization string // certificate O; optional
	SerialNumber string // certificate serialNumber attribute: a masked identifier such as a masked USCC; optional
}

// Issued describes a certificate the authority has just issued, for the
// caller's CertificateIssued event.
type Issued struct {
	SubjectID string
	Kind      string
	Serial    string // hex, upper case
	Subject   string // RFC 2253 distinguished name
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	SHA256    string // hex of the DER
	PEM       string
}

// Authority issues and keeps keys. It is safe for concurrent use.
type Authority struct {
	dir   string
	vault *vault
	now   func() time.Time
	root  *x509.Certificate
	key   crypto.Signer

	locks [64]sync.Mutex // per subject, by hash: issuing twice would give two keys
	mu    sync.Mutex
	cache map[string]*entry
}

type entry struct {
	key   crypto.Signer
	chain []*x509.Certificate
}

// keyFile is the sealed content of a key file.
type keyFile struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Key  []byte `json:"key"`  // PKCS#8
	Cert []byte `json:"cert"` // DER
}

// Open opens the authority kept in dir, creating its root CA on first
// start. secret seals the keys; a secret that does not open existing keys
// gives ErrWrongSecret. A nil now means time.Now.
func Open(dir string, secret []byte, now func() time.Time) (*Authority, error) {
	a, err := open(dir, secret, now)
	if err != nil {
		return nil, err
	}
	keyPath, certPath := filepath.Join(dir, "ca.key.enc"), filepath.Join(dir, "ca.pem")
	data, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(certPath); err == nil {
			return nil, fmt.Errorf("pki: %s exists but its key %s is missing; restore the key or move both away to start a new CA", certPath, keyPath)
		}
		data, err = a.createRoot(keyPath)
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("pki: read %s: %w", keyPath, err)
	}
	kf, err := a.openKeyFile(data, "root")
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", keyPath, err)
	}
	if a.root, a.key, err = parsePair(kf); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", keyPath, err)
	}
	// ca.pem is a plain copy for operators and verifiers; the sealed file is authoritative.
	if old, err := os.ReadFile(certPath); err != nil || !bytes.Equal(old, a.RootPEM()) {
		if err := writeReplace(certPath, a.RootPEM()); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// OpenWithRoot opens the key store in dir with a root CA supplied by
// configuration (PEM certificate and PEM private key: PKCS#8, SEC 1 or
// PKCS#1). Nothing of the root is written to dir. Leaves that an earlier
// root issued are reissued on first use.
func OpenWithRoot(dir string, secret, certPEM, keyPEM []byte, now func() time.Time) (*Authority, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: configured root certificate: %w", err)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("pki: the configured root certificate is not a CA certificate allowed to sign certificates")
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: configured root key: %w", err)
	}
	if !samePublic(key.Public(), cert.PublicKey) {
		return nil, errors.New("pki: the configured root key does not belong to the configured root certificate")
	}
	a, err := open(dir, secret, now)
	if err != nil {
		return nil, err
	}
	a.root, a.key = cert, key
	return a, nil
}

func open(dir string, secret []byte, now func() time.Time) (*Authority, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	v, err := openVault(dir, secret)
	if err != nil {
		return nil, err
	}
	return &Authority{dir: dir, vault: v, now: now, cache: map[string]*entry{}}, nil
}

func (a *Authority) createRoot(keyPath string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: root key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	start := a.now().Add(-backdate).UTC().Truncate(time.Second)
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: RootName, Organization: []string{"Signet"}},
		NotBefore:             start,
		NotAfter:              start.Add(RootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: root certificate: %w", err)
	}
	data, err := a.sealKeyFile(keyFile{ID: "root", Kind: "root", Cert: der}, key)
	if err != nil {
		return nil, err
	}
	if err := writeExclusive(keyPath, data); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(keyPath) // another process created the root first
	} else if err != nil {
		return nil, err
	}
	return data, nil
}

// Root is the root CA certificate.
func (a *Authority) Root() *x509.Certificate { return a.root }

// RootPEM is the root CA certificate in PEM.
func (a *Authority) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.root.Raw})
}

// Signer returns the subject's signing key and certificate chain (leaf
// first, root last), issuing them on first use and when the certificate is
// near expiry or was issued by another root; issued is non-nil then.
func (a *Authority) Signer(ctx context.Context, s Subject) (crypto.Signer, []*x509.Certificate, *Issued, error) {
	if err := checkSubject(s); err != nil {
		return nil, nil, nil, err
	}
	return a.get(ctx, s)
}

// TimestampSigner returns the key and chain of the platform's timestamp
// authority: its certificate has the critical timeStamping extended key
// usage RFC 3161 requires.
func (a *Authority) TimestampSigner(ctx context.Context) (crypto.Signer, []*x509.Certificate, *Issued, error) {
	return a.get(ctx, Subject{ID: TimestampID, Kind: Timestamp, Name: "Signet Timestamp Authority", Organization: "Signet"})
}

// PlatformSigner returns the key and chain the platform signs its own
// documents with, such as certificates of completion.
func (a *Authority) PlatformSigner(ctx context.Context) (crypto.Signer, []*x509.Certificate, *Issued, error) {
	return a.get(ctx, Subject{ID: PlatformID, Kind: Platform, Name: "Signet Platform", Organization: "Signet"})
}

func checkSubject(s Subject) error {
	switch {
	case s.Kind != Enterprise && s.Kind != Person:
		return fmt.Errorf("pki: subject kind %q is neither %q nor %q", s.Kind, Enterprise, Person)
	case s.ID == "" || s.ID == PlatformID || s.ID == TimestampID || !utf8.ValidString(s.ID) || strings.ContainsAny(s.ID, "\x00\n"):
		return fmt.Errorf("pki: invalid subject ID %q", s.ID)
	case strings.TrimSpace(s.Name) == "":
		return fmt.Errorf("pki: subject %s has no name", s.ID)
	}
	for _, v := range []string{s.Name, s.Organization, s.SerialNumber} {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 200 {
			return fmt.Errorf("pki: subject %s: a name is not valid UTF-8 or longer than 200 characters", s.ID)
		}
	}
	return nil
}

func (a *Authority) get(ctx context.Context, s Subject) (crypto.Signer, []*x509.Certificate, *Issued, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	sum := sha256.Sum256([]byte("signet pki subject\x00" + s.ID))
	lock := &a.locks[sum[0]%byte(len(a.locks))]
	lock.Lock()
	defer lock.Unlock()

	now := a.now()
	a.mu.Lock()
	e := a.cache[s.ID]
	a.mu.Unlock()
	if e != nil && fresh(e.chain[0], now) { // cached entries were checked against the root when loaded
		return e.key, e.chain, nil, nil
	}

	path := filepath.Join(a.dir, "keys", hex.EncodeToString(sum[:20])+".key")
	aad := "subject\x00" + s.Kind + "\x00" + s.ID
	data, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("pki: read key of %s: %w", s.ID, err)
	}
	if exists {
		kf, err := a.openKeyFile(data, aad)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("pki: key of %s: %w", s.ID, err)
		}
		cert, key, err := parsePair(kf)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("pki: key of %s: %w", s.ID, err)
		}
		if a.current(cert, now) {
			return a.remember(s.ID, key, cert), a.chain(cert), nil, nil
		}
	}

	key, cert, err := a.issue(s, now)
	if err != nil {
		return nil, nil, nil, err
	}
	data, err = a.sealKeyFile(keyFile{ID: s.ID, Kind: s.Kind, Cert: cert.Raw}, key)
	if err != nil {
		return nil, nil, nil, err
	}
	if exists {
		err = writeReplace(path, data)
	} else if err = writeExclusive(path, data); errors.Is(err, fs.ErrExist) {
		// Another process issued first: use its key.
		a.mu.Lock()
		delete(a.cache, s.ID)
		a.mu.Unlock()
		return a.getLocked(s, path, aad, now)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	signer := a.remember(s.ID, key, cert)
	return signer, a.chain(cert), describe(s, cert), nil
}

// getLocked loads a key file another process has just written.
func (a *Authority) getLocked(s Subject, path, aad string, now time.Time) (crypto.Signer, []*x509.Certificate, *Issued, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: read key of %s: %w", s.ID, err)
	}
	kf, err := a.openKeyFile(data, aad)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: key of %s: %w", s.ID, err)
	}
	cert, key, err := parsePair(kf)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: key of %s: %w", s.ID, err)
	}
	return a.remember(s.ID, key, cert), a.chain(cert), nil, nil
}

// current reports whether cert was issued by this root and is not near expiry.
func (a *Authority) current(cert *x509.Certificate, now time.Time) bool {
	return bytes.Equal(cert.RawIssuer, a.root.RawSubject) && cert.CheckSignatureFrom(a.root) == nil && fresh(cert, now)
}

func fresh(cert *x509.Certificate, now time.Time) bool {
	return now.Add(RenewBefore).Before(cert.NotAfter)
}

func (a *Authority) remember(id string, key crypto.Signer, cert *x509.Certificate) crypto.Signer {
	s := signer{key}
	a.mu.Lock()
	a.cache[id] = &entry{key: s, chain: a.chain(cert)}
	a.mu.Unlock()
	return s
}

func (a *Authority) chain(leaf *x509.Certificate) []*x509.Certificate {
	return []*x509.Certificate{leaf, a.root}
}

func (a *Authority) issue(s Subject, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: key for %s: %w", s.ID, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	start := now.Add(-backdate).UTC().Truncate(time.Second)
	end := start.Add(LeafValidity)
	if end.After(a.root.NotAfter) {
		end = a.root.NotAfter
	}
	name := pkix.Name{CommonName: strings.TrimSpace(s.Name), SerialNumber: s.SerialNumber}
	if s.Organization != "" {
		name.Organization = []string{s.Organization}
	}
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             start,
		NotAfter:              end,
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{{Scheme: "urn", Opaque: "signet:" + s.ID}},
	}
	if s.Kind == Timestamp {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
		if err != nil {
			return nil, nil, fmt.Errorf("pki: %w", err)
		}
		// RFC 3161 2.3: the only extended key usage, and critical.
		tpl.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}}
	} else {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		// emailProtection is what NSS (pdfsig) checks signing certificates
		// against; documentSigning is the precise one (RFC 9336).
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		tpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{OIDDocumentSigning}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, a.root, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: certificate for %s: %w", s.ID, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: certificate for %s: %w", s.ID, err)
	}
	return key, cert, nil
}

// Describe tells what a subject's certificate is, as Issued does when it
// is issued, for a caller recording a certificate it already had.
func Describe(s Subject, cert *x509.Certificate) *Issued { return describe(s, cert) }

func describe(s Subject, cert *x509.Certificate) *Issued {
	sum := sha256.Sum256(cert.Raw)
	return &Issued{
		SubjectID: s.ID,
		Kind:      s.Kind,
		Serial:    strings.ToUpper(cert.SerialNumber.Text(16)),
		Subject:   cert.Subject.String(),
		Issuer:    cert.Issuer.String(),
		NotBefore: cert.NotBefore,
		NotAfter:  cert.NotAfter,
		SHA256:    hex.EncodeToString(sum[:]),
		PEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
	}
}

func newSerial() (*big.Int, error) {
	// 127 random bits: positive and under the 20 octets RFC 5280 allows.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func (a *Authority) sealKeyFile(kf keyFile, key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	kf.Key = der
	plain, err := json.Marshal(kf)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key file: %w", err)
	}
	aad := "root"
	if kf.Kind != "root" {
		aad = "subject\x00" + kf.Kind + "\x00" + kf.ID
	}
	return a.vault.seal(plain, aad), nil
}

func (a *Authority) openKeyFile(data []byte, aad string) (keyFile, error) {
	plain, err := a.vault.open(data, aad)
	if err != nil {
		return keyFile{}, err
	}
	var kf keyFile
	if err := json.Unmarshal(plain, &kf); err != nil {
		return keyFile{}, fmt.Errorf("pki: key file: %w", err)
	}
	return kf, nil
}

func parsePair(kf keyFile) (*x509.Certificate, crypto.Signer, error) {
	cert, err := x509.ParseCertificate(kf.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kf.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("private key: %w", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok || !samePublic(key.Public(), cert.PublicKey) {
		return nil, nil, errors.New("the key does not match its certificate")
	}
	return cert, key, nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no CERTIFICATE block in the PEM")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no private key block in the PEM")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the key PEM is encrypted; supply it decrypted through the secret store")
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, nil
	}
}

func samePublic(a, b crypto.PublicKey) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}

// signer hides the private key: callers get Public and Sign, nothing to
// type-assert the key bytes out of.
type signer struct{ key crypto.Signer }

func (s signer) Public() crypto.PublicKey { return s.key.Public() }

func (s signer) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(r, digest, opts)
}
