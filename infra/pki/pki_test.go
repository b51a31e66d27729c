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
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	secret = []byte("correct horse battery staple")
	t0     = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	acme   = Subject{ID: "enterprise-6f1c1d2e-0000-4000-8000-000000000001", Kind: Enterprise, Name: "杭州示例科技有限公司", Organization: "杭州示例科技有限公司", SerialNumber: "9133****0001X"}
	zhang  = Subject{ID: "account-6f1c1d2e-0000-4000-8000-000000000002", Kind: Person, Name: "张三", SerialNumber: "3301**********0016"}
)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustOpen(t *testing.T, dir string, now time.Time) *Authority {
	t.Helper()
	a, err := Open(dir, secret, clock(now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

func TestOpenCreatesRootOnceAndReopens(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, t0)
	root := a.Root()
	if root.Subject.CommonName != RootName || !root.IsCA || !root.MaxPathLenZero || root.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("root: CN %q CA %v maxPathLenZero %v usage %v", root.Subject.CommonName, root.IsCA, root.MaxPathLenZero, root.KeyUsage)
	}
	if pub, ok := root.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("root key is %T, want ECDSA P-256", root.PublicKey)
	}
	if got := root.NotAfter.Sub(root.NotBefore); got != RootValidity {
		t.Fatalf("root validity %v, want %v", got, RootValidity)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Fatalf("root is not self-signed: %v", err)
	}
	pemFile, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil || !bytes.Equal(pemFile, a.RootPEM()) {
		t.Fatalf("ca.pem does not hold the root (err %v)", err)
	}

	b := mustOpen(t, dir, t0.Add(time.Hour))
	if !bytes.Equal(b.Root().Raw, root.Raw) {
		t.Fatal("reopening with the same secret gave another root")
	}
	// ca.pem is only a copy: losing it is repaired from the sealed key file.
	os.Remove(filepath.Join(dir, "ca.pem"))
	c := mustOpen(t, dir, t0)
	if !bytes.Equal(c.Root().Raw, root.Raw) {
		t.Fatal("reopening without ca.pem gave another root")
	}
	if pemFile, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); !bytes.Equal(pemFile, a.RootPEM()) {
		t.Fatal("ca.pem was not rewritten")
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, t0)
	before := snapshot(t, dir)
	_, err := Open(dir, []byte("wrong"), clock(t0))
	if !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("Open with a wrong secret: %v, want ErrWrongSecret", err)
	}
	if !strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %q does not name the secret", err)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatalf("a wrong secret changed the data dir:\n%s\nthen\n%s", before, after)
	}
	if _, err := Open(dir, nil, clock(t0)); err == nil {
		t.Fatal("an empty secret was accepted")
	}
	// Wrong secret with a configured root: the subject keys are still sealed.
	certPEM, keyPEM := externalRoot(t)
	if _, err := OpenWithRoot(dir, []byte("wrong"), certPEM, keyPEM, clock(t0)); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("OpenWithRoot with a wrong secret: %v, want ErrWrongSecret", err)
	}
}

func TestLostRootKeyIsRefusedNotReplaced(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, t0)
	if err := os.Remove(filepath.Join(dir, "ca.key.enc")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, secret, clock(t0))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Open without the root key: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.key.enc")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a new root key was created")
	}
}

