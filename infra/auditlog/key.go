package auditlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"signet/domain/audit"
)

// KeyFile is the name of the tree-head signing key in the data directory.
const KeyFile = "treehead.key"

// FileSigner signs tree heads with an Ed25519 key kept in a file (PEM,
// PKCS#8, mode 0600).
type FileSigner struct {
	key ed25519.PrivateKey
	pub ed25519.PublicKey
	id  string
}

// NewSigner wraps an Ed25519 private key.
func NewSigner(key ed25519.PrivateKey) *FileSigner {
	pub := key.Public().(ed25519.PublicKey)
	return &FileSigner{key: key, pub: pub, id: audit.KeyID(pub)}
}

func (s *FileSigner) KeyID() string                { return s.id }
func (s *FileSigner) PublicKey() ed25519.PublicKey { return s.pub }

// Sign signs msg with Ed25519.
func (s *FileSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// LoadOrCreateLogKey reads the signing key from dataDir, making one the
// first time. A second process racing to make it reads the winner's.
func LoadOrCreateLogKey(dataDir string) (*FileSigner, error) {
	path := filepath.Join(dataDir, KeyFile)
	s, err := LoadLogKey(dataDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	// Written aside and linked into place: the key appears whole or not
	// at all, and an existing key is never replaced.
	tmp, err := os.CreateTemp(dataDir, "."+KeyFile+"-*")
	if err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	return LoadLogKey(dataDir)
}

// LoadLogKey reads the signing key from dataDir; the error wraps
// fs.ErrNotExist when there is none.
func LoadLogKey(dataDir string) (*FileSigner, error) {
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tree head key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("tree head key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tree head key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("tree head key %s: a %T, not an Ed25519 key", path, k)
	}
	return NewSigner(key), nil
}

// MarshalPublicKey is the PEM (SubjectPublicKeyInfo) form of a public key,
// what an auditor pins.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey reads a PEM public key (or one of the private key files,
// whose public half it returns).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM key")
	}
	var k any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM %q, not a key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case ed25519.PublicKey:
		return k, nil
	case ed25519.PrivateKey:
		return k.Public().(ed25519.PublicKey), nil
	}
	return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
}
