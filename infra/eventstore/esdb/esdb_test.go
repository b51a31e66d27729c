package esdb

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"signet/domain/event"
	"signet/infra/eventstore"
	"signet/infra/eventstore/storetest"
)

// TestStore runs the port's acceptance suite against a real EventStoreDB.
func TestStore(t *testing.T) {
	url := os.Getenv("SIGNET_EVENTSTORE_URL")
	if url == "" {
		t.Skip("SIGNET_EVENTSTORE_URL not set: no EventStoreDB server to test against")
	}
	storetest.Run(t, opener(url))
}

func opener(url string) func(t *testing.T) (eventstore.Store, storetest.Tamper) {
	return func(t *testing.T) (eventstore.Store, storetest.Tamper) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s, tamper(s)
	}
}

// tamper rewrites a stream the way someone with write access to the server
// could. EventStoreDB events are immutable and a stream's revisions are never
// reused, so history can only be "changed" by hiding it and writing it again:
// the tamper reads the stream, sets its truncate-before ($tb, in the stream's
// metadata) past the last revision — which hides every stored event from
// reads, as a soft delete does — and appends the same events again at the
// exact next revision (so EventStoreDB's idempotency, which compares IDs only
// when the expected revision is behind, does not drop them): same IDs, types
// and user metadata (hence the original versions and hashes), with one byte
// of the chosen event's data changed. Verification then sees versions 1..n
// with a chain that holds up to that event and breaks at it.
func tamper(s *Store) storetest.Tamper {
	return func(t *testing.T, stream string, version uint64) {
		t.Helper()
		ctx := t.Context()
		c := s.current()
		recs, err := readStream(ctx, c, stream, 1, event.Forwards, 0)
		if err != nil {
			t.Fatalf("tamper: read %s: %v", stream, err)
		}
		target := -1
		for i, r := range recs {
			if r.env.Version == version {
				target = i
			}
		}
		if target < 0 {
			t.Fatalf("tamper: %s has no version %d", stream, version)
		}
		lastRev := recs[len(recs)-1].rev
		var md esdb.StreamMetadata
		md.SetTruncateBefore(lastRev + 1)
		if _, err := c.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{}, md); err != nil {
			t.Fatalf("tamper: truncate %s: %v", stream, err)
		}
		data := make([]esdb.EventData, len(recs))
		for i, r := range recs {
			d := bytes.Clone(r.raw.Data)
			if i == target {
				d = flipByte(d)
			}
			ct := esdb.ContentTypeJson
			if r.raw.ContentType != "application/json" {
				ct = esdb.ContentTypeBinary
			}
			data[i] = esdb.EventData{EventID: r.raw.EventID, EventType: r.raw.EventType, ContentType: ct, Data: d, Metadata: r.raw.UserMetadata}
		}
		if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(lastRev)}, data...); err != nil {
			t.Fatalf("tamper: rewrite %s: %v", stream, err)
		}
		got, err := readStream(ctx, c, stream, 1, event.Forwards, 0)
		if err != nil {
			t.Fatalf("tamper: read back %s: %v", stream, err)
		}
		if len(got) != len(recs) || got[0].rev != lastRev+1 || bytes.Equal(got[target].raw.Data, recs[target].raw.Data) {
			t.Fatalf("tamper: %s reads as %d events from revision %d after the rewrite; want %d from %d with event %d changed",
				stream, len(got), got[0].rev, len(recs), lastRev+1, target)
		}
	}
}

// flipByte changes one byte of JSON data and keeps it JSON where it can: the
// first digit (9 becomes 8, any other d becomes d+1: no new leading zero),
// else the first letter inside a string, else the last byte's low bit.
func flipByte(d []byte) []byte {
	for i, b := range d {
		if b >= '0' && b <= '9' {
			if b == '9' {
				d[i] = '8'
			} else {
				d[i] = b + 1
			}
			return d
		}
	}
	inString := false
	for i := 0; i < len(d); i++ {
		switch b := d[i]; {
		case b == '\\' && inString:
			i++
		case b == '"':
			inString = !inString
		case inString && (b >= 'a' && b < 'z' || b >= 'A' && b < 'Z'):
			d[i] = b + 1
			return d
		}
	}
	if len(d) > 0 {
		d[len(d)-1] ^= 1
	}
	return d
}
