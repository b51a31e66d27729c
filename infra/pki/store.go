package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// ErrWrongSecret means the data dir's keys were sealed under another
// secret. Open never answers it by creating a new CA: that would orphan
// every certificate issued so far.
var ErrWrongSecret = errors.New("pki: the key store secret does not open this data dir's keys (wrong SIGNET secret?)")

// Sealed files: magic, 12-byte nonce, AES-256-GCM ciphertext.
const (
	sealMagic   = "SIGNETK1"
	saltMagic   = "SIGNETS1"
	saltLen     = 16
	saltFile    = "keystore.salt"
	checkAAD    = "signet pki keystore check"
	checkPlain  = "signet"
	argonTime   = 2
	argonMemory = 19 << 10 // KiB: OWASP's argon2id minimum
	argonLanes  = 1
)

// vault seals and opens key files with a key derived from the secret.
type vault struct{ aead cipher.AEAD }

// openVault derives the vault key from secret and the dir's salt, creating
// the salt (with a check value) on first start and refusing a secret that
// does not open an existing one.
func openVault(dir string, secret []byte) (*vault, error) {
	if len(secret) == 0 {
		return nil, errors.New("pki: an empty key store secret would leave the keys unprotected")
	}
	path := filepath.Join(dir, saltFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("pki: salt: %w", err)
		}
		v, err := deriveVault(secret, salt)
		if err != nil {
			return nil, err
		}
		file := append([]byte(saltMagic), salt...)
		file = append(file, v.seal([]byte(checkPlain), checkAAD)...)
		if err := writeExclusive(path, file); errors.Is(err, fs.ErrExist) {
			return openVault(dir, secret) // another process created it first
		} else if err != nil {
			return nil, err
		}
		return v, nil
	case err != nil:
		return nil, fmt.Errorf("pki: read %s: %w", path, err)
	}
	if len(data) < len(saltMagic)+saltLen || string(data[:len(saltMagic)]) != saltMagic {
		return nil, fmt.Errorf("pki: %s is not a signet key store file", path)
	}
	salt := data[len(saltMagic) : len(saltMagic)+saltLen]
	v, err := deriveVault(secret, salt)
	if err != nil {
		return nil, err
	}
	if _, err := v.open(data[len(saltMagic)+saltLen:], checkAAD); err != nil {
		return nil, err
	}
	return v, nil
}

func deriveVault(secret, salt []byte) (*vault, error) {
	// argon2id because the secret may be a passphrase; HKDF then names the use.
	master := argon2.IDKey(secret, salt, argonTime, argonMemory, argonLanes, 32)
	key, err := hkdf.Key(sha256.New, master, salt, "signet pki key store v1", 32)
	if err != nil {
		return nil, fmt.Errorf("pki: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pki: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pki: gcm: %w", err)
	}
	return &vault{aead: aead}, nil
}

// seal encrypts plain; aad binds the ciphertext to its file's purpose so
// that one subject's file cannot be swapped in for another's.
func (v *vault) seal(plain []byte, aad string) []byte {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := append([]byte(sealMagic), nonce...)
	return v.aead.Seal(out, nonce, plain, []byte(aad))
}

func (v *vault) open(data []byte, aad string) ([]byte, error) {
	n := v.aead.NonceSize()
	if len(data) < len(sealMagic)+n+v.aead.Overhead() || string(data[:len(sealMagic)]) != sealMagic {
		return nil, errors.New("pki: not a sealed signet key file")
	}
	data = data[len(sealMagic):]
	plain, err := v.aead.Open(nil, data[:n], data[n:], []byte(aad))
	if err != nil {
		return nil, ErrWrongSecret
	}
	return plain, nil
}

// writeExclusive writes data to path only if path does not exist yet,
// never leaving a partial file there: the bytes go to a temporary file
// that is then hard-linked into place (link fails if path exists).
func writeExclusive(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("pki: install %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeReplace atomically replaces path with data.
func writeReplace(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: replace %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("pki: write %s: %w", path, err)
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("pki: write %s: %w", path, err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pki: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pki: sync %s: %w", dir, err)
	}
	return nil
}
