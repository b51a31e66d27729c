package projector

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"signet/domain/event"
)

// Metadata keys of the messages Subscriber produces.
const (
	MetaStream   = "stream"
	MetaVersion  = "version"
	MetaPosition = "position"
	MetaType     = "type"
)

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("projector: subscriber closed")

// Subscriber is a Watermill message.Subscriber over the event store's
// global log. The topic is the consumer's name: Subscribe loads that
// consumer's durable checkpoint and delivers every later event, in global
// order, one at a time: the next message is sent only once the previous one
// was Acked. A Nacked event is redelivered (a new message with the same
// UUID) after a short delay. The Subscriber never stores checkpoints; the
// consumer does, atomically with its own writes.
type Subscriber struct {
	log        EventLog
	checkpoint func(ctx context.Context, consumer string) (uint64, error)
	delay      time.Duration
	logger     *slog.Logger

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

// NewSubscriber makes a Subscriber. checkpoint returns the position a
// consumer has processed the log up to; redeliverDelay is the wait before a
// Nacked event is sent again (<= 0: 100ms). logger may be nil.
func NewSubscriber(log EventLog, checkpoint func(ctx context.Context, consumer string) (uint64, error), redeliverDelay time.Duration, logger *slog.Logger) *Subscriber {
	if redeliverDelay <= 0 {
		redeliverDelay = 100 * time.Millisecond
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{log: log, checkpoint: checkpoint, delay: redeliverDelay, logger: logger, closing: make(chan struct{})}
}

// Subscribe starts delivering the log after topic's checkpoint. The channel
// is closed when ctx ends or the Subscriber is closed.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	after, err := s.checkpoint(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("projector: checkpoint of consumer %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		go func() {
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.run(ctx, topic, after, out)
	}()
	return out, nil
}

// run subscribes to the store from after, resubscribing from the last
// acknowledged position when the store's subscription fails.
func (s *Subscriber) run(ctx context.Context, topic string, after uint64, out chan<- *message.Message) {
	for {
		err := s.log.Subscribe(ctx, after, func(ctx context.Context, e event.Envelope) error {
			if err := s.deliver(ctx, out, e); err != nil {
				return err
			}
			after = e.Position
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		s.logger.Error("event log subscription failed; resubscribing", "consumer", topic, "after", after, "error", err)
		if !sleep(ctx, s.delay) {
			return
		}
	}
}

// deliver sends e until it is Acked (or ctx ends).
func (s *Subscriber) deliver(ctx context.Context, out chan<- *message.Message, e event.Envelope) error {
	payload, err := EncodeEnvelope(e)
	if err != nil {
		return err
	}
	for {
		msg := message.NewMessage(e.ID, payload)
		msg.Metadata.Set(MetaStream, e.Stream)
		msg.Metadata.Set(MetaVersion, strconv.FormatUint(e.Version, 10))
		msg.Metadata.Set(MetaPosition, strconv.FormatUint(e.Position, 10))
		msg.Metadata.Set(MetaType, e.Type)
		mctx, cancel := context.WithCancel(ctx)
		msg.SetContext(mctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		}
		select {
		case <-msg.Acked():
			cancel()
			return nil
		case <-msg.Nacked():
			cancel()
			if !sleep(ctx, s.delay) {
				return ctx.Err()
			}
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		}
	}
}

// Close ends every subscription and waits until their channels are closed.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// EncodeEnvelope is the payload of the message carrying e: gob, which
// (unlike encoding/json) keeps every string byte for byte, valid UTF-8 or
// not, so a decoded envelope still verifies against its hash chain.
func EncodeEnvelope(e event.Envelope) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&e); err != nil {
		return nil, fmt.Errorf("projector: encode envelope %s: %w", e.ID, err)
	}
	return buf.Bytes(), nil
}

// DecodeEnvelope reads the envelope a Subscriber message carries.
func DecodeEnvelope(msg *message.Message) (event.Envelope, error) {
	var e event.Envelope
	if err := gob.NewDecoder(bytes.NewReader(msg.Payload)).Decode(&e); err != nil {
		return event.Envelope{}, fmt.Errorf("projector: decode envelope of message %s: %w", msg.UUID, err)
	}
	return e, nil
}
