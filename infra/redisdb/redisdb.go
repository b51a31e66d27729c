// Package redisdb opens the Redis that holds signet's read models and
// short-lived write-side state (verification codes, rate limits): a real
// server when a URL is configured, otherwise an in-process miniredis.
package redisdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// DB is a Redis client plus the key prefix that every key of this
// deployment (or test) lives under.
type DB struct {
	*redis.Client
	Prefix string

	mini *miniredis.Miniredis
	stop chan struct{}
}

// Open connects to url ("redis://host:port/db"), or starts an in-process
// server when url is empty. prefix namespaces every key ("signet:").
func Open(ctx context.Context, url, prefix string) (*DB, error) {
	d := &DB{Prefix: prefix}
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			return nil, fmt.Errorf("start in-process redis: %w", err)
		}
		d.mini = m
		d.stop = make(chan struct{})
		go d.advanceClock()
		d.Client = redis.NewClient(&redis.Options{Addr: m.Addr()})
		return d, nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	d.Client = redis.NewClient(opts)
	if err := d.Ping(ctx).Err(); err != nil {
		d.Client.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", opts.Addr, err)
	}
	return d, nil
}

// advanceClock makes key TTLs expire in miniredis, whose clock only moves
// when told to.
func (d *DB) advanceClock() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-d.stop:
			return
		case now := <-t.C:
			d.mini.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Embedded reports whether this is the in-process server (empty at every start).
func (d *DB) Embedded() bool { return d.mini != nil }

// Key joins parts under the prefix: Key("account", id) = "signet:account:<id>".
func (d *DB) Key(parts ...string) string { return d.Prefix + strings.Join(parts, ":") }

// DeletePrefix deletes every key under Prefix+sub, in batches. It never
// touches keys outside the prefix (so never FLUSHALL on a shared server).
func (d *DB) DeletePrefix(ctx context.Context, sub string) error {
	iter := d.Scan(ctx, 0, d.Prefix+sub+"*", 1000).Iterator()
	batch := make([]string, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := d.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

func (d *DB) Close() error {
	err := d.Client.Close()
	if d.mini != nil {
		close(d.stop)
		d.mini.Close()
	}
	return err
}
