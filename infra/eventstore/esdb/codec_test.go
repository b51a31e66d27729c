package esdb

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"signet/domain/event"
)

func sealed(t *testing.T) event.Envelope {
	t.Helper()
	e := event.Envelope{
		ID:      "0b6a7c3e-59a1-4f4e-9d3c-2f0d1c9e8a71",
		Stream:  "contract-42",
		Version: 7,
		Type:    "ContractSent",
		Schema:  3,
		Data:    []byte(`{"n":1}`),
		Meta: event.Metadata{
			Actor:         "acct-1",
			Enterprise:    "ent-2",
			CorrelationID: "corr-3",
			CausationID:   "cause-4",
			ClientIP:      "2001:db8::7",
			// Nanoseconds and a zone: stored at the microsecond, in UTC.
			OccurredAt: time.Date(2026, 3, 4, 13, 6, 7, 123456789, time.FixedZone("CST", 8*3600)),
		},
	}
	e.Meta = e.Meta.Normalize() // as Append does before sealing
	event.Seal("ab"+fmt.Sprintf("%062d", 0), &e)
	return e
}

func TestMetaRoundTrip(t *testing.T) {
	in := sealed(t)
	b, err := encodeMeta(in)
	if err != nil {
		t.Fatal(err)
	}
	var out event.Envelope
	if !decodeMeta(b, &out) {
		t.Fatalf("decodeMeta(%s) = not signet metadata", b)
	}
	want := in.Meta.Normalize()
	if out.Meta != want {
		t.Errorf("metadata %+v, want %+v", out.Meta, want)
	}
	if !out.Meta.OccurredAt.Equal(time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)) || out.Meta.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred at %s (%v), want 2026-03-04T05:06:07.123456Z in UTC", out.Meta.OccurredAt.Format(time.RFC3339Nano), out.Meta.OccurredAt.Location())
	}
	if out.Version != in.Version || out.Schema != in.Schema || out.PrevHash != in.PrevHash || out.Hash != in.Hash {
		t.Errorf("decoded version %d schema %d prev %q hash %q; want %d %d %q %q", out.Version, out.Schema, out.PrevHash, out.Hash, in.Version, in.Schema, in.PrevHash, in.Hash)
	}
	// The hash still verifies over what was decoded (the metadata survives the
	// round trip exactly as it was hashed).
	out.ID, out.Stream, out.Type, out.Data = in.ID, in.Stream, in.Type, in.Data
	if got := event.ChainHash(out.PrevHash, out); got != in.Hash {
		t.Errorf("hash over the decoded envelope %s, sealed %s", got, in.Hash)
	}

	// encodeMeta itself stores the normalized time, whatever it is given.
	raw := in
	raw.Meta.OccurredAt = time.Date(2026, 3, 4, 13, 6, 7, 123456789, time.FixedZone("CST", 8*3600))
	if b2, err := encodeMeta(raw); err != nil || string(b2) != string(b) {
		t.Errorf("encodeMeta of the raw time = %s, %v; want %s", b2, err, b)
	}

	// Empty metadata fields and the zero time round-trip too.
	bare := event.Envelope{ID: in.ID, Stream: in.Stream, Version: 1, Type: "X", Schema: 1, Data: []byte(`[]`)}
	event.Seal("", &bare)
	b, err = encodeMeta(bare)
	if err != nil {
		t.Fatal(err)
	}
	var got event.Envelope
	if !decodeMeta(b, &got) || got.Meta != bare.Meta || got.PrevHash != "" || got.Hash != bare.Hash {
		t.Fatalf("bare envelope decoded as %+v from %s", got, b)
	}
}

