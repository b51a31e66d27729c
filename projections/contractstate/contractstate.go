// Package contractstate gives projections a contract's state just before
// one of its events: replayed from the contract's own stream (the
// immutable log), with the latest states of recent contracts cached, so a
// catch-up or a rebuild reads each stream about once.
package contractstate

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"signet/domain/contract"
	"signet/domain/event"
)

// History reads a stream forwards (eventstore.Store's ReadStream).
type History interface {
	ReadStream(ctx context.Context, stream string, from uint64, dir event.Direction, limit int) ([]event.Envelope, error)
}

// Cache holds the latest states of up to size contracts. It is safe for
// concurrent use.
type Cache struct {
	h    History
	size int

	mu     sync.Mutex
	states map[string]*list.Element // stream -> *cached
	order  *list.List               // most recently used first
}

type cached struct {
	stream  string
	version uint64
	k       *contract.Contract
}

// New makes a cache of size states reading streams from h.
func New(h History, size int) *Cache {
	return &Cache{h: h, size: size, states: map[string]*list.Element{}, order: list.New()}
}

// Before returns the contract's state just before version v of its
// stream, taking it out of the cache: the caller applies the event and
// puts the result back with Keep.
func (c *Cache) Before(ctx context.Context, stream string, v uint64) (*contract.Contract, error) {
	c.mu.Lock()
	if el, ok := c.states[stream]; ok {
		s := el.Value.(*cached)
		c.order.Remove(el)
		delete(c.states, stream)
		if s.version == v-1 {
			c.mu.Unlock()
			return s.k, nil
		}
	}
	c.mu.Unlock()
	if v <= 1 {
		return contract.New(), nil
	}
	envs, err := c.h.ReadStream(ctx, stream, 1, event.Forwards, int(v-1))
	if err != nil {
		return nil, fmt.Errorf("read the contract before this event: %w", err)
	}
	if uint64(len(envs)) != v-1 {
		return nil, fmt.Errorf("read %d events of the contract before version %d", len(envs), v)
	}
	return contract.Replay(envs)
}

// Keep caches k as the contract's state at version v of its stream.
func (c *Cache) Keep(stream string, v uint64, k *contract.Contract) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states[stream] = c.order.PushFront(&cached{stream, v, k})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.states, last.Value.(*cached).stream)
	}
}
