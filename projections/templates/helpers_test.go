package templates_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/domain/template"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/templates"
)

// world is an event store, a Redis and the projector between them.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	db     *redisdb.DB
	runner *projector.Runner
	reader templates.Reader
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	runner, err := projector.New(db, store, []projections.Projection{templates.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, ctx: context.Background(), store: store, db: db, runner: runner, reader: templates.Reader{DB: db}}
}

// add appends events to a template's stream, encoded as the store keeps them.
func (w *world) add(id, actor string, evs ...template.Event) {
	w.t.Helper()
	news := make([]event.New, len(evs))
	for i, ev := range evs {
		n, err := template.NewEvent(uuid.NewString(), ev, event.Metadata{Actor: actor, OccurredAt: at(0)})
		if err != nil {
			w.t.Fatal(err)
		}
		news[i] = n
	}
	if _, err := w.store.Append(w.ctx, "template-"+id, event.Any, news...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) sync() {
	w.t.Helper()
	if err := w.runner.CatchUp(w.ctx, templates.Name, nil); err != nil {
		w.t.Fatal(err)
	}
	st, err := w.runner.Status(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range st {
		if s.Poisoned != 0 {
			recs, _ := w.runner.Poisoned(w.ctx, s.Name, 0)
			w.t.Fatalf("%s poisoned %d events: %+v", s.Name, s.Poisoned, recs)
		}
	}
}

func (w *world) view(id string) templates.TemplateView {
	w.t.Helper()
	w.sync()
	v, err := w.reader.Template(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// envelopes reads the whole log.
func (w *world) envelopes() []event.Envelope {
	w.t.Helper()
	envs, err := w.store.ReadAll(w.ctx, 0, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	return envs
}

// at is a moment of the test, minutes after the start.
func at(min int) time.Time {
	return time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC).Add(time.Duration(min) * time.Minute)
}

// applyRaw applies a projection's ops straight to Redis, without the
// projector's version guard: what a duplicate delivery would do if the
// guard were lost.
func applyRaw(t *testing.T, db *redisdb.DB, p projections.Projection, envs ...event.Envelope) {
	t.Helper()
	ctx := context.Background()
	for _, e := range envs {
		ops, err := p.Handle(ctx, e)
		if err != nil {
			t.Fatalf("%s@%d: %v", e.Stream, e.Version, err)
		}
		for _, op := range ops {
			args := append([]any{op.Cmd, projections.Key(db, p.Name(), op.Key)}, op.Args...)
			if err := db.Do(ctx, args...).Err(); err != nil {
				t.Fatalf("%s@%d: %s %s: %v", e.Stream, e.Version, op.Cmd, op.Key, err)
			}
		}
	}
}

// snapshot dumps every key of a projection's read model.
func snapshot(t *testing.T, db *redisdb.DB, name string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := db.Scan(ctx, 0, db.Prefix+projections.Namespace(name)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ := db.Type(ctx, k).Val()
		var vals []string
		switch typ {
		case "hash":
			for f, x := range db.HGetAll(ctx, k).Val() {
				vals = append(vals, f+"="+x)
			}
		case "set":
			vals = db.SMembers(ctx, k).Val()
		case "zset":
			for _, z := range db.ZRangeWithScores(ctx, k, 0, -1).Val() {
				vals = append(vals, fmt.Sprintf("%v:%v", z.Member, z.Score))
			}
		case "string":
			vals = []string{db.Get(ctx, k).Val()}
		}
		sort.Strings(vals)
		out[strings.TrimPrefix(k, db.Prefix)] = typ + " " + strings.Join(vals, "\n")
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func diff(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s:\n  %q\n  %q", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing vs %q", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}
