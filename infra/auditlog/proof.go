package auditlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"signet/domain/audit"
	"signet/domain/event"
	"signet/infra/merkle"
)

// InclusionProof shows that Event is leaf LeafIndex of the tree of
// TreeSize events whose root Head signed; Hashes is the audit path.
type InclusionProof struct {
	LeafIndex uint64
	TreeSize  uint64
	Hashes    [][32]byte
	Head      audit.TreeHeadSigned
	Event     event.Envelope
}

// Verify checks the proof with the platform's public key: the event's
// content against its chain hash, its leaf on the path to the head's root,
// and the head's signature.
func (p InclusionProof) Verify(pub ed25519.PublicKey) error {
	_, err := p.Document(pub).Check(pub)
	return err
}

// ProofFormat names the JSON form of an inclusion proof.
const ProofFormat = "signet-inclusion-proof-v1"

// ProofEvent is the event in a proof document: everything its chain hash
// covers, so that its content can be checked too.
type ProofEvent struct {
	ID       string         `json:"id"`
	Stream   string         `json:"stream"`
	Version  uint64         `json:"version"`
	Position uint64         `json:"position"`
	Type     string         `json:"type"`
	Schema   int            `json:"schema"`
	Data     []byte         `json:"data"` // base64 of the stored JSON, byte for byte
	Metadata event.Metadata `json:"metadata"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash"`
}

// Envelope is the stored event again.
func (e ProofEvent) Envelope() event.Envelope {
	return event.Envelope{ID: e.ID, Stream: e.Stream, Version: e.Version, Position: e.Position, Type: e.Type, Schema: e.Schema,
		Data: e.Data, Meta: e.Metadata, PrevHash: e.PrevHash, Hash: e.Hash}
}

// ProofDocument is the JSON form of an inclusion proof that `signet audit
// prove` prints and `signet audit verify-proof` checks offline. Hashes are
// lowercase hex; leaf_data, the event's data and public_key (the raw 32
// bytes of the Ed25519 key) are standard base64.
type ProofDocument struct {
	Format    string               `json:"format"`
	Event     ProofEvent           `json:"event"`
	LeafData  []byte               `json:"leaf_data"`
	LeafHash  string               `json:"leaf_hash"`
	LeafIndex uint64               `json:"leaf_index"`
	TreeSize  uint64               `json:"tree_size"`
	AuditPath []string             `json:"audit_path"`
	TreeHead  audit.TreeHeadSigned `json:"tree_head"`
	PublicKey string               `json:"public_key"`
}

// Document is p's JSON form, with the public key that signed the head.
func (p InclusionProof) Document(pub ed25519.PublicKey) ProofDocument {
	e := p.Event
	leaf := LeafData(e)
	lh := merkle.LeafHash(leaf)
	path := make([]string, len(p.Hashes))
	for i, h := range p.Hashes {
		path[i] = hex.EncodeToString(h[:])
	}
	return ProofDocument{
		Format: ProofFormat,
		Event: ProofEvent{ID: e.ID, Stream: e.Stream, Version: e.Version, Position: e.Position, Type: e.Type, Schema: e.Schema,
			Data: e.Data, Metadata: e.Meta, PrevHash: e.PrevHash, Hash: e.Hash},
		LeafData: leaf, LeafHash: hex.EncodeToString(lh[:]), LeafIndex: p.LeafIndex, TreeSize: p.TreeSize,
		AuditPath: path, TreeHead: p.Head, PublicKey: base64.StdEncoding.EncodeToString(pub),
	}
}

// MaxProofBytes bounds a proof document read by ParseProof.
const MaxProofBytes = 16 << 20