// snapshot lists every file with its size and hash.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s %d %x\n", p, len(data), sum)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSignerIssuesOnceAndPersists(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, t0)
	ctx := context.Background()
	key, chain, issued, err := a.Signer(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if issued == nil {
		t.Fatal("first use issued nothing")
	}
	leaf := chain[0]
	if len(chain) != 2 || !bytes.Equal(chain[1].Raw, a.Root().Raw) {
		t.Fatalf("chain has %d certificates, want leaf and root", len(chain))
	}
	sum := sha256.Sum256(leaf.Raw)
	block, _ := pem.Decode([]byte(issued.PEM))
	switch {
	case issued.SubjectID != acme.ID || issued.Kind != Enterprise:
		t.Fatalf("issued for %s/%s", issued.SubjectID, issued.Kind)
	case issued.Serial != strings.ToUpper(leaf.SerialNumber.Text(16)):
		t.Fatalf("serial %s, certificate %x", issued.Serial, leaf.SerialNumber)
	case issued.SHA256 != hex.EncodeToString(sum[:]):
		t.Fatalf("SHA256 %s", issued.SHA256)
	case block == nil || !bytes.Equal(block.Bytes, leaf.Raw):
		t.Fatal("PEM is not the certificate")
	case !issued.NotBefore.Equal(leaf.NotBefore) || !issued.NotAfter.Equal(leaf.NotAfter):
		t.Fatal("validity differs from the certificate")
	case !strings.Contains(issued.Subject, "杭州示例科技有限公司"):
		t.Fatalf("subject %q", issued.Subject)
	}
	checkLeaf(t, a, leaf, acme, x509.ExtKeyUsageEmailProtection)
	if leaf.NotAfter.Sub(leaf.NotBefore) != LeafValidity {
		t.Fatalf("leaf validity %v", leaf.NotAfter.Sub(leaf.NotBefore))
	}

	// The returned signer signs for the certificate's key.
	digest := sha256.Sum256([]byte("contract"))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(leaf.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("signature does not verify with the certificate (err %v)", err)
	}
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		t.Fatal("Signer handed out the private key itself")
	}

	_, chain2, issued2, err := a.Signer(ctx, acme)
	if err != nil || issued2 != nil || !bytes.Equal(chain2[0].Raw, leaf.Raw) {
		t.Fatalf("second use: err %v, issued %v, same cert %v", err, issued2, bytes.Equal(chain2[0].Raw, leaf.Raw))
	}
	b := mustOpen(t, dir, t0.Add(24*time.Hour))
	_, chain3, issued3, err := b.Signer(ctx, acme)
	if err != nil || issued3 != nil || !bytes.Equal(chain3[0].Raw, leaf.Raw) {
		t.Fatalf("after reopening: err %v, issued %v", err, issued3)
	}

	_, pchain, pissued, err := a.Signer(ctx, zhang)
	if err != nil || pissued == nil {
		t.Fatalf("person: err %v, issued %v", err, pissued)
	}
	checkLeaf(t, a, pchain[0], zhang, x509.ExtKeyUsageEmailProtection)
	if len(pchain[0].Subject.Organization) != 0 {
		t.Fatalf("person without organization got O=%v", pchain[0].Subject.Organization)
	}
}

func checkLeaf(t *testing.T, a *Authority, leaf *x509.Certificate, s Subject, eku x509.ExtKeyUsage) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(a.Root())
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{eku}}); err != nil {
		t.Fatalf("leaf does not chain to the root: %v", err)
	}
	if leaf.Subject.CommonName != s.Name || leaf.Subject.SerialNumber != s.SerialNumber {
		t.Fatalf("subject %v", leaf.Subject)
	}
	if s.Organization != "" && (len(leaf.Subject.Organization) != 1 || leaf.Subject.Organization[0] != s.Organization) {
		t.Fatalf("O = %v", leaf.Subject.Organization)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Fatalf("key usage %v", leaf.KeyUsage)
	}
	docSigning := false
	for _, o := range leaf.UnknownExtKeyUsage {
		docSigning = docSigning || o.Equal(OIDDocumentSigning)
	}
	if !docSigning {
		t.Fatal("no documentSigning extended key usage")
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "urn:signet:"+s.ID {
		t.Fatalf("URIs %v", leaf.URIs)
	}
}

func TestKeysAreSealedOnDisk(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, t0)
	ctx := context.Background()
	var secrets [][]byte
	for _, s := range []Subject{acme, zhang} {
		k, _, _, err := a.Signer(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, plainKey(t, k)...)
	}
	k, _, _, err := a.TimestampSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, plainKey(t, k)...)
	secrets = append(secrets, plainKey(t, a.key)...)

	entries, err := os.ReadDir(filepath.Join(dir, "keys"))
	if err != nil || len(entries) != 3 {
		t.Fatalf("keys/ has %d files (err %v), want 3", len(entries), err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), "enterprise") || strings.Contains(e.Name(), "account") {
			t.Fatalf("key file name %q reveals the subject", e.Name())
		}
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s contains a private key in the clear", p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// plainKey returns the PKCS#8 DER and the raw scalar of a key from this package.
func plainKey(t *testing.T, k crypto.Signer) [][]byte {
	t.Helper()
	if s, ok := k.(signer); ok {
		k = s.key
	}
	ec := k.(*ecdsa.PrivateKey)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{der, d}
}

func TestConcurrentSignersGetOneCertificate(t *testing.T) {
	dir := t.TempDir()
	// Two authorities on one dir stand for two processes.
	auths := []*Authority{mustOpen(t, dir, t0), mustOpen(t, dir, t0)}
	const n = 16
	var wg sync.WaitGroup
	certs := make([][]byte, n)
	issued := make([]*Issued, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, chain, iss, err := auths[i%2].Signer(context.Background(), acme)
			errs[i], issued[i] = err, iss
			if err == nil {
				certs[i] = chain[0].Raw
			}
		})
	}
	wg.Wait()
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !bytes.Equal(certs[i], certs[0]) {
			t.Fatalf("goroutine %d got another certificate", i)
		}
		if issued[i] != nil {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d calls reported an issue, want 1", count)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "keys")); len(entries) != 1 {
		t.Fatalf("keys/ has %d files, want 1", len(entries))
	}
}

