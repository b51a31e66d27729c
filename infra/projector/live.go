package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// HandlerName is the Watermill handler name of a projection,
// "projection.<name>". It is public contract: renaming it renames the
// consumer.
func HandlerName(projection string) string { return "projection." + projection }

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("projector: already started")

// poisonError marks a failure that is the event's or the projection's fault
// (Handle failed, ops Redis would refuse, undecodable message): retrying it
// later will not help, so after the retries it goes to the poison list.
// Other failures (Redis unreachable) are Nacked and redelivered instead.
type poisonError struct{ err error }

func (e *poisonError) Error() string { return e.err.Error() }
func (e *poisonError) Unwrap() error { return e.err }

func isPoison(err error) bool {
	var pe *poisonError
	var rp middleware.RecoveredPanicError
	return errors.As(err, &pe) || errors.As(err, &rp)
}

// Start catches every projection up with the batched path, then runs them
// live: a Watermill router with one handler per projection
// (HandlerName(name), subscribed to topic name on a Subscriber over the
// event log), each with PoisonQueue, Retry and Recoverer middleware. It
// returns once the router is running; it stops when ctx ends or Close is
// called (see Done). A Runner starts once; a second Start returns ErrStarted.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return ErrStarted
	}
	r.started = true
	ctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.mu.Unlock()

	fail := func(err error) error {
		cancel()
		r.runErr = err
		close(r.done)
		return err
	}
	for _, p := range r.projs {
		if err := r.CatchUp(ctx, p.name, nil); err != nil {
			return fail(err)
		}
	}

	wlog := watermill.NewSlogLoggerWithLevelMapping(r.logger, map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug, // router lifecycle chatter
	})
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: r.cfg.closeTimeout}, wlog)
	if err != nil {
		return fail(err)
	}
	sub := NewSubscriber(r.log, r.Checkpoint, r.cfg.redeliverDelay, r.logger)
	pub := &poisonPublisher{r: r}
	retry := middleware.Retry{
		MaxRetries:      r.cfg.maxRetries,
		InitialInterval: r.cfg.retryInterval,
		MaxInterval:     250 * time.Millisecond,
		Multiplier:      2,
		Logger:          wlog,
	}
	for _, p := range r.projs {
		h := router.AddConsumerHandler(HandlerName(p.name), p.name, sub, r.liveHandler(p))
		poison, err := middleware.PoisonQueueWithFilter(pub, p.name, isPoison)
		if err != nil {
			return fail(err)
		}
		// First added runs outermost: a panic becomes an error (Recoverer),
		// is retried (Retry), and only then poisoned (PoisonQueue).
		h.AddMiddleware(poison, retry.Middleware, middleware.Recoverer)
	}
	r.mu.Lock()
	r.router = router
	r.mu.Unlock()

	go func() {
		err := router.Run(ctx)
		sub.Close()
		cancel()
		r.runErr = err
		close(r.done)
	}()
	select {
	case <-router.Running():
		return nil
	case <-r.done:
		if r.runErr == nil {
			return ctx.Err()
		}
		return r.runErr
	}
}

// Done is closed once a started Runner has stopped.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Close stops a started Runner and waits for it; in-flight events finish or
// are abandoned unacknowledged (they are redelivered at the next start).
func (r *Runner) Close() error {
	r.mu.Lock()
	started, cancel, router := r.started, r.cancel, r.router
	r.mu.Unlock()
	if !started {
		return nil
	}
	cancel()
	var err error
	if router != nil {
		err = router.Close()
	}
	<-r.done
	return err
}

// liveHandler applies one delivered event as a batch of one.
func (r *Runner) liveHandler(p *proj) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		e, err := DecodeEnvelope(msg)
		if err != nil {
			return &poisonError{err}
		}
		ctx := msg.Context()
		p.mu.Lock()
		defer p.mu.Unlock()
		ops, err := p.Handle(ctx, e) // a panic goes to the Recoverer
		if err != nil {
			return &poisonError{fmt.Errorf("projection %s: %w", p.name, err)}
		}
		if err := checkOps(ops); err != nil {
			return &poisonError{err}
		}
		b := batch{last: e.Position}
		if len(ops) > 0 {
			b.items = []item{{id: e.ID, typ: e.Type, stream: e.Stream, version: e.Version, position: e.Position, ops: ops}}
		}
		_, failed, reason, err := applyOnce(ctx, r.db, &p.keys, &b)
		if err != nil {
			return err
		}
		if failed >= 0 {
			return &poisonError{fmt.Errorf("refused by redis check: %s", reason)}
		}
		return nil
	}
}

// poisonPublisher is the PoisonQueue's Publisher: the topic is the
// projection's name; each poisoned message is appended to that projection's
// poison list and moves its checkpoint past the event, in one script call,
// so that Status counts it and WaitFor does not wait for it forever.
type poisonPublisher struct{ r *Runner }

const maxPoisonReason = 8 << 10

func (pp *poisonPublisher) Publish(topic string, msgs ...*message.Message) error {
	p, err := pp.r.get(topic)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		pos, _ := strconv.ParseUint(m.Metadata.Get(MetaPosition), 10, 64)
		ver, _ := strconv.ParseUint(m.Metadata.Get(MetaVersion), 10, 64)
		reason := m.Metadata.Get(middleware.ReasonForPoisonedKey)
		if len(reason) > maxPoisonReason {
			reason = reason[:maxPoisonReason] + "..."
		}
		rec := PoisonRecord{
			EventID: m.UUID, Stream: m.Metadata.Get(MetaStream), Version: ver, Position: pos,
			Type: m.Metadata.Get(MetaType), Error: reason, At: time.Now().UTC(),
		}
		b := batch{poison: []PoisonRecord{rec}, last: pos}
		p.mu.Lock()
		_, err := apply(m.Context(), pp.r.db, &p.keys, &b)
		p.mu.Unlock()
		if err != nil {
			return err
		}
		pp.r.logPoisoned(p, b.poison)
	}
	return nil
}

func (pp *poisonPublisher) Close() error { return nil }
