//go:build !unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens dir's LOCK file; without flock a second process opening
// the same index waits on bleve's own lock instead of failing at once.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("search lock: %w", err)
	}
	return f, nil
}