// The stored format is a contract with every event already written.
func TestMetaFormatIsStable(t *testing.T) {
	e := sealed(t)
	b, err := encodeMeta(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"signet":1,"version":7,"schema":3,"actor":"acct-1","enterprise":"ent-2","correlation_id":"corr-3",` +
		`"causation_id":"cause-4","client_ip":"2001:db8::7","occurred_at":"2026-03-04T05:06:07.123456Z",` +
		`"prev_hash":"` + e.PrevHash + `","hash":"` + e.Hash + `"}`
	if string(b) != want {
		t.Fatalf("encodeMeta =\n%s\nwant\n%s", b, want)
	}
}

func TestDecodeMetaRejectsForeignMetadata(t *testing.T) {
	for _, m := range []string{
		``,
		`null`,
		`[]`,
		`{}`,
		`not json`,
		`{"by":"another tool"}`,
		`{"signet":2,"version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,     // unknown format
		`{"signet":1,"version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z"}`,                 // no hash
		`{"signet":1,"version":0,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,     // no version
		`{"signet":1,"version":1,"schema":0,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,     // no schema
		`{"signet":1,"version":1,"schema":1,"occurred_at":"yesterday","hash":"aa"}`,                // bad time
		`{"signet":"1","version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,   // wrong type
		`{"signet":1,"version":-1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,    // negative
		` {"signet":1,"version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"}`,    // not written by us
		`{"signet":1,"version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa"} xyz`, // trailing garbage
	} {
		e := event.Envelope{Version: 9}
		if decodeMeta([]byte(m), &e) {
			t.Errorf("decodeMeta(%q) accepted", m)
		}
		if e.Version != 9 || e.Hash != "" {
			t.Errorf("decodeMeta(%q) changed the envelope: %+v", m, e)
		}
	}
	ok := `{"signet":1,"version":1,"schema":1,"occurred_at":"2026-01-01T00:00:00Z","hash":"aa","future_field":true}`
	if !decodeMeta([]byte(ok), new(event.Envelope)) {
		t.Errorf("decodeMeta rejects unknown extra fields: %s", ok)
	}
}

func recorded(t *testing.T, stream, typ string, rev, pos uint64, meta []byte) *esdb.RecordedEvent {
	t.Helper()
	return &esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    typ,
		ContentType:  "application/json",
		StreamID:     stream,
		EventNumber:  rev,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		Data:         []byte(`{"n":1}`),
		UserMetadata: meta,
	}
}

func TestToRecordAndLogFilter(t *testing.T) {
	e := sealed(t)
	meta, err := encodeMeta(e)
	if err != nil {
		t.Fatal(err)
	}
	ours := recorded(t, "contract-42", "ContractSent", 6, 5000, meta)
	r := toRecord(ours)
	if !r.ours || !inLog(r) {
		t.Fatalf("signet event: ours=%v inLog=%v", r.ours, inLog(r))
	}
	if r.env.ID != ours.EventID.String() || r.env.Stream != "contract-42" || r.env.Version != 7 || r.rev != 6 ||
		r.env.Position != 5000 || r.env.Type != "ContractSent" || r.env.Schema != 3 || string(r.env.Data) != `{"n":1}` ||
		r.env.Hash != e.Hash || r.env.PrevHash != e.PrevHash || r.env.Meta != e.Meta.Normalize() {
		t.Errorf("decoded %+v", r.env)
	}

	// The version is the sealed one, not the revision: a rewritten stream
	// keeps the versions its events were sealed with.
	moved := toRecord(recorded(t, "contract-42", "ContractSent", 106, 9000, meta))
	if moved.env.Version != 7 || moved.rev != 106 {
		t.Errorf("re-appended event: version %d revision %d, want 7 and 106", moved.env.Version, moved.rev)
	}

	// Stream reads on servers before 22.6 carry no position.
	if r := toRecord(recorded(t, "contract-42", "ContractSent", 6, math.MaxUint64, meta)); r.env.Position != 0 {
		t.Errorf("unknown position decoded as %d, want 0", r.env.Position)
	}

	for name, rec := range map[string]*esdb.RecordedEvent{
		"foreign metadata": recorded(t, "legacy-1", "SomethingElse", 0, 10, []byte(`{"by":"x"}`)),
		"no metadata":      recorded(t, "legacy-1", "SomethingElse", 3, 10, nil),
		"ID reservation":   recorded(t, reservePrefix+uuid.NewString(), reserveType, 0, 10, nil),
		"system type":      recorded(t, "contract-42", "$metadata", 0, 10, meta),
		"system stream":    recorded(t, "$stats-127.0.0.1:2113", "StatsCollected", 0, 10, meta),
		"link":             recorded(t, "$ce-contract", "$>", 0, 10, meta),
	} {
		r := toRecord(rec)
		if inLog(r) {
			t.Errorf("%s: in the log", name)
		}
		if !r.ours && (r.env.Version != rec.EventNumber+1 || r.env.Hash != "" || r.env.Schema != 0) {
			t.Errorf("%s: foreign event decoded as version %d schema %d hash %q", name, r.env.Version, r.env.Schema, r.env.Hash)
		}
	}
}

func TestVersionRevisionMapping(t *testing.T) {
	for rev := range uint64(5) {
		if v := versionOf(rev); v != rev+1 || revisionOf(v) != rev {
			t.Errorf("revision %d -> version %d -> revision %d", rev, v, revisionOf(v))
		}
	}
	exp := []struct {
		in   event.ExpectedVersion
		want esdb.ExpectedRevision
	}{
		{event.Any, esdb.Any{}},
		{event.NoStream, esdb.NoStream{}},
		{event.Exactly(0), esdb.NoStream{}},
		{event.Exactly(1), esdb.Revision(0)},
		{event.Exactly(42), esdb.Revision(41)},
	}
	for _, c := range exp {
		if got := expectedRevision(c.in); got != c.want {
			t.Errorf("expectedRevision(%s) = %#v, want %#v", c.in, got, c.want)
		}
	}
	reads := []struct {
		from uint64
		dir  event.Direction
		want esdb.StreamPosition
	}{
		{0, event.Forwards, esdb.Start{}},
		{1, event.Forwards, esdb.Start{}},
		{2, event.Forwards, esdb.Revision(1)},
		{10, event.Forwards, esdb.Revision(9)},
		{0, event.Backwards, esdb.End{}},
		{1, event.Backwards, esdb.Revision(0)},
		{5, event.Backwards, esdb.Revision(4)},
	}
	for _, c := range reads {
		if got := readFrom(c.from, c.dir); got != c.want {
			t.Errorf("readFrom(%d, %d) = %#v, want %#v", c.from, c.dir, got, c.want)
		}
	}
	if got := allFrom(0); got != (esdb.Start{}) {
		t.Errorf("allFrom(0) = %#v", got)
	}
	if got := allFrom(1788); got != (esdb.Position{Commit: 1788, Prepare: 1788}) {
		t.Errorf("allFrom(1788) = %#v", got)
	}
}

func TestEventUUID(t *testing.T) {
	good := uuid.NewString()
	if u, err := eventUUID(good); err != nil || u.String() != good {
		t.Fatalf("eventUUID(%s) = %s, %v", good, u, err)
	}
	for _, id := range []string{"evt-1", "", uuid.Nil.String(), "{" + good + "}", "urn:uuid:" + good, "ABCDEF00-59A1-4F4E-9D3C-2F0D1C9E8A71"} {
		if _, err := eventUUID(id); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("eventUUID(%q) = %v, want event.ErrInvalid", id, err)
		}
	}
}

