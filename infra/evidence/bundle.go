// Package evidence writes a completed contract's evidence bundle and checks
// one offline. The bundle is a zip holding the signed PDFs, the certificate
// of completion, the contract's events with their hash chain, a Merkle
// inclusion proof of every event under a signed tree head, the key that
// signed the head, the platform's root CA and the RFC 3161 timestamp
// tokens; manifest.json lists the SHA-256 of every other file.
//
// What binds the bundle together is not the manifest (anyone can rewrite
// it) but the chain: the PDFs, the certificate and the tokens are named by
// hash in the contract's ContractSealed event; that event is chained to the
// contract's history; every event is a leaf of the log's Merkle tree whose
// root the platform signed. Verify checks each link and names the file
// where one breaks. A forger who also replaces ca.pem and log-key.pem with
// keys of their own can make a bundle that holds together, so the report
// prints both fingerprints, to be compared with the platform's published
// ones, and VerifyOptions can pin them.
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"signet/domain/audit"
	"signet/domain/event"
)

// Format names this layout of the bundle, in manifest.json.
const Format = "signet-evidence-v1"

// Names of the files in a bundle.
const (
	ManifestName    = "manifest.json"
	ReadmeName      = "README.txt"
	EventsName      = "events.json"
	ProofsName      = "proofs.json"
	TreeHeadName    = "tree-head.json"
	CAName          = "ca.pem"
	LogKeyName      = "log-key.pem"
	CertificateName = "certificate-of-completion.pdf"
	DocumentsDir    = "documents/"
	TimestampsDir   = "timestamps/"
)

// File is one file of the bundle.
type File struct {
	Name string
	Data []byte
}

// Inclusion proves that an event is leaf LeafIndex of the tree Head signed.
type Inclusion struct {
	EventID   string
	LeafIndex uint64
	Hashes    [][32]byte // the audit path, leaf to root (RFC 6962)
}

// Bundle is everything the zip holds.
type Bundle struct {
	ContractID  string
	Events      []event.Envelope // the contract's stream, complete, in version order
	Documents   []File           // the signed PDFs, named DocumentName(id)
	Certificate File             // the certificate of completion (PDF); its Name is ignored
	CACert      []byte           // PEM of the platform's root CA
	LogKey      []byte           // PEM (PKIX) of the Ed25519 key that signed Head
	Head        audit.TreeHeadSigned
	Proofs      []Inclusion // one per event
	Timestamps  []File      // the signatures' RFC 3161 tokens (DER), named TimestampName(n)
}

// DocumentName is where the final PDF of a document goes.
func DocumentName(documentID string) string { return DocumentsDir + documentID + ".pdf" }

// TimestampName is where the n-th timestamp token goes (1-based).
func TimestampName(n int) string { return fmt.Sprintf("%s%d.tsr", TimestampsDir, n) }

// The JSON files. Hashes are lowercase hex.
type (
	manifestJSON struct {
		Format     string         `json:"format"`
		ContractID string         `json:"contract_id"`
		Files      []manifestFile `json:"files"`
	}
	manifestFile struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	// eventJSON is an envelope as stored; its data follows it in the file,
	// byte for byte (see writeEvents).
	eventJSON struct {
		ID       string          `json:"id"`
		Stream   string          `json:"stream"`
		Version  uint64          `json:"version"`
		Position uint64          `json:"position"`
		Type     string          `json:"type"`
		Schema   int             `json:"schema"`
		Metadata event.Metadata  `json:"metadata"`
		PrevHash string          `json:"prev_hash"`
		Hash     string          `json:"hash"`
		Data     json.RawMessage `json:"data"`
	}
	proofJSON struct {
		EventID   string   `json:"event_id"`
		LeafIndex uint64   `json:"leaf_index"`
		LeafHash  string   `json:"leaf_hash"`
		AuditPath []string `json:"audit_path"`
	}
)

