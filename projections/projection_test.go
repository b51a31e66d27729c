package projections_test

import (
	"context"
	"reflect"
	"testing"

	"signet/domain/event"
	"signet/infra/redisdb/redistest"
	"signet/projections"
)

func TestHelpers(t *testing.T) {
	cases := []struct {
		got, want projections.Op
	}{
		{projections.HSet("c:1", "title", "合同", "n", 2), projections.Op{"HSET", "c:1", []any{"title", "合同", "n", 2}}},
		{projections.HDel("c:1", "a", "b"), projections.Op{"HDEL", "c:1", []any{"a", "b"}}},
		{projections.HIncrBy("stats", "sent", -1), projections.Op{"HINCRBY", "stats", []any{"sent", int64(-1)}}},
		{projections.Del("c:1"), projections.Op{"DEL", "c:1", nil}},
		{projections.SAdd("s", "x"), projections.Op{"SADD", "s", []any{"x"}}},
		{projections.SRem("s", "x", "y"), projections.Op{"SREM", "s", []any{"x", "y"}}},
		{projections.ZAdd("owner:u1", 1.5, "c1"), projections.Op{"ZADD", "owner:u1", []any{1.5, "c1"}}},
		{projections.ZRem("owner:u1", "c1"), projections.Op{"ZREM", "owner:u1", []any{"c1"}}},
		{projections.Set("k", "v"), projections.Op{"SET", "k", []any{"v"}}},
		{projections.IncrBy("k", 3), projections.Op{"INCRBY", "k", []any{int64(3)}}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("got %#v, want %#v", c.got, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	db := redistest.New(t)
	if got, want := projections.Key(db, "contracts", "owner", "u1"), db.Prefix+"rm:contracts:owner:u1"; got != want {
		t.Fatalf("Key = %q, want %q", got, want)
	}
	if got, want := projections.Namespace("contracts"), "rm:contracts:"; got != want {
		t.Fatalf("Namespace = %q, want %q", got, want)
	}
}

func TestFunc(t *testing.T) {
	p := projections.Func("inbox", func(_ context.Context, e event.Envelope) ([]projections.Op, error) {
		if e.Type != "ContractSent" {
			return nil, nil
		}
		return []projections.Op{projections.SAdd("inbox:"+e.Meta.Actor, e.Stream)}, nil
	})
	if p.Name() != "inbox" {
		t.Fatalf("Name = %q", p.Name())
	}
	ops, err := p.Handle(context.Background(), event.Envelope{Type: "ContractSent", Stream: "contract-1", Meta: event.Metadata{Actor: "u1"}})
	if err != nil || len(ops) != 1 || ops[0].Key != "inbox:u1" {
		t.Fatalf("Handle = %v, %v", ops, err)
	}
	if ops, _ := p.Handle(context.Background(), event.Envelope{Type: "Other"}); ops != nil {
		t.Fatalf("ignored event gave %v", ops)
	}
}