func TestRenewalNearExpiry(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir, t0)
	ctx := context.Background()
	_, chain, _, err := a.Signer(ctx, zhang)
	if err != nil {
		t.Fatal(err)
	}
	old := chain[0]
	b := mustOpen(t, dir, old.NotAfter.Add(-RenewBefore-time.Hour))
	if _, c, iss, err := b.Signer(ctx, zhang); err != nil || iss != nil || !bytes.Equal(c[0].Raw, old.Raw) {
		t.Fatalf("before the renewal window: err %v, issued %v", err, iss)
	}
	c := mustOpen(t, dir, old.NotAfter.Add(-RenewBefore+time.Hour))
	_, renewed, iss, err := c.Signer(ctx, zhang)
	if err != nil || iss == nil || bytes.Equal(renewed[0].Raw, old.Raw) {
		t.Fatalf("in the renewal window: err %v, issued %v", err, iss)
	}
	if renewed[0].PublicKey.(*ecdsa.PublicKey).Equal(old.PublicKey) {
		t.Fatal("renewal kept the old key")
	}
}

func TestTimestampAndPlatformCertificates(t *testing.T) {
	a := mustOpen(t, t.TempDir(), t0)
	ctx := context.Background()
	_, chain, iss, err := a.TimestampSigner(ctx)
	if err != nil || iss == nil {
		t.Fatalf("TimestampSigner: %v, issued %v", err, iss)
	}
	tsa := chain[0]
	if len(tsa.ExtKeyUsage) != 1 || tsa.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Fatalf("TSA extended key usage %v", tsa.ExtKeyUsage)
	}
	critical := false
	for _, e := range tsa.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if !critical {
		t.Fatal("TSA extended key usage is not critical")
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Root())
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatalf("TSA certificate: %v", err)
	}
	_, pchain, _, err := a.PlatformSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkLeaf(t, a, pchain[0], Subject{ID: PlatformID, Name: "Signet Platform", Organization: "Signet"}, x509.ExtKeyUsageEmailProtection)
	if _, _, iss, err := a.TimestampSigner(ctx); err != nil || iss != nil {
		t.Fatalf("second TimestampSigner: %v, issued %v", err, iss)
	}
}

func TestSubjectsAreChecked(t *testing.T) {
	a := mustOpen(t, t.TempDir(), t0)
	for _, s := range []Subject{
		{ID: "enterprise-1", Kind: "robot", Name: "x"},
		{ID: "", Kind: Person, Name: "x"},
		{ID: PlatformID, Kind: Person, Name: "x"},
		{ID: TimestampID, Kind: Enterprise, Name: "x"},
		{ID: "account-1", Kind: Person, Name: "  "},
		{ID: "account-1", Kind: Person, Name: "\xff"},
	} {
		if _, _, _, err := a.Signer(context.Background(), s); err == nil {
			t.Errorf("subject %+v accepted", s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := a.Signer(ctx, zhang); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

// externalRoot makes a root CA as an operator would configure it.
func externalRoot(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Operator Root"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(5 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestOpenWithConfiguredRoot(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := mustOpen(t, dir, t0)
	_, old, _, err := a.Signer(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}

	certPEM, keyPEM := externalRoot(t)
	b, err := OpenWithRoot(dir, secret, certPEM, keyPEM, clock(t0))
	if err != nil {
		t.Fatal(err)
	}
	if b.Root().Subject.CommonName != "Operator Root" {
		t.Fatalf("root %v", b.Root().Subject)
	}
	// The leaf from the generated root is reissued under the configured one.
	_, chain, iss, err := b.Signer(ctx, acme)
	if err != nil || iss == nil || bytes.Equal(chain[0].Raw, old[0].Raw) {
		t.Fatalf("after changing roots: err %v, issued %v", err, iss)
	}
	checkLeaf(t, b, chain[0], acme, x509.ExtKeyUsageEmailProtection)

	_, otherKey := externalRoot(t)
	if _, err := OpenWithRoot(dir, secret, certPEM, otherKey, clock(t0)); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("mismatched key: %v", err)
	}
	if _, err := OpenWithRoot(dir, secret, []byte("junk"), otherKey, clock(t0)); err == nil {
		t.Fatal("junk certificate accepted")
	}
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].Raw})
	if _, err := OpenWithRoot(dir, secret, leafPEM, otherKey, clock(t0)); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Fatalf("leaf as root: %v", err)
	}
}
