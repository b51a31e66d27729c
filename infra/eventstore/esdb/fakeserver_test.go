package esdb

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeServer is an in-process stand-in for EventStoreDB's gRPC Streams
// service (Append and Read: stream reads, $all reads, $all subscriptions), so
// that the adapter runs through the real client without a server. It models
// what the server does as read in KurrentDB's source:
//   - appends: IndexWriter.CheckCommit — an exact expected revision equal to
//     the current one is written without looking at IDs; an expected revision
//     behind the current one is an idempotent success when the events after it
//     have the same IDs, else a wrong expected version; Any/StreamExists look
//     IDs up by ID;
//   - every event has its own commit position (= prepare position), strictly
//     increasing; stream reads carry it too (EventStoreDB >= 22.6);
//   - forward reads of $all from a position include the event at it,
//     backward reads exclude it, subscriptions from a position start after it;
//   - a stream's $tb (truncate before, from its $$ metadata stream) hides
//     earlier revisions from reads;
//   - a backward stream read from beyond the last revision returns nothing
//     (IndexReader.ReadStreamEventsBackward's first batch);
//   - an unknown stream reads as StreamNotFound, a tombstoned one fails with
//     the "stream-deleted" trailer.
//
// It is a model, not EventStoreDB: what it cannot show is listed in the
// package's report.
type fakeServer struct {
	api.UnimplementedStreamsServer

	mu        sync.Mutex
	all       []*fakeEvent
	streams   map[string][]*fakeEvent
	byID      map[uuid.UUID]*fakeEvent
	next      uint64
	wake      chan struct{} // closed and replaced on every write
	tombstone map[string]bool

	dropAfter       atomic.Int32 // a subscription fails with Unavailable after this many events (0: never)
	noStreamPosInfo atomic.Bool  // stream reads without positions, as servers before 22.6

	addr string
	srv  *grpc.Server
}

type fakeEvent struct {
	id          uuid.UUID
	stream      string
	rev         uint64
	typ         string
	contentType string
	data, meta  []byte
	pos         uint64
	created     time.Time
}

func startFake(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{
		streams:   map[string][]*fakeEvent{},
		byID:      map[uuid.UUID]*fakeEvent{},
		next:      1000,
		wake:      make(chan struct{}),
		tombstone: map[string]bool{},
	}
	// A few events the adapter must never show: system ones, and a foreign one.
	f.write("$stats-127.0.0.1:2113", "$statsCollected", []byte(`{}`), nil)
	f.write("$$$stats-127.0.0.1:2113", "$metadata", []byte(`{"$maxAge":86400}`), nil)
	f.write("legacy-1", "SomethingElse", []byte(`{"x":1}`), []byte(`{"by":"another tool"}`))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = lis.Addr().String()
	f.serve(lis)
	t.Cleanup(f.stop)
	return f
}

func (f *fakeServer) url() string { return "esdb://" + f.addr + "?tls=false" }

func (f *fakeServer) serve(lis net.Listener) {
	srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	api.RegisterStreamsServer(srv, f)
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(lis)
}

func (f *fakeServer) stop() {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	srv.Stop()
}

// restart serves again on the same address, with the same data.
func (f *fakeServer) restart(t *testing.T) {
	t.Helper()
	var lis net.Listener
	var err error
	for range 50 {
		if lis, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relisten on %s: %v", f.addr, err)
	}
	f.serve(lis)
}

// write stores one event directly (test setup); callers hold no lock.
func (f *fakeServer) write(stream, typ string, data, meta []byte) *fakeEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writeLocked(stream, uuid.New(), typ, "application/json", data, meta)
}

func (f *fakeServer) writeLocked(stream string, id uuid.UUID, typ, contentType string, data, meta []byte) *fakeEvent {
	ev := &fakeEvent{
		id: id, stream: stream, rev: uint64(len(f.streams[stream])), typ: typ, contentType: contentType,
		data: data, meta: meta, pos: f.next, created: time.Now(),
	}
	f.next += 64 + uint64(len(stream)+len(typ)+len(data)+len(meta))
	f.all = append(f.all, ev)
	f.streams[stream] = append(f.streams[stream], ev)
	f.byID[id] = ev
	close(f.wake)
	f.wake = make(chan struct{})
	return ev
}

const (
	fakeAny          = -2
	fakeNoStream     = -1
	fakeStreamExists = -4
)

