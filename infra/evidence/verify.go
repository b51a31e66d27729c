package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"signet/domain/audit"
	"signet/domain/contract"
	"signet/domain/event"
	"signet/infra/auditlog"
	"signet/infra/merkle"
)

// Limits on a bundle, so that a zip bomb or a huge archive is refused
// before it is read.
const (
	MaxBundleBytes = 256 << 20 // the zip itself
	MaxTotalBytes  = 200 << 20 // all files uncompressed
	MaxFiles       = 4096
	// MaxRatio bounds uncompressed/compressed size of the bundle and of any
	// file, beyond the first MiB; PDFs and JSON compress far less than
	// that, bombs far more.
	MaxRatio = 100
)

// ErrNotVerified is returned with a report that has a failed check.
var ErrNotVerified = errors.New("the evidence bundle does not verify")

// VerifyOptions pin what the bundle itself cannot prove: the platform's
// root CA and tree-head key, as published. Unset, the bundle's own are
// used and the report prints their fingerprints to compare by hand.
type VerifyOptions struct {
	TrustedCA     []byte // PEM certificate
	TrustedLogKey []byte // PEM public key
}

// Check is one line of the report.
type Check struct {
	Name   string // what was checked: "zip", "manifest", "events", ...
	File   string // the bundle file it is about; "" for the whole bundle
	OK     bool
	Detail string // a plain English sentence
}

// Report is what Verify found.
type Report struct {
	OK         bool
	ContractID string
	Checks     []Check
}

// Failures are the checks that failed.
func (r Report) Failures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// String is the report as `signet evidence verify` prints it.
func (r Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		where := c.Name
		if c.File != "" {
			where += " " + c.File
		}
		fmt.Fprintf(&b, "%s  %s: %s\n", mark, where, c.Detail)
	}
	if r.OK {
		fmt.Fprintf(&b, "\n结论：证据包完整、未被篡改。\nResult: the evidence bundle of contract %s holds: every check passed.\n", r.ContractID)
	} else {
		fmt.Fprintf(&b, "\n结论：证据包未通过核验（%d 项失败，见 FAIL 行）。\nResult: the evidence bundle does NOT hold: %d check(s) failed (the FAIL lines say where).\n", len(r.Failures()), len(r.Failures()))
	}
	return b.String()
}

// verifier carries what one check learns for the next.
type verifier struct {
	opts       VerifyOptions
	rep        Report
	files      map[string][]byte
	names      []string // the files read, in zip order
	contractID string
	events     []event.Envelope
	chainOK    bool
	trust      trust
	pub        ed25519.PublicKey
	head       *audit.TreeHeadSigned
	sealed     *sealedJSON
	pdfs       map[string][]signature // the signatures found in each PDF
}

func (v *verifier) pass(name, file, format string, args ...any) {
	v.rep.Checks = append(v.rep.Checks, Check{Name: name, File: file, OK: true, Detail: fmt.Sprintf(format, args...)})
}

