package search

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidDoc: a document or record of a Batch is malformed (a bug of the
// writer, not of the caller of a query).
var ErrInvalidDoc = errors.New("invalid search document")

// ErrClosed: the index was closed, or the Rebuild committed or aborted.
var ErrClosed = errors.New("search index closed")

// maxIDBytes is Elasticsearch's limit on a document ID.
const maxIDBytes = 500

// Prepare checks a batch and returns its contracts with one document per
// ID, the greatest version, in first-seen order.
func (b Batch) Prepare() ([]ContractDoc, error) {
	at := make(map[string]int, len(b.Contracts))
	out := make([]ContractDoc, 0, len(b.Contracts))
	for _, d := range b.Contracts {
		if err := checkID(d.ID); err != nil {
			return nil, fmt.Errorf("%w: contract: %v", ErrInvalidDoc, err)
		}
		if d.Version == 0 {
			return nil, fmt.Errorf("%w: contract %s has version 0", ErrInvalidDoc, d.ID)
		}
		if i, ok := at[d.ID]; ok {
			if d.Version > out[i].Version {
				out[i] = d
			}
			continue
		}
		at[d.ID] = len(out)
		out = append(out, d)
	}
	for _, r := range b.Audit {
		if err := checkID(r.ID); err != nil {
			return nil, fmt.Errorf("%w: audit record: %v", ErrInvalidDoc, err)
		}
	}
	if c := b.Checkpoint; c != nil {
		if c.Name == "" || len(c.Name) > 100 || !utf8.ValidString(c.Name) {
			return nil, fmt.Errorf("%w: checkpoint name %q", ErrInvalidDoc, c.Name)
		}
	}
	return out, nil
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty ID")
	case len(id) > maxIDBytes:
		return fmt.Errorf("ID of %d bytes", len(id))
	case !utf8.ValidString(id):
		return errors.New("ID is not UTF-8")
	}
	return nil
}
