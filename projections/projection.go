// Package projections holds signet's read models. Each read model is a
// Projection: a stable name and a deterministic mapping from a stored event
// to the Redis writes it causes. Running projections (checkpoints, idempotency
// guards, batching, delivery) is infra/projector's job, not theirs.
package projections

import (
	"context"
	"strings"

	"signet/domain/event"
	"signet/infra/redisdb"
)

// Redis commands a projection may emit. Each writes exactly one key, so the
// projector can namespace it; infra/projector refuses any other command.
const (
	CmdHSet    = "HSET"
	CmdHDel    = "HDEL"
	CmdHIncrBy = "HINCRBY"
	CmdDel     = "DEL"
	CmdSAdd    = "SADD"
	CmdSRem    = "SREM"
	CmdZAdd    = "ZADD"
	CmdZRem    = "ZREM"
	CmdSet     = "SET"
	CmdIncrBy  = "INCRBY"
)

// Op is one Redis write of a projection; Key is relative to the projection's
// own namespace (see Key). Args are the command's arguments after the key:
// strings and []byte are sent byte for byte; integers and floats are
// formatted exactly. Build Ops with the helpers below.
type Op struct {
	Cmd  string
	Key  string
	Args []any
}

// HSet sets field/value pairs of a hash: HSet(k, "title", t, "status", "sent").
func HSet(key string, fieldValues ...any) Op { return Op{CmdHSet, key, fieldValues} }

// HDel removes fields of a hash.
func HDel(key string, fields ...string) Op { return Op{CmdHDel, key, strs(fields)} }

// HIncrBy adds incr to an integer field of a hash (a counter).
func HIncrBy(key, field string, incr int64) Op { return Op{CmdHIncrBy, key, []any{field, incr}} }

// Del removes a whole document.
func Del(key string) Op { return Op{CmdDel, key, nil} }

// SAdd adds members to a set.
func SAdd(key string, members ...string) Op { return Op{CmdSAdd, key, strs(members)} }

// SRem removes members from a set.
func SRem(key string, members ...string) Op { return Op{CmdSRem, key, strs(members)} }

// ZAdd adds (or re-scores) member in a sorted set. Keep sorted sets per owner
// (per account, per enterprise), never one global set.
func ZAdd(key string, score float64, member string) Op {
	return Op{CmdZAdd, key, []any{score, member}}
}

// ZRem removes members from a sorted set.
func ZRem(key string, members ...string) Op { return Op{CmdZRem, key, strs(members)} }

// Set sets a string value (no expiry: read models live until rebuilt).
func Set(key string, value any) Op { return Op{CmdSet, key, []any{value}} }

// IncrBy adds incr to an integer string value (a counter).
func IncrBy(key string, incr int64) Op { return Op{CmdIncrBy, key, []any{incr}} }

func strs(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Projection is one read model.
type Projection interface {
	// Name is stable: it names the consumer (Watermill handler
	// "projection.<name>"), the checkpoint and the key namespace. Renaming a
	// projection means rebuilding it. Letters, digits, '_', '-' and '.' only.
	Name() string
	// Handle maps one event to its writes. It is a function of the envelope
	// and of the immutable log before it (a projection may read its stream's
	// earlier events, never read models, never the clock), so handling an
	// event again, or in a rebuild, gives the same writes: nil ops for events
	// it ignores. It may be
	// called more than once for the same event; the projector makes applying
	// its ops idempotent. An error means the event cannot be projected (it is
	// retried, then recorded as poisoned, and later events still flow).
	Handle(ctx context.Context, e event.Envelope) ([]Op, error)
}

// Key gives readers the absolute key of a projection's document:
// db.Prefix + "rm:" + name + ":" + strings.Join(parts, ":"). An Op with
// Key = strings.Join(parts, ":") writes exactly that key.
func Key(db *redisdb.DB, name string, parts ...string) string {
	return db.Prefix + Namespace(name) + strings.Join(parts, ":")
}

// Namespace is the key prefix of a projection's read model, relative to the
// DB prefix: "rm:<name>:".
func Namespace(name string) string { return "rm:" + name + ":" }

// Func adapts a function to a Projection.
func Func(name string, handle func(ctx context.Context, e event.Envelope) ([]Op, error)) Projection {
	return funcProjection{name, handle}
}

type funcProjection struct {
	name   string
	handle func(ctx context.Context, e event.Envelope) ([]Op, error)
}

func (p funcProjection) Name() string { return p.name }
func (p funcProjection) Handle(ctx context.Context, e event.Envelope) ([]Op, error) {
	return p.handle(ctx, e)
}