func TestMapErrStatusErrors(t *testing.T) {
	notFound := status.Error(codes.NotFound, "nope")
	if err := mapErr(notFound); !errors.Is(err, event.ErrNotFound) || status.Code(err) != codes.NotFound {
		t.Errorf("mapErr(NotFound) = %v", err)
	}
	other := status.Error(codes.Internal, "boom")
	if err := mapErr(other); err != other {
		t.Errorf("mapErr(Internal) = %v, want it unchanged", err)
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
	for c, want := range map[codes.Code]bool{
		codes.Unauthenticated: true, codes.PermissionDenied: true, codes.Unimplemented: true,
		codes.Unavailable: false, codes.Canceled: false, codes.Internal: false, codes.DeadlineExceeded: false,
	} {
		if got := permanent(fmt.Errorf("wrapped: %w", status.Error(c, "x"))); got != want {
			t.Errorf("permanent(%s) = %v, want %v", c, got, want)
		}
	}
}

func TestFlipByteKeepsJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"n":1}`:        `{"n":2}`,
		`{"n":9}`:        `{"n":8}`,
		`{"name":"ab"}`:  `{"oame":"ab"}`,
		`["\"z","a"]`:    `["\"z","b"]`,
		`{"a":"z","b":}`: `{"b":"z","b":}`,
	} {
		if got := string(flipByte([]byte(in))); got != want {
			t.Errorf("flipByte(%s) = %s, want %s", in, got, want)
		}
	}
}
