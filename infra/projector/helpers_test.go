package projector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/redisdb"
	"signet/projections"
)

func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type contractData struct {
	Owner string `json:"owner,omitempty"`
	Title string `json:"title,omitempty"`
}

// appendEvent appends one event of type typ to stream and returns its position.
func appendEvent(t testing.TB, s *sqlite.Store, stream, typ string, d contractData) uint64 {
	t.Helper()
	data, _ := json.Marshal(d)
	res, err := s.Append(context.Background(), stream, event.Any, event.New{
		ID: uuid.NewString(), Type: typ, Schema: 1, Data: data,
		Meta: event.Metadata{Actor: d.Owner, OccurredAt: time.Now()},
	})
	if err != nil {
		t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	return res.LastPosition
}

// contracts is the read model the tests use: a hash per contract, a sorted
// set per owner, counters; "Noise" events are ignored, "Bad" events fail,
// "Boom" events panic, "Evil" events emit a command that is not allowed.
type contracts struct {
	name  string
	calls atomic.Int64 // Handle calls
	bad   atomic.Int64 // Handle calls on Bad events
}

func newContracts(name string) *contracts { return &contracts{name: name} }

func (c *contracts) Name() string { return c.name }

func (c *contracts) Handle(_ context.Context, e event.Envelope) ([]projections.Op, error) {
	c.calls.Add(1)
	id := strings.TrimPrefix(e.Stream, "contract-")
	var d contractData
	switch e.Type {
	case "ContractSent", "ContractSigned", "ContractRetitled", "ContractDeleted":
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
	}
	switch e.Type {
	case "ContractSent":
		return []projections.Op{
			projections.HSet("contract:"+id, "title", d.Title, "owner", d.Owner, "status", "sent", "version", e.Version),
			projections.ZAdd("owner:"+d.Owner+":contracts", float64(e.Position), id),
			projections.HIncrBy("stats", "sent", 1),
			projections.SAdd("owners", d.Owner),
		}, nil
	case "ContractRetitled":
		return []projections.Op{projections.HSet("contract:"+id, "title", d.Title, "version", e.Version)}, nil
	case "ContractSigned":
		return []projections.Op{
			projections.HSet("contract:"+id, "status", "signed", "version", e.Version),
			projections.HIncrBy("stats", "signed", 1),
			projections.IncrBy("signed-total", 1),
		}, nil
	case "ContractDeleted":
		return []projections.Op{
			projections.Del("contract:" + id),
			projections.ZRem("owner:"+d.Owner+":contracts", id),
		}, nil
	case "Bad":
		c.bad.Add(1)
		return nil, errors.New("cannot project a Bad event")
	case "Boom":
		panic("boom")
	case "Evil":
		return []projections.Op{{Cmd: "FLUSHALL"}}, nil
	}
	return nil, nil
}

// snapshot dumps every key of a projection's read model.
func snapshot(t testing.TB, db *redisdb.DB, name string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := db.Scan(ctx, 0, db.Prefix+projections.Namespace(name)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := db.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v string
		switch typ {
		case "hash":
			m := db.HGetAll(ctx, k).Val()
			fs := make([]string, 0, len(m))
			for f, x := range m {
				fs = append(fs, f+"="+x)
			}
			sort.Strings(fs)
			v = strings.Join(fs, ",")
		case "set":
			m := db.SMembers(ctx, k).Val()
			sort.Strings(m)
			v = strings.Join(m, ",")
		case "zset":
			for _, z := range db.ZRangeWithScores(ctx, k, 0, -1).Val() {
				v += fmt.Sprintf("%v:%v,", z.Member, z.Score)
			}
		case "string":
			v = db.Get(ctx, k).Val()
		default:
			v = "?" + typ
		}
		out[strings.TrimPrefix(k, db.Prefix)] = typ + " " + v
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
			d = append(d, fmt.Sprintf("%s: %q vs %q", k, v, b[k]))
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

func waitCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func nan() float64 { return math.NaN() }