// Append follows IndexWriter.CheckCommit.
func (f *fakeServer) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "options first")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	var expected int64
	switch v := opts.ExpectedStreamRevision.(type) {
	case *api.AppendReq_Options_Any:
		expected = fakeAny
	case *api.AppendReq_Options_NoStream:
		expected = fakeNoStream
	case *api.AppendReq_Options_StreamExists:
		expected = fakeStreamExists
	case *api.AppendReq_Options_Revision:
		expected = int64(v.Revision)
	default:
		return status.Error(codes.InvalidArgument, "expected revision")
	}
	var msgs []*api.AppendReq_ProposedMessage
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		m := req.GetProposedMessage()
		if m == nil || m.Metadata["type"] == "" || m.Metadata["content-type"] == "" {
			return status.Error(codes.InvalidArgument, "proposed message without type or content type")
		}
		msgs = append(msgs, m)
	}
	ids := make([]uuid.UUID, len(msgs))
	for i, m := range msgs {
		s := m.GetId().GetStructured()
		if s == nil {
			return status.Error(codes.InvalidArgument, "structured UUID expected")
		}
		ids[i], _ = esdb.ParseUUIDFromInt64(s.MostSignificantBits, s.LeastSignificantBits)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tombstone[stream] {
		srv.SetTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", stream))
		return status.Error(codes.FailedPrecondition, "stream deleted")
	}
	evs := f.streams[stream]
	cur := int64(len(evs)) - 1
	wrong := func() error {
		w := &api.AppendResp_WrongExpectedVersion{}
		if cur < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		}
		switch expected {
		case fakeAny:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		case fakeNoStream:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case fakeStreamExists:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}})
	}
	success := func(last *fakeEvent) error {
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.rev},
			PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
				CommitPosition: last.pos, PreparePosition: last.pos,
			}},
		}}})
	}

	if expected == fakeStreamExists && cur < 0 {
		return wrong()
	}
	switch {
	case len(ids) == 0:
	case expected == fakeAny || expected == fakeStreamExists:
		var last *fakeEvent
		for i, id := range ids {
			ev, ok := f.byID[id]
			if !ok || ev.stream != stream {
				if i == 0 {
					goto write
				}
				return wrong() // corrupted idempotency
			}
			last = ev
		}
		return success(last)
	case expected < cur:
		n := expected
		for _, id := range ids {
			n++
			if n <= cur && evs[n].id == id {
				continue
			}
			return wrong() // first event new: consistency failure; a later one: corrupted idempotency
		}
		return success(evs[n])
	case expected > cur:
		return wrong()
	}
write:
	var last *fakeEvent
	for i, m := range msgs {
		last = f.writeLocked(stream, ids[i], m.Metadata["type"], m.Metadata["content-type"], m.Data, m.CustomMetadata)
	}
	if last == nil {
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}})
	}
	return success(last)
}

func (f *fakeServer) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	switch so := o.StreamOption.(type) {
	case *api.ReadReq_Options_Stream:
		if o.GetSubscription() != nil {
			return status.Error(codes.Unimplemented, "fake: no stream subscriptions")
		}
		return f.readStream(o, so.Stream, srv)
	case *api.ReadReq_Options_All:
		if o.GetSubscription() != nil {
			return f.subscribeAll(o, so.All, srv)
		}
		return f.readAll(o, so.All, srv)
	}
	return status.Error(codes.InvalidArgument, "stream option")
}

func (f *fakeServer) truncateBeforeLocked(stream string) uint64 {
	meta := f.streams["$$"+stream]
	if len(meta) == 0 {
		return 0
	}
	var m map[string]any
	if json.Unmarshal(meta[len(meta)-1].data, &m) != nil {
		return 0
	}
	if tb, ok := m["$tb"].(float64); ok {
		return uint64(tb)
	}
	return 0
}

