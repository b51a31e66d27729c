package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/timestamp"

	"signet/domain/audit"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/domain/layout"
	"signet/infra/auditlog"
	"signet/infra/completion"
	"signet/infra/pdftext"
	"signet/infra/pki"
	"signet/infra/sealing"
	"signet/infra/tsa"
)

var t0 = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)

const contractID = "33333333-3333-4333-8333-333333333333"

// fixture is a completed two-party, two-document contract as the platform
// would bundle it, made with the real parts: pki's CA, the TSA, sealing's
// signatures, the certificate renderer, the domain's events sealed into
// their chain, the audit log's Merkle tree and an Ed25519 tree-head key.
type fixture struct {
	bundle Bundle
	zip    []byte
	logKey ed25519.PrivateKey
	caPEM  []byte
	tsa    *tsa.TSA
}

func textPDF(t testing.TB, lines ...string) []byte {
	t.Helper()
	c := &pdftext.Canvas{}
	for i, l := range lines {
		c.Str(72, pdftext.PageH-100-float64(i)*20, 12, l)
	}
	return pdftext.Build([]*pdftext.Canvas{c}, lines[0], t0)
}

func newEvent(t testing.TB, stream string, version, position uint64, prev string, e contract.Event, at time.Time) event.Envelope {
	t.Helper()
	n, err := contract.NewEvent(fmt.Sprintf("%08d-0000-4000-8000-000000000000", position), e, event.Metadata{
		Actor: "account-1", CorrelationID: "corr-1", ClientIP: "203.0.113.7", OccurredAt: at})
	if err != nil {
		t.Fatal(err)
	}
	env := event.Envelope{ID: n.ID, Stream: stream, Version: version, Position: position, Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta}
	event.Seal(prev, &env)
	return env
}

