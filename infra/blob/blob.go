// Package blob is a content-addressed store of files on the local
// filesystem. Uploaded photos and documents live here; events carry only a
// Ref (hash, size, media type), never the bytes.
//
// Layout: DIR/sha256/ab/cdef… holds the bytes of the blob whose SHA-256 is
// abcdef…, and DIR/sha256/ab/cdef….type its media type. Both are written to a
// temporary file, synced and renamed into place, so a reader never sees half a
// blob; the media type is in place before the bytes.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var (
	// ErrNotFound: no blob has this hash. It also matches event.ErrNotFound,
	// which the HTTP layer answers with 404.
	ErrNotFound = fmt.Errorf("blob: %w", event.ErrNotFound)
	// ErrCorrupt: the stored bytes no longer hash to their name.
	ErrCorrupt = errors.New("blob: stored content does not match its hash")
)

// Ref names a stored blob.
type Ref struct {
	SHA256    string // 64 lowercase hex digits
	Size      int64
	MediaType string
}

// Store is a blob directory. It is safe for concurrent use, also by several
// processes sharing the directory.
type Store struct {
	root string // DIR/sha256
	tmp  string // DIR/tmp, on the same filesystem so that rename is atomic
}

// staleTemp is how old a temporary file must be before Open removes it as
// left over by a crash.
const staleTemp = time.Hour

// Open creates dir if needed and returns the store in it.
func Open(dir string) (*Store, error) {
	s := &Store{root: filepath.Join(dir, "sha256"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{s.root, s.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: open %s: %w", dir, err)
		}
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(s.tmp, e.Name()))
		}
	}
	return s, nil
}

// Put stores data and returns its Ref. Storing content that is already there
// rewrites nothing (the stored media type is kept), unless the stored copy is
// corrupt, which Put repairs.
func (s *Store) Put(ctx context.Context, data []byte, mediaType string) (Ref, error) {
	if err := ctx.Err(); err != nil {
		return Ref{}, err
	}
	mt, params, err := mime.ParseMediaType(mediaType)
	if err != nil || strings.ContainsAny(mediaType, "\r\n") {
		return Ref{}, fmt.Errorf("blob: invalid media type %q", mediaType)
	}
	mediaType = mime.FormatMediaType(mt, params)
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])

	if _, ref, err := s.Get(ctx, hash); err == nil {
		return ref, nil
	} else if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt) {
		return Ref{}, err
	}

	path := s.path(hash)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Ref{}, fmt.Errorf("blob: put %s: %w", hash, err)
	}
	// A concurrent Put of the same content may win either rename; both
	// write the same bytes, so either outcome is right.
	if stored, err := readType(path); err == nil {
		mediaType = stored
	} else if err := s.write(path+typeSuffix, []byte(mediaType)); err != nil {
		return Ref{}, fmt.Errorf("blob: put %s: %w", hash, err)
	}
	if err := s.write(path, data); err != nil {
		return Ref{}, fmt.Errorf("blob: put %s: %w", hash, err)
	}
	return Ref{SHA256: hash, Size: int64(len(data)), MediaType: mediaType}, nil
}

// Get reads a blob and checks it still hashes to its name: a mismatch is
// ErrCorrupt, an unknown hash ErrNotFound, a malformed one a *fault.Error.
func (s *Store) Get(ctx context.Context, hash string) ([]byte, Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, Ref{}, err
	}
	if err := checkHash(hash); err != nil {
		return nil, Ref{}, err
	}
	path := s.path(hash)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Ref{}, fmt.Errorf("%w: %s", ErrNotFound, hash)
	}
	if err != nil {
		return nil, Ref{}, fmt.Errorf("blob: get %s: %w", hash, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hash {
		return nil, Ref{}, fmt.Errorf("%w: %s", ErrCorrupt, hash)
	}
	mediaType, err := readType(path)
	if err != nil {
		return nil, Ref{}, fmt.Errorf("%w: %s: media type: %v", ErrCorrupt, hash, err)
	}
	return data, Ref{SHA256: hash, Size: int64(len(data)), MediaType: mediaType}, nil
}

// Has tells whether a blob with this hash is stored, without reading it.
func (s *Store) Has(ctx context.Context, hash string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := checkHash(hash); err != nil {
		return false, err
	}
	_, err := os.Stat(s.path(hash))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("blob: has %s: %w", hash, err)
}

const typeSuffix = ".type"

func (s *Store) path(hash string) string {
	return filepath.Join(s.root, hash[:2], hash[2:])
}

func readType(path string) (string, error) {
	b, err := os.ReadFile(path + typeSuffix)
	if err != nil {
		return "", err
	}
	mt := string(b)
	if _, _, err := mime.ParseMediaType(mt); err != nil {
		return "", err
	}
	return mt, nil
}

// write puts data at path atomically and durably: temp file, fsync, rename,
// fsync of the directory.
func (s *Store) write(path string, data []byte) (err error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// checkHash admits exactly 64 lowercase hex digits, so that a hash from a
// request can never name another path.
func checkHash(hash string) error {
	if len(hash) != 64 {
		return badHash()
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return badHash()
		}
	}
	return nil
}

func badHash() error {
	return fault.New(fault.Invalid, "invalid_hash", "A file hash is 64 lowercase hexadecimal digits; check the reference and try again.")
}