func (f *fakeServer) readStream(o *api.ReadReq_Options, so *api.ReadReq_Options_StreamOptions, srv api.Streams_ReadServer) error {
	name := string(so.GetStreamIdentifier().GetStreamName())
	count := o.GetCount()
	f.mu.Lock()
	if f.tombstone[name] {
		f.mu.Unlock()
		srv.SetTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", name))
		return status.Error(codes.FailedPrecondition, "stream deleted")
	}
	evs := f.streams[name]
	if len(evs) == 0 {
		f.mu.Unlock()
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	tb := f.truncateBeforeLocked(name)
	last := uint64(len(evs) - 1)
	var out []*fakeEvent
	if o.ReadDirection == api.ReadReq_Options_Forwards {
		from := uint64(0)
		switch r := so.RevisionOption.(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = r.Revision
		case *api.ReadReq_Options_StreamOptions_End:
			from = last + 1
		}
		for r := max(from, tb); r <= last && uint64(len(out)) < count; r++ {
			out = append(out, evs[r])
		}
	} else {
		from := last
		switch r := so.RevisionOption.(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = r.Revision
		case *api.ReadReq_Options_StreamOptions_Start:
			from = 0
		}
		if from <= last {
			for r := from; r >= tb && uint64(len(out)) < count; r-- {
				out = append(out, evs[r])
				if r == 0 {
					break
				}
			}
		}
	}
	noPos := f.noStreamPosInfo.Load()
	f.mu.Unlock()
	for _, ev := range out {
		rec := ev.proto()
		if noPos {
			rec.CommitPosition, rec.PreparePosition = ^uint64(0), ^uint64(0)
		}
		if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
			Event:    rec,
			Position: &api.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}},
		}}}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeServer) readAll(o *api.ReadReq_Options, ao *api.ReadReq_Options_AllOptions, srv api.Streams_ReadServer) error {
	count := o.GetCount()
	f.mu.Lock()
	all := f.all
	var out []*fakeEvent
	if o.ReadDirection == api.ReadReq_Options_Forwards {
		i := 0
		switch p := ao.AllOption.(type) {
		case *api.ReadReq_Options_AllOptions_End:
			i = len(all)
		case *api.ReadReq_Options_AllOptions_Position:
			for i < len(all) && all[i].pos < p.Position.CommitPosition {
				i++
			}
		}
		for ; i < len(all) && uint64(len(out)) < count; i++ {
			out = append(out, all[i])
		}
	} else {
		i := len(all) - 1
		switch p := ao.AllOption.(type) {
		case *api.ReadReq_Options_AllOptions_Start:
			i = -1
		case *api.ReadReq_Options_AllOptions_Position:
			for i >= 0 && all[i].pos >= p.Position.CommitPosition {
				i--
			}
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, all[i])
		}
	}
	f.mu.Unlock()
	for _, ev := range out {
		if err := srv.Send(ev.allResp()); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeServer) subscribeAll(o *api.ReadReq_Options, ao *api.ReadReq_Options_AllOptions, srv api.Streams_ReadServer) error {
	match := func(*fakeEvent) bool { return true }
	if fo := o.GetFilter(); fo != nil {
		expr, onType := fo.GetEventType(), true
		if expr == nil {
			expr, onType = fo.GetStreamIdentifier(), false
		}
		field := func(ev *fakeEvent) string {
			if onType {
				return ev.typ
			}
			return ev.stream
		}
		if expr.GetRegex() != "" {
			re, err := regexp.Compile(expr.GetRegex())
			if err != nil {
				return status.Error(codes.InvalidArgument, err.Error())
			}
			match = func(ev *fakeEvent) bool { return re.MatchString(field(ev)) }
		} else {
			prefixes := expr.GetPrefix()
			match = func(ev *fakeEvent) bool {
				for _, p := range prefixes {
					if strings.HasPrefix(field(ev), p) {
						return true
					}
				}
				return false
			}
		}
	}
	f.mu.Lock()
	i := 0
	switch p := ao.AllOption.(type) {
	case *api.ReadReq_Options_AllOptions_End:
		i = len(f.all)
	case *api.ReadReq_Options_AllOptions_Position:
		for i < len(f.all) && f.all[i].pos <= p.Position.CommitPosition {
			i++
		}
	}
	f.mu.Unlock()
	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: "fake-" + uuid.NewString()}}}); err != nil {
		return err
	}
	sent, caughtUp := 0, false
	for {
		f.mu.Lock()
		batch := f.all[i:len(f.all):len(f.all)]
		i = len(f.all)
		wake := f.wake
		f.mu.Unlock()
		for _, ev := range batch {
			if !match(ev) {
				continue
			}
			if err := srv.Send(ev.allResp()); err != nil {
				return err
			}
			sent++
			if n := f.dropAfter.Load(); n > 0 && sent >= int(n) {
				return status.Error(codes.Unavailable, "fake: subscription dropped")
			}
		}
		if len(batch) > 0 {
			last := batch[len(batch)-1].pos
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: last, PreparePosition: last}}}); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-wake:
		case <-srv.Context().Done():
			return srv.Context().Err()
		}
	}
}

func (ev *fakeEvent) proto() *api.ReadResp_ReadEvent_RecordedEvent {
	most, least := esdb.UUIDAsInt64(ev.id)
	return &api.ReadResp_ReadEvent_RecordedEvent{
		Id:               &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(ev.stream)},
		StreamRevision:   ev.rev,
		PreparePosition:  ev.pos,
		CommitPosition:   ev.pos,
		Metadata: map[string]string{
			"type":         ev.typ,
			"content-type": ev.contentType,
			"created":      strconv.FormatInt(ev.created.UnixNano()/100, 10), // .NET ticks since the Unix epoch
		},
		CustomMetadata: ev.meta,
		Data:           ev.data,
	}
}

func (ev *fakeEvent) allResp() *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event:    ev.proto(),
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: ev.pos},
	}}}
}