func (v *verifier) fail(name, file, format string, args ...any) {
	v.rep.Checks = append(v.rep.Checks, Check{Name: name, File: file, OK: false, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks a bundle offline. The report is always filled; the error
// is ErrNotVerified when any check failed.
func Verify(r io.ReaderAt, size int64, opts VerifyOptions) (rep Report, err error) {
	v := &verifier{opts: opts, files: map[string][]byte{}, pdfs: map[string][]signature{}, trust: trust{tokens: map[string]error{}}}
	defer func() {
		rep = v.rep
		rep.ContractID = v.contractID
		rep.OK = len(rep.Checks) > 0 && len(rep.Failures()) == 0
		if !rep.OK {
			err = ErrNotVerified
		}
	}()
	if !v.readZip(r, size) {
		return
	}
	v.checkManifest()
	v.checkCA()
	v.checkLogKey()
	v.checkEvents()
	v.checkReadme()
	v.checkTreeHead()
	v.checkProofs()
	v.checkSealed()
	v.checkPDFs()
	v.checkTimestamps()
	return
}

// fixedNames are the files every bundle has, besides documents and tokens.
var fixedNames = []string{ManifestName, ReadmeName, EventsName, ProofsName, TreeHeadName, CAName, LogKeyName, CertificateName}

func expectedName(name string) bool {
	return slices.Contains(fixedNames, name) || inDir(name, DocumentsDir, ".pdf") || inDir(name, TimestampsDir, ".tsr")
}

// unsafeName says why a zip entry's name could escape a directory or
// confuse a reader, or "".
func unsafeName(name string) string {
	switch {
	case name == "":
		return "an empty name"
	case !utf8.ValidString(name):
		return "a name that is not UTF-8"
	case strings.ContainsAny(name, "\\:") || strings.HasPrefix(name, "/"):
		return "an absolute or Windows-style path"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "a control character in the name"
	case path.Clean(strings.TrimSuffix(name, "/")) != strings.TrimSuffix(name, "/") || slices.Contains(strings.Split(name, "/"), ".."):
		return "a path with '.', '..' or an empty segment"
	}
	return ""
}

// readZip reads every expected file into memory within the limits. A
// false return means nothing further can be checked.
func (v *verifier) readZip(r io.ReaderAt, size int64) bool {
	if size > MaxBundleBytes {
		v.fail("zip", "", "the bundle is %d bytes; bundles over %d bytes are refused", size, MaxBundleBytes)
		return false
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		v.fail("zip", "", "the bundle is not a readable zip archive: %v", err)
		return false
	}
	if len(zr.File) > MaxFiles {
		v.fail("zip", "", "the archive has %d entries; at most %d are read", len(zr.File), MaxFiles)
		return false
	}
	ok := true
	seen := map[string]string{}
	var total uint64
	var toRead []*zip.File
	for _, f := range zr.File {
		if why := unsafeName(f.Name); why != "" {
			v.fail("zip", f.Name, "the entry has %s; nothing of the bundle is trusted", why)
			return false
		}
		folded := strings.ToLower(f.Name)
		if prev, dup := seen[folded]; dup {
			v.fail("zip", f.Name, "the archive holds %s twice (also as %q): which one a tool reads is not defined", f.Name, prev)
			return false
		}
		seen[folded] = f.Name
		if strings.HasSuffix(f.Name, "/") {
			if f.Name != DocumentsDir && f.Name != TimestampsDir || f.UncompressedSize64 != 0 {
				v.fail("zip", f.Name, "unexpected directory in the bundle")
				ok = false
			}
			continue
		}
		if !expectedName(f.Name) {
			v.fail("zip", f.Name, "unexpected file: a bundle holds only the files its README lists")
			ok = false
			continue
		}
		total += f.UncompressedSize64
		if total > MaxTotalBytes || f.UncompressedSize64 > MaxTotalBytes || total > 1<<20 && total > MaxRatio*uint64(size) {
			v.fail("zip", f.Name, "the files uncompress to %d bytes or more, from a %d-byte zip; refused as a possible zip bomb", total, size)
			return false
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > MaxRatio*f.CompressedSize64 {
			v.fail("zip", f.Name, "the file is compressed %d times (%d to %d bytes); refused as a possible zip bomb", f.UncompressedSize64/max(f.CompressedSize64, 1), f.UncompressedSize64, f.CompressedSize64)
			return false
		}
		toRead = append(toRead, f)
	}
	for _, f := range toRead {
		b, err := readEntry(f)
		if err != nil {
			v.fail("zip", f.Name, "cannot be read from the archive: %v", err)
			ok = false
			continue
		}
		v.files[f.Name] = b
		v.names = append(v.names, f.Name)
	}
	if ok {
		v.pass("zip", "", "the archive is well formed: %d files, %d bytes uncompressed, safe names, no duplicates", len(v.names), total)
	}
	return true
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("it holds %d bytes, its header says %d", len(b), f.UncompressedSize64)
	}
	return b, nil
}

// notCanonical: signet writes each JSON and PEM file in one exact form, so
// that even a change that keeps a file's meaning (spacing, key order, line
// breaks) shows.
const notCanonical = "is not in the exact form signet writes it: bytes were changed"

// decodeStrict reads one JSON value with no unknown fields and nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// file returns a file that the bundle must have, failing check if absent.
func (v *verifier) file(check, name string) ([]byte, bool) {
	b, ok := v.files[name]
	if !ok {
		v.fail(check, name, "the file is missing from the bundle")
	}
	return b, ok
}

func (v *verifier) checkManifest() {
	b, ok := v.file("manifest", ManifestName)
	if !ok {
		return
	}
	var m manifestJSON
	if err := decodeStrict(b, &m); err != nil {
		v.fail("manifest", ManifestName, "is not a manifest: %v", err)
		return
	}
	if m.Format != Format {
		v.fail("manifest", ManifestName, "says format %q; this verifier reads %q", m.Format, Format)
		return
	}
	if !bytes.Equal(b, indentJSON(m)) {
		v.fail("manifest", ManifestName, notCanonical)
	}
	if !safeSegment(m.ContractID) {
		v.fail("manifest", ManifestName, "names no valid contract ID (%q)", m.ContractID)
	} else {
		v.contractID = m.ContractID
	}
	ok = true
	listed := map[string]bool{}
	for _, f := range m.Files {
		if listed[f.Name] {
			v.fail("manifest", ManifestName, "lists %s twice", f.Name)
			ok = false
			continue
		}
		listed[f.Name] = true
		data, present := v.files[f.Name]
		switch {
		case f.Name == ManifestName:
			v.fail("manifest", ManifestName, "lists itself")
			ok = false
		case !present:
			v.fail("manifest", f.Name, "manifest.json lists %s, but the bundle does not hold it", f.Name)
			ok = false
		case int64(len(data)) != f.Size || sha256Hex(data) != f.SHA256:
			v.fail("manifest", f.Name, "the file's SHA-256 is %s (%d bytes) but manifest.json says %s (%d bytes): the file or the manifest was changed",
				sha256Hex(data), len(data), f.SHA256, f.Size)
			ok = false
		}
	}
	for _, n := range v.names {
		if n != ManifestName && !listed[n] {
			v.fail("manifest", n, "the bundle holds %s, which manifest.json does not list", n)
			ok = false
		}
	}
	if ok {
		v.pass("manifest", ManifestName, "lists the %d other files, each with the size and SHA-256 it has", len(m.Files))
	}
}

func (v *verifier) checkReadme() {
	b, ok := v.file("readme", ReadmeName)
	if !ok {
		return
	}
	if v.contractID == "" {
		v.fail("readme", ReadmeName, "cannot be checked: neither manifest.json nor events.json names the contract")
		return
	}
	if !bytes.Equal(b, readme(v.contractID)) {
		v.fail("readme", ReadmeName, "differs from the standard text of a bundle of this contract")
		return
	}
	v.pass("readme", ReadmeName, "is the standard text")
}

// onePEM decodes a file holding exactly one PEM block of the given type.
func onePEM(b []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != typ {
		return nil, fmt.Errorf("a PEM %q block, not %q", block.Type, typ)
	}
	if len(block.Headers) > 0 || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("more than one PEM block, or headers")
	}
	return block.Bytes, nil
}

func fingerprint(der []byte) string { return sha256Hex(der) }

func (v *verifier) checkCA() {
	b, ok := v.file("ca", CAName)
	if !ok {
		return
	}
	der, err := onePEM(b, "CERTIFICATE")
	if err != nil {
		v.fail("ca", CAName, "is not one PEM certificate: %v", err)
		return
	}
	if !bytes.Equal(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) {
		v.fail("ca", CAName, notCanonical)
		return
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		v.fail("ca", CAName, "does not parse as an X.509 certificate: %v", err)
		return
	}
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		v.fail("ca", CAName, "is not a CA certificate allowed to sign certificates")
		return
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		v.fail("ca", CAName, "is not a valid self-signed root (its own signature does not verify): %v", err)
		return
	}
	trust := "compare this fingerprint with the root CA the platform publishes"
	if len(v.opts.TrustedCA) > 0 {
		want, err := onePEM(v.opts.TrustedCA, "CERTIFICATE")
		if err != nil || !bytes.Equal(want, der) {
			v.fail("ca", CAName, "is not the trusted root CA you gave (its SHA-256 fingerprint is %s)", fingerprint(der))
			return
		}
		trust = "it is the trusted root CA you gave"
	}
	v.trust.ca = x509.NewCertPool()
	v.trust.ca.AddCert(ca)
	v.pass("ca", CAName, "root CA %q, SHA-256 fingerprint %s, valid %s to %s; %s",
		ca.Subject.String(), fingerprint(der), ca.NotBefore.UTC().Format(time.DateOnly), ca.NotAfter.UTC().Format(time.DateOnly), trust)
}

func (v *verifier) checkLogKey() {
	b, ok := v.file("log key", LogKeyName)
	if !ok {
		return
	}
	pub, err := parseLogKey(b)
	if err != nil {
		v.fail("log key", LogKeyName, "is not an Ed25519 public key in PEM: %v", err)
		return
	}
	if der, _ := x509.MarshalPKIXPublicKey(pub); !bytes.Equal(b, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})) {
		v.fail("log key", LogKeyName, notCanonical)
		return
	}
	trust := "compare this key ID with the tree-head key the platform publishes"
	if len(v.opts.TrustedLogKey) > 0 {
		want, err := parseLogKey(v.opts.TrustedLogKey)
		if err != nil || !want.Equal(pub) {
			v.fail("log key", LogKeyName, "is not the trusted tree-head key you gave (its key ID is %s)", audit.KeyID(pub))
			return
		}
		trust = "it is the trusted key you gave"
	}
	v.pub = pub
	v.pass("log key", LogKeyName, "Ed25519 key ID %s; %s", audit.KeyID(pub), trust)
}