func build(t testing.TB) fixture {
	t.Helper()
	ctx := context.Background()
	ca, err := pki.Open(filepath.Join(t.TempDir(), "pki"), []byte("evidence test secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, chain, _, err := ca.TimestampSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	authority, err := tsa.New(key, chain[0], chain, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	docs := []sealing.Document{
		{ID: "doc-1", Name: "采购合同.pdf", PDF: textPDF(t, "Purchase agreement", "page one")},
		{ID: "doc-2", Name: "附件.pdf", PDF: textPDF(t, "Appendix", "price list")},
	}
	parties := []sealing.Party{
		{PartyID: "p-1", SubjectID: "enterprise-11111111-1111-4111-8111-111111111111", Kind: pki.Enterprise, Name: "杭州示例科技有限公司",
			Organization: "杭州示例科技有限公司", SerialNumber: "9133****0001X", SignedAt: t0},
		{PartyID: "p-2", SubjectID: "account-22222222-2222-4222-8222-222222222222", Kind: pki.Person, Name: "张三",
			SerialNumber: "330*****016", SignedAt: t0.Add(time.Hour)},
	}
	res, err := sealing.New(ca, authority, nil, nil).Seal(ctx, sealing.Request{ContractID: contractID, Number: "HT20261103-7K3M9QXA",
		Title: "采购合同", Documents: docs, Parties: parties})
	if err != nil {
		t.Fatal(err)
	}

	stream := contract.StreamOf(contractID)
	var evs []event.Envelope
	var log []event.Envelope // the global log: this contract's events among others
	pos := uint64(40)
	add := func(e contract.Event, at time.Time) {
		for range 3 { // other streams' events between the contract's
			pos++
			other := event.Envelope{ID: fmt.Sprintf("other-%d", pos), Stream: fmt.Sprintf("account-%d", pos), Version: 1, Position: pos,
				Type: "AccountRegistered", Schema: 1, Data: []byte(`{"n":1}`), Meta: event.Metadata{OccurredAt: at}}
			event.Seal("", &other)
			log = append(log, other)
		}
		pos++
		prev := ""
		if len(evs) > 0 {
			prev = evs[len(evs)-1].Hash
		}
		env := newEvent(t, stream, uint64(len(evs)+1), pos, prev, e, at)
		evs = append(evs, env)
		log = append(log, env)
	}
	var sent []contract.DocumentHash
	for _, d := range docs {
		sent = append(sent, contract.DocumentHash{DocumentID: d.ID, SHA256: sha256Hex(d.PDF)})
	}
	add(contract.ContractCreated{ContractID: contractID, Number: "HT20261103-7K3M9QXA", Title: "采购合同",
		Sender:    contract.Sender{AccountID: "account-1", EnterpriseID: "enterprise-1", Name: "杭州示例科技有限公司", PersonName: "李四"},
		Documents: []layout.Document{{ID: "doc-1", Name: "采购合同.pdf"}, {ID: "doc-2", Name: "附件.pdf"}}, CreatedAt: t0.Add(-2 * time.Hour)}, t0.Add(-2*time.Hour))
	add(contract.ContractSent{Documents: sent, SentBy: "account-1", SentAt: t0.Add(-time.Hour)}, t0.Add(-time.Hour))
	add(contract.PartySigned{PartyID: "p-1", SignerAccountID: "account-1", SignerName: "李四", Documents: sent, ClientIP: "203.0.113.7", SignedAt: t0}, t0)
	add(contract.PartySigned{PartyID: "p-2", SignerAccountID: "account-2", SignerName: "张三", Documents: sent, ClientIP: "198.51.100.9", SignedAt: t0.Add(time.Hour)}, t0.Add(time.Hour))

	cert, err := completion.Render(completion.Certificate{
		Contract:    completion.Contract{ID: contractID, Number: "HT20261103-7K3M9QXA", Title: "采购合同", Status: "completed", CompletedAt: t0.Add(2 * time.Hour)},
		GeneratedAt: t0.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	sealed := contract.ContractSealed{CertificateSHA256: sha256Hex(cert), Attempt: 1, SealedAt: t0.Add(2 * time.Hour)}
	var files []File
	for i, d := range res.Documents {
		sealed.Documents = append(sealed.Documents, contract.SealedDocument{DocumentID: d.ID, Name: docs[i].Name, SHA256: d.SHA256, Size: int64(len(d.PDF)), Signatures: d.Signatures})
		files = append(files, File{Name: DocumentName(d.ID), Data: d.PDF})
	}
	for _, p := range parties {
		_, chain, _, err := ca.Signer(ctx, pki.Subject{ID: p.SubjectID, Kind: p.Kind, Name: p.Name, Organization: p.Organization, SerialNumber: p.SerialNumber})
		if err != nil {
			t.Fatal(err)
		}
		sealed.Certificates = append(sealed.Certificates, contract.CertificateRef{Subject: p.SubjectID, PartyID: p.PartyID,
			Serial: fmt.Sprintf("%X", chain[0].SerialNumber), SHA256: sha256Hex(chain[0].Raw)})
	}
	var tokens []File
	for i, tok := range res.Timestamps {
		sealed.Timestamps = append(sealed.Timestamps, sha256Hex(tok))
		tokens = append(tokens, File{Name: TimestampName(i + 1), Data: tok})
	}
	add(sealed, t0.Add(2*time.Hour))
	add(contract.ContractCompleted{CompletedAt: t0.Add(2 * time.Hour)}, t0.Add(2*time.Hour))

	// The log's tree, one more event after the contract's, and a signed head.
	tree := auditlog.NewTree()
	for _, e := range log {
		if _, err := tree.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	_, logKey, _ := ed25519.GenerateKey(nil)
	head := signHead(t, tree, logKey, t0.Add(3*time.Hour))
	var proofs []Inclusion
	for _, e := range evs {
		i, _ := tree.IndexOf(e.Position)
		path, err := tree.Merkle().InclusionProof(i, head.Size)
		if err != nil {
			t.Fatal(err)
		}
		proofs = append(proofs, Inclusion{EventID: e.ID, LeafIndex: i, Hashes: path})
	}
	pub, err := auditlog.MarshalPublicKey(logKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	b := Bundle{ContractID: contractID, Events: evs, Documents: files, Certificate: File{Data: cert}, CACert: ca.RootPEM(),
		LogKey: pub, Head: head, Proofs: proofs, Timestamps: tokens}
	var out bytes.Buffer
	if err := Write(&out, b); err != nil {
		t.Fatal(err)
	}
	return fixture{bundle: b, zip: out.Bytes(), logKey: logKey, caPEM: ca.RootPEM(), tsa: authority}
}

func signHead(t testing.TB, tree *auditlog.Tree, key ed25519.PrivateKey, at time.Time) audit.TreeHeadSigned {
	t.Helper()
	root, err := tree.Merkle().Root(tree.Size())
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	h := audit.TreeHeadSigned{Size: tree.Size(), LastPosition: tree.LastPosition(), RootHash: hex.EncodeToString(root[:]),
		SignedAt: at.UTC(), KeyID: audit.KeyID(pub), Algorithm: audit.AlgorithmEd25519}
	h.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, h.Message()))
	return h
}

func verify(t testing.TB, z []byte, opts VerifyOptions) Report {
	t.Helper()
	rep, err := Verify(bytes.NewReader(z), int64(len(z)), opts)
	if (err != nil) == rep.OK {
		t.Fatalf("OK %v with error %v", rep.OK, err)
	}
	return rep
}

func TestVerifyPasses(t *testing.T) {
	fx := build(t)
	start := time.Now()
	rep := verify(t, fx.zip, VerifyOptions{TrustedCA: fx.caPEM, TrustedLogKey: fx.bundle.LogKey})
	t.Logf("Verify took %v for a %d-byte bundle of 2 documents\n%s", time.Since(start), len(fx.zip), rep)
	if !rep.OK || rep.ContractID != contractID {
		t.Fatalf("a genuine bundle does not verify:\n%s", rep)
	}
	for _, want := range []string{"zip", "manifest", "readme", "ca", "log key", "events", "tree head", "proofs", "sealed", "signatures", "timestamps"} {
		if !slices.ContainsFunc(rep.Checks, func(c Check) bool { return c.Name == want && c.OK }) {
			t.Errorf("no passing %q check", want)
		}
	}
	for _, want := range []string{"documents/doc-1.pdf", "documents/doc-2.pdf", "timestamps/4.tsr", "2 valid signatures", "signature 2 of documents/doc-2.pdf", "trusted root CA you gave"} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	// Unpinned, the report says to compare the fingerprints by hand.
	rep = verify(t, fx.zip, VerifyOptions{})
	if !rep.OK || !strings.Contains(rep.String(), "compare this fingerprint") || !strings.Contains(rep.String(), "compare this key ID") {
		t.Errorf("unpinned report:\n%s", rep)
	}
	// poppler's pdfsig, an independent implementation, finds each
	// signature valid too (the issuer is not in its trust store).
	for _, d := range fx.bundle.Documents {
		path := filepath.Join(t.TempDir(), "d.pdf")
		if err := os.WriteFile(path, d.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdfsig", path).CombinedOutput()
		if err != nil {
			t.Fatalf("pdfsig (poppler-utils, installed by .ci/run): %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "Signature Validation: Signature is Valid."); n != 2 || !strings.Contains(string(out), "Total document signed") {
			t.Errorf("pdfsig on %s:\n%s", d.Name, out)
		}
	}
	// Equal bundles are equal bytes.
	var again bytes.Buffer
	if err := Write(&again, fx.bundle); err != nil || !bytes.Equal(again.Bytes(), fx.zip) {
		t.Error("writing the same bundle twice gave different bytes")
	}
}

// entries reads a zip back as ordered files.
func entries(t testing.TB, z []byte) []File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var out []File
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{f.Name, b})
	}
	return out
}

func rezip(t testing.TB, files []File) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// remanifest rewrites manifest.json to match the files, as an attacker would.
func remanifest(t testing.TB, files []File) {
	t.Helper()
	m := manifestJSON{Format: Format, ContractID: contractID}
	at := -1
	for i, f := range files {
		if f.Name == ManifestName {
			at = i
			continue
		}
		m.Files = append(m.Files, manifestFile{Name: f.Name, Size: int64(len(f.Data)), SHA256: sha256Hex(f.Data)})
	}
	slices.SortFunc(m.Files, func(a, b manifestFile) int { return strings.Compare(a.Name, b.Name) })
	files[at].Data = indentJSON(m)
}

func names(rep Report, file string) bool {
	for _, c := range rep.Failures() {
		if c.File == file || strings.Contains(c.Detail, file) {
			return true
		}
	}
	return false
}

func flip(b []byte, i int) []byte {
	out := slices.Clone(b)
	out[i] ^= 0x01
	return out
}

// contentOffset is the first byte at or after i that a hash or signature
// covers: positions in events.json are not covered (a position is only
// known once stored), so a change there keeps the bundle whole.
func contentOffset(f File, i int) int {
	for ; i < len(f.Data); i++ {
		covered := true
		if f.Name == EventsName {
			for _, m := range positionRE.FindAllIndex(f.Data, -1) {
				covered = covered && (i < m[0] || i >= m[1])
			}
		}
		if covered {
			return i
		}
	}
	panic("no covered byte")
}

var positionRE = regexp.MustCompile(`"position": \d+`)

// TestEveryFileChanged flips a byte of every file of the bundle and
// re-zips it: in the middle with the manifest left alone, and at a quarter,
// half and three quarters with the manifest rewritten to match, as an
// attacker would. Verify must fail each time and name the file.
func TestEveryFileChanged(t *testing.T) {
	fx := build(t)
	orig := entries(t, fx.zip)
	if len(orig) != 14 {
		t.Fatalf("%d files in the bundle", len(orig))
	}
	opts := VerifyOptions{TrustedCA: fx.caPEM, TrustedLogKey: fx.bundle.LogKey}
	for k, f := range orig {
		t.Run(f.Name, func(t *testing.T) {
			try := func(i int, rewrite bool) {
				files := slices.Clone(orig)
				files[k] = File{f.Name, flip(f.Data, i)}
				if rewrite {
					remanifest(t, files)
				}
				rep := verify(t, rezip(t, files), opts)
				if rep.OK || !names(rep, f.Name) {
					t.Fatalf("byte %d of %s changed (manifest rewritten: %v): OK %v, and no failure names the file:\n%s", i, f.Name, rewrite, rep.OK, rep)
				}
			}
			try(len(f.Data)/2, false)
			if f.Name == ManifestName {
				return
			}
			for _, at := range []int{1, 2, 3} {
				try(contentOffset(f, len(f.Data)*at/4), true)
			}
		})
	}
}

// TestConsistentForgery changes an event and repairs everything an attacker
// can repair without the platform's keys: Verify still fails, on the chain,
// then on the proof, then on the pinned key.
func TestConsistentForgery(t *testing.T) {
	fx := build(t)
	opts := VerifyOptions{TrustedCA: fx.caPEM, TrustedLogKey: fx.bundle.LogKey}
	check := func(b Bundle, opts VerifyOptions, file, says string) {
		t.Helper()
		var z bytes.Buffer
		if err := Write(&z, b); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, z.Bytes(), opts)
		if rep.OK || !names(rep, file) || !strings.Contains(rep.String(), says) {
			t.Fatalf("want a failure on %s saying %q:\n%s", file, says, rep)
		}
	}
	forge := func(b Bundle) Bundle {
		b.Events = slices.Clone(b.Events)
		e := b.Events[0]
		e.Data = bytes.Replace(e.Data, []byte("采购合同"), []byte("赠与合同"), 1)
		b.Events[0] = e
		return b
	}
	// 1. The data changed, the hashes not: the chain breaks at version 1.
	check(forge(fx.bundle), opts, EventsName, "hash chain of contract-"+contractID+" broken at version 1")

	// 2. The chain recomputed (and with it each leaf hash in proofs.json):
	// the events are no longer the leaves the signed tree holds.
	b := forge(fx.bundle)
	prev := ""
	for i := range b.Events {
		event.Seal(prev, &b.Events[i])
		prev = b.Events[i].Hash
	}
	check(b, opts, ProofsName, "is not leaf")

	// 3. A new tree and head signed with the forger's own key: only a
	// pinned key tells.
	tree := auditlog.NewTree()
	for _, e := range b.Events {
		tree.Add(e)
	}
	_, forgerKey, _ := ed25519.GenerateKey(nil)
	b.Head = signHead(t, tree, forgerKey, t0.Add(4*time.Hour))
	for i, e := range b.Events {
		path, _ := tree.Merkle().InclusionProof(uint64(i), tree.Size())
		b.Proofs[i] = Inclusion{EventID: e.ID, LeafIndex: uint64(i), Hashes: path}
	}
	check(b, VerifyOptions{TrustedCA: fx.caPEM}, TreeHeadName, "signed by key")
	b.LogKey, _ = auditlog.MarshalPublicKey(forgerKey.Public().(ed25519.PublicKey))
	check(b, opts, LogKeyName, "is not the trusted tree-head key you gave")
	var z bytes.Buffer
	Write(&z, b)
	if rep := verify(t, z.Bytes(), VerifyOptions{}); !rep.OK || !strings.Contains(rep.String(), audit.KeyID(forgerKey.Public().(ed25519.PublicKey))) {
		t.Fatalf("a forgery with its own key holds together unpinned, and the report shows the key ID to compare:\n%s", rep)
	}
}

func TestVerifyRefusesBrokenBundles(t *testing.T) {
	fx := build(t)
	orig := entries(t, fx.zip)
	without := func(name string) []File {
		return slices.DeleteFunc(slices.Clone(orig), func(f File) bool { return f.Name == name })
	}
	with := func(extra ...File) []File { return append(slices.Clone(orig), extra...) }
	bomb := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create(EventsName)
		w.Write(bytes.Repeat([]byte{' '}, 8<<20))
		zw.Close()
		return b.Bytes()
	}()
	cases := []struct {
		name, file, says string
		zip              []byte
	}{
		{"not a zip", "", "not a readable zip", []byte("PK\x03\x04 not really")},
		{"empty", "", "not a readable zip", nil},
		{"zip bomb", EventsName, "possible zip bomb", bomb},
		{"path traversal", "../evil.pdf", "'..'", rezip(t, with(File{"../evil.pdf", []byte("x")}))},
		{"absolute path", "/etc/passwd", "absolute", rezip(t, with(File{"/etc/passwd", []byte("x")}))},
		{"backslash", `documents\x.pdf`, "Windows-style", rezip(t, with(File{`documents\x.pdf`, []byte("x")}))},
		{"duplicate name", EventsName, "twice", rezip(t, with(File{EventsName, []byte("[]")}))},
		{"duplicate by case", "Events.json", "twice", rezip(t, with(File{"Events.json", []byte("[]")}))},
		{"unexpected file", "notes.txt", "unexpected file", rezip(t, with(File{"notes.txt", []byte("x")}))},
		{"missing document", DocumentName("doc-2"), "does not hold", rezip(t, without(DocumentName("doc-2")))},
		{"missing events", EventsName, "missing", rezip(t, without(EventsName))},
		{"missing token", TimestampsDir, "does not hold", rezip(t, without(TimestampName(3)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify(t, tc.zip, VerifyOptions{})
			if rep.OK || !strings.Contains(rep.String(), tc.says) || tc.file != "" && !names(rep, tc.file) {
				t.Fatalf("want a failure on %q saying %q:\n%s", tc.file, tc.says, rep)
			}
		})
	}
	// A genuine token of the platform's TSA, for no signature of the bundle.
	req, err := timestamp.CreateRequest(strings.NewReader("something else"), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := fx.tsa.Respond(req)
	if err != nil {
		t.Fatal(err)
	}
	stray, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	files := with(File{TimestampName(5), stray.RawToken})
	remanifest(t, files)
	if rep := verify(t, rezip(t, files), VerifyOptions{}); rep.OK || !names(rep, TimestampName(5)) || !strings.Contains(rep.String(), "is for no signature in this bundle") {
		t.Fatalf("a stray token passes:\n%s", rep)
	}
	// Another CA in ca.pem: no signature and no token chains to it.
	other, err := pki.Open(filepath.Join(t.TempDir(), "other"), []byte("another secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	files = slices.Clone(orig)
	for i, f := range files {
		if f.Name == CAName {
			files[i].Data = other.RootPEM()
		}
	}
	remanifest(t, files)
	rep := verify(t, rezip(t, files), VerifyOptions{})
	for _, want := range []string{"signature 1 (object 11) its timestamp token is not signed by a timestamp authority chaining to ca.pem"} {
		if rep.OK || !strings.Contains(rep.String(), want) || !names(rep, DocumentName("doc-1")) || !names(rep, TimestampName(1)) {
			t.Fatalf("another CA passes (want %q):\n%s", want, rep)
		}
	}
	// A document signed under the other CA, timestamped by the platform's
	// TSA: the token holds, the signer does not chain to ca.pem.
	key, chain, _, err := other.Signer(context.Background(), pki.Subject{ID: "account-x", Kind: pki.Person, Name: "冒名者"})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := fx.tsa.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	plain := textPDF(t, "Forged")
	rdr, err := pdf.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	var forged bytes.Buffer
	if err := sign.Sign(bytes.NewReader(plain), &forged, rdr, int64(len(plain)), sign.SignData{
		Signature: sign.SignDataSignature{CertType: sign.ApprovalSignature, Info: sign.SignDataSignatureInfo{Name: "x", Date: t0}},
		Signer:    key, DigestAlgorithm: crypto.SHA256, Certificate: chain[0], CertificateChains: [][]*x509.Certificate{chain}, TSA: sign.TSA{URL: url},
	}); err != nil {
		t.Fatal(err)
	}
	files = slices.Clone(orig)
	for i, f := range files {
		if f.Name == DocumentName("doc-1") {
			files[i].Data = forged.Bytes()
		}
	}
	remanifest(t, files)
	if rep := verify(t, rezip(t, files), VerifyOptions{}); rep.OK || !strings.Contains(rep.String(), `signer's certificate "冒名者" does not chain to ca.pem`) {
		t.Fatalf("a document signed under another CA passes:\n%s", rep)
	}
	// Bytes appended after the last signature (an incremental update).
	files = slices.Clone(orig)
	for i, f := range files {
		if f.Name == DocumentName("doc-2") {
			files[i].Data = append(slices.Clone(f.Data), "\n% appended after signing\n"...)
		}
	}
	remanifest(t, files)
	if rep := verify(t, rezip(t, files), VerifyOptions{}); rep.OK || !strings.Contains(rep.String(), "documents/doc-2.pdf: the file was changed after its last signature") {
		t.Fatalf("an update after the last signature passes:\n%s", rep)
	}
	// An extra document that the manifest lists but the sealing does not.
	files = with(File{DocumentName("doc-3"), fx.bundle.Documents[0].Data})
	remanifest(t, files)
	if rep := verify(t, rezip(t, files), VerifyOptions{}); rep.OK || !names(rep, DocumentName("doc-3")) {
		t.Fatalf("an extra document passes:\n%s", rep)
	}
	// A document swapped for the other one (both validly signed).
	files = slices.Clone(orig)
	for i, f := range files {
		if f.Name == DocumentName("doc-1") {
			files[i].Data = fx.bundle.Documents[1].Data
		}
	}
	remanifest(t, files)
	if rep := verify(t, rezip(t, files), VerifyOptions{}); rep.OK || !names(rep, DocumentName("doc-1")) {
		t.Fatalf("a swapped document passes:\n%s", rep)
	}
}

// TestWriteRefuses: Write never puts an unsafe name into a zip.
func TestWriteRefuses(t *testing.T) {
	fx := build(t)
	for name, edit := range map[string]func(*Bundle){
		"traversal document":  func(b *Bundle) { b.Documents = []File{{"documents/../x.pdf", []byte("x")}} },
		"document elsewhere":  func(b *Bundle) { b.Documents = []File{{"x.pdf", []byte("x")}} },
		"token elsewhere":     func(b *Bundle) { b.Timestamps = []File{{"documents/1.tsr", []byte("x")}} },
		"duplicate":           func(b *Bundle) { b.Documents = append(b.Documents, b.Documents[0]) },
		"no events":           func(b *Bundle) { b.Events = nil },
		"bad contract ID":     func(b *Bundle) { b.ContractID = "../x" },
		"proof of a stranger": func(b *Bundle) { b.Proofs = append(b.Proofs, Inclusion{EventID: "nope"}) },
	} {
		b := fx.bundle
		edit(&b)
		if err := Write(io.Discard, b); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}

func TestEventsKeepDataVerbatim(t *testing.T) {
	env := event.Envelope{ID: "e1", Stream: "contract-x", Version: 1, Position: 7, Type: "T", Schema: 1,
		Data: []byte(`{"b": "<&>",  "a":[1, 2]}`), Meta: event.Metadata{OccurredAt: t0}}
	event.Seal("", &env)
	b, err := writeEvents([]event.Envelope{env})
	if err != nil {
		t.Fatal(err)
	}
	var back []eventJSON
	if err := decodeStrict(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back[0].Data) != string(env.Data) || !json.Valid(b) {
		t.Fatalf("data came back as %s", back[0].Data)
	}
}