// safeSegment: what a document ID or token name may be inside the zip.
func safeSegment(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// inDir reports whether name is dir + a safe segment + ext.
func inDir(name, dir, ext string) bool {
	rest, ok := strings.CutPrefix(name, dir)
	if !ok {
		return false
	}
	base, ok := strings.CutSuffix(rest, ext)
	return ok && safeSegment(base)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Write writes b as a zip. Equal bundles give identical bytes.
func Write(w io.Writer, b Bundle) error {
	if !safeSegment(b.ContractID) {
		return fmt.Errorf("evidence: contract ID %q", b.ContractID)
	}
	if len(b.Events) == 0 || len(b.Certificate.Data) == 0 || len(b.CACert) == 0 || len(b.LogKey) == 0 {
		return errors.New("evidence: a bundle needs events, the certificate of completion, the CA certificate and the log key")
	}
	events, err := writeEvents(b.Events)
	if err != nil {
		return err
	}
	proofs := make([]proofJSON, len(b.Proofs))
	byID := map[string]event.Envelope{}
	for _, e := range b.Events {
		byID[e.ID] = e
	}
	for i, p := range b.Proofs {
		e, ok := byID[p.EventID]
		if !ok {
			return fmt.Errorf("evidence: proof %d is for event %s, which is not in the bundle", i, p.EventID)
		}
		lh := leafHash(e)
		proofs[i] = proofJSON{EventID: p.EventID, LeafIndex: p.LeafIndex, LeafHash: hex.EncodeToString(lh[:]), AuditPath: make([]string, len(p.Hashes))}
		for k, h := range p.Hashes {
			proofs[i].AuditPath[k] = hex.EncodeToString(h[:])
		}
	}
	files := []File{
		{ReadmeName, readme(b.ContractID)},
		{EventsName, events},
		{ProofsName, indentJSON(proofs)},
		{TreeHeadName, indentJSON(b.Head)},
		{CAName, b.CACert},
		{LogKeyName, b.LogKey},
		{CertificateName, b.Certificate.Data},
	}
	for _, d := range b.Documents {
		if !inDir(d.Name, DocumentsDir, ".pdf") {
			return fmt.Errorf("evidence: document name %q is not documents/<id>.pdf", d.Name)
		}
		files = append(files, d)
	}
	for _, t := range b.Timestamps {
		if !inDir(t.Name, TimestampsDir, ".tsr") {
			return fmt.Errorf("evidence: timestamp name %q is not timestamps/<name>.tsr", t.Name)
		}
		files = append(files, t)
	}
	m := manifestJSON{Format: Format, ContractID: b.ContractID}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[strings.ToLower(f.Name)] {
			return fmt.Errorf("evidence: %s twice", f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
		m.Files = append(m.Files, manifestFile{Name: f.Name, Size: int64(len(f.Data)), SHA256: sha256Hex(f.Data)})
	}
	slices.SortFunc(m.Files, func(a, b manifestFile) int { return strings.Compare(a.Name, b.Name) })
	files = append([]File{{ManifestName, indentJSON(m)}}, files...)

	// The zip's times are the head's, so that equal bundles are equal bytes.
	modified := b.Head.SignedAt.UTC().Truncate(time.Second)
	if modified.Year() < 1980 {
		modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return fmt.Errorf("evidence: write %s: %w", f.Name, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("evidence: write %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("evidence: finish the zip: %w", err)
	}
	return nil
}

func indentJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("evidence: %T does not marshal: %v", v, err)) // only fixed types of this package are marshalled
	}
	return append(b, '\n')
}

// writeEvents writes the envelopes as a pretty JSON array in which each
// event's data appears exactly as stored: its chain hash covers those
// bytes, and re-encoding could change them (spacing, escapes).
func writeEvents(evs []event.Envelope) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("[")
	for i, e := range evs {
		if !json.Valid(e.Data) {
			return nil, fmt.Errorf("evidence: event %s: data is not JSON", e.ID)
		}
		head, err := json.MarshalIndent(eventJSON{ID: e.ID, Stream: e.Stream, Version: e.Version, Position: e.Position, Type: e.Type,
			Schema: e.Schema, Metadata: e.Meta, PrevHash: e.PrevHash, Hash: e.Hash, Data: json.RawMessage("null")}, "  ", "  ")
		if err != nil {
			return nil, fmt.Errorf("evidence: event %s: %w", e.ID, err)
		}
		const tail = "\"data\": null\n  }"
		if !bytes.HasSuffix(head, []byte(tail)) {
			return nil, fmt.Errorf("evidence: event %s: unexpected encoding", e.ID)
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		b.Write(head[:len(head)-len(tail)])
		b.WriteString("\"data\": ")
		b.Write(e.Data)
		b.WriteString("\n  }")
	}
	b.WriteString("\n]\n")
	return b.Bytes(), nil
}