func parseLogKey(b []byte) (ed25519.PublicKey, error) {
	der, err := onePEM(b, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T key", k)
	}
	return pub, nil
}

func (v *verifier) checkEvents() {
	b, ok := v.file("events", EventsName)
	if !ok {
		return
	}
	var raw []eventJSON
	if err := decodeStrict(b, &raw); err != nil {
		v.fail("events", EventsName, "is not a list of events: %v", err)
		return
	}
	if len(raw) == 0 {
		v.fail("events", EventsName, "holds no event")
		return
	}
	stream := raw[0].Stream
	if v.contractID != "" {
		stream = contract.StreamOf(v.contractID)
	} else if id, ok := strings.CutPrefix(stream, contract.Category+"-"); ok && safeSegment(id) {
		v.contractID = id
	}
	envs := make([]event.Envelope, len(raw))
	var lastPos uint64
	ok = true
	for i, e := range raw {
		envs[i] = event.Envelope{ID: e.ID, Stream: e.Stream, Version: e.Version, Position: e.Position, Type: e.Type, Schema: e.Schema,
			Data: []byte(e.Data), Meta: e.Metadata, PrevHash: e.PrevHash, Hash: e.Hash}
		switch {
		case e.Stream != stream:
			v.fail("events", EventsName, "event %d (%s) is of stream %q, but manifest.json names the contract of stream %q", i+1, e.ID, e.Stream, stream)
			ok = false
		case e.Position <= lastPos:
			v.fail("events", EventsName, "event %d (%s) has global position %d, not after %d", i+1, e.ID, e.Position, lastPos)
			ok = false
		}
		lastPos = e.Position
	}
	if err := event.VerifyChain(envs); err != nil {
		v.fail("events", EventsName, "%v", err)
		ok = false
	}
	if canon, err := writeEvents(envs); err != nil || !bytes.Equal(canon, b) {
		v.fail("events", EventsName, notCanonical)
		ok = false
	}
	v.events = envs
	if ok {
		v.chainOK = true
		v.pass("events", EventsName, "%d events of %s, versions 1 to %d with no gap; every event's hash recomputes from its content and links to the event before it (last hash %s)",
			len(envs), stream, len(envs), envs[len(envs)-1].Hash)
	}
}