// ParseProof reads a proof document: JSON, no unknown fields, nothing after it.
func ParseProof(r io.Reader) (ProofDocument, error) {
	var d ProofDocument
	b, err := io.ReadAll(io.LimitReader(r, MaxProofBytes+1))
	if err != nil {
		return d, fmt.Errorf("read proof: %w", err)
	}
	if len(b) > MaxProofBytes {
		return d, fmt.Errorf("proof is larger than %d bytes", MaxProofBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("proof is not a %s document: %w", ProofFormat, err)
	}
	if dec.More() {
		return d, errors.New("proof has data after the document")
	}
	return d, nil
}

// ErrProofFails: a proof document does not prove what it says.
var ErrProofFails = errors.New("the proof does not hold")

// Check verifies the document offline and lists, in sentences, what holds.
// With trusted set, the head must be signed by that key; without, by the
// key in the document, which the reader must then compare with the
// platform's published key (the last sentence says so).
func (d ProofDocument) Check(trusted ed25519.PublicKey) ([]string, error) {
	var held []string
	fail := func(format string, args ...any) ([]string, error) {
		return held, fmt.Errorf("%w: "+format, append([]any{ErrProofFails}, args...)...)
	}
	if d.Format != ProofFormat {
		return fail("format %q, want %q", d.Format, ProofFormat)
	}
	e := d.Event.Envelope()
	if event.ChainHash(e.PrevHash, e) != e.Hash {
		return fail("event %s (%s version %d) does not match its hash %s", e.ID, e.Stream, e.Version, e.Hash)
	}
	held = append(held, fmt.Sprintf("event %s (%s, %s version %d) matches its chain hash %s", e.ID, e.Type, e.Stream, e.Version, e.Hash))
	if !bytes.Equal(d.LeafData, LeafData(e)) {
		return fail("leaf_data is not the leaf of event %s", e.ID)
	}
	lh := merkle.LeafHash(d.LeafData)
	if d.LeafHash != hex.EncodeToString(lh[:]) {
		return fail("leaf_hash %s is not SHA-256(0x00 || leaf_data) = %x", d.LeafHash, lh)
	}
	held = append(held, fmt.Sprintf("its leaf hash is %x", lh))
	if d.TreeSize != d.TreeHead.Size {
		return fail("tree_size %d differs from the tree head's size %d", d.TreeSize, d.TreeHead.Size)
	}
	root, err := d.TreeHead.Root()
	if err != nil {
		return fail("%v", err)
	}
	if len(d.AuditPath) > 64 {
		return fail("audit path of %d hashes: no tree has so many levels", len(d.AuditPath))
	}
	path := make([][32]byte, len(d.AuditPath))
	for i, s := range d.AuditPath {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return fail("audit_path[%d] is not 64 hex digits", i)
		}
		path[i] = [32]byte(b)
	}
	if err := merkle.VerifyInclusion(lh, d.LeafIndex, d.TreeSize, path, root); err != nil {
		return fail("%v", err)
	}
	held = append(held, fmt.Sprintf("it is leaf %d of the tree of the log's first %d events, whose root is %s", d.LeafIndex, d.TreeSize, d.TreeHead.RootHash))
	raw, err := base64.StdEncoding.DecodeString(d.PublicKey)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return fail("public_key is not %d bytes of base64", ed25519.PublicKeySize)
	}
	pub := ed25519.PublicKey(raw)
	if trusted != nil && !bytes.Equal(pub, trusted) {
		return fail("the head is presented with key %s, not with the trusted key %s", audit.KeyID(pub), audit.KeyID(trusted))
	}
	if err := d.TreeHead.Verify(pub); err != nil {
		return fail("%v", err)
	}
	held = append(held, fmt.Sprintf("the tree head (size %d, signed %s) carries a valid Ed25519 signature by key %s",
		d.TreeHead.Size, d.TreeHead.SignedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), d.TreeHead.KeyID))
	if trusted != nil {
		held = append(held, "key "+audit.KeyID(pub)+" is the key you trust")
	} else {
		held = append(held, "key "+audit.KeyID(pub)+" is the one the proof presents: compare it with the platform's published tree-head key")
	}
	return held, nil
}