func (v *verifier) checkTreeHead() {
	b, ok := v.file("tree head", TreeHeadName)
	if !ok {
		return
	}
	var h audit.TreeHeadSigned
	if err := decodeStrict(b, &h); err != nil {
		v.fail("tree head", TreeHeadName, "is not a signed tree head: %v", err)
		return
	}
	if _, err := h.Root(); err != nil {
		v.fail("tree head", TreeHeadName, "%v", err)
		return
	}
	v.head = &h
	if !bytes.Equal(b, indentJSON(h)) {
		v.fail("tree head", TreeHeadName, notCanonical)
		return
	}
	if v.pub == nil {
		v.fail("tree head", TreeHeadName, "its signature cannot be checked: log-key.pem did not load")
		return
	}
	if err := h.Verify(v.pub); err != nil {
		v.fail("tree head", TreeHeadName, "%v", err)
		return
	}
	v.pass("tree head", TreeHeadName, "the tree of the log's first %d events has root %s, signed %s by key %s: the Ed25519 signature is valid",
		h.Size, h.RootHash, h.SignedAt.UTC().Format(time.RFC3339), h.KeyID)
}

func (v *verifier) checkProofs() {
	b, ok := v.file("proofs", ProofsName)
	if !ok {
		return
	}
	var proofs []proofJSON
	if err := decodeStrict(b, &proofs); err != nil {
		v.fail("proofs", ProofsName, "is not a list of inclusion proofs: %v", err)
		return
	}
	canonical := bytes.Equal(b, indentJSON(proofs))
	if !canonical {
		v.fail("proofs", ProofsName, notCanonical)
	}
	if v.head == nil || len(v.events) == 0 {
		v.fail("proofs", ProofsName, "cannot be checked without a readable tree-head.json and events.json")
		return
	}
	root, _ := v.head.Root()
	byID := map[string]proofJSON{}
	ok = canonical
	for _, p := range proofs {
		if _, dup := byID[p.EventID]; dup {
			v.fail("proofs", ProofsName, "has two proofs for event %s", p.EventID)
			ok = false
		}
		byID[p.EventID] = p
	}
	var firstIndex, lastIndex uint64
	for i, e := range v.events {
		p, found := byID[e.ID]
		if !found {
			v.fail("proofs", ProofsName, "has no proof for event %s (version %d)", e.ID, e.Version)
			ok = false
			continue
		}
		delete(byID, e.ID)
		lh := leafHash(e)
		if p.LeafHash != hex.EncodeToString(lh[:]) {
			v.fail("proofs", ProofsName, "the proof of event %s (version %d) gives leaf hash %s; the event's leaf hash is %x", e.ID, e.Version, p.LeafHash, lh)
			ok = false
			continue
		}
		if i > 0 && p.LeafIndex <= lastIndex {
			v.fail("proofs", ProofsName, "event %s (version %d) is leaf %d, not after leaf %d of the version before it", e.ID, e.Version, p.LeafIndex, lastIndex)
			ok = false
		}
		if i == 0 {
			firstIndex = p.LeafIndex
		}
		lastIndex = p.LeafIndex
		if len(p.AuditPath) > 64 {
			v.fail("proofs", ProofsName, "the audit path of event %s has %d hashes: no tree has so many levels", e.ID, len(p.AuditPath))
			ok = false
			continue
		}
		path := make([][32]byte, len(p.AuditPath))
		valid := true
		for k, s := range p.AuditPath {
			h, err := hex.DecodeString(s)
			if err != nil || len(h) != 32 {
				valid = false
				break
			}
			path[k] = [32]byte(h)
		}
		if !valid {
			v.fail("proofs", ProofsName, "the audit path of event %s holds a hash that is not 64 hex digits", e.ID)
			ok = false
			continue
		}
		if err := merkle.VerifyInclusion(lh, p.LeafIndex, v.head.Size, path, root); err != nil {
			v.fail("proofs", ProofsName, "event %s (version %d) is not leaf %d of the signed tree of size %d: %v", e.ID, e.Version, p.LeafIndex, v.head.Size, err)
			ok = false
		}
	}
	for id := range byID {
		v.fail("proofs", ProofsName, "has a proof for event %s, which is not in events.json", id)
		ok = false
	}
	if ok {
		v.pass("proofs", ProofsName, "each of the %d events is a leaf (indices %d to %d) of the signed tree of the log's first %d events",
			len(v.events), firstIndex, lastIndex, v.head.Size)
	}
}

// leafHash is the Merkle leaf hash of an event in the platform's log.
func leafHash(e event.Envelope) [32]byte { return auditlog.LeafHash(e) }
