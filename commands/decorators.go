package commands

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"signet/domain/fault"
)

// ApplyDecorators wraps a handler with logging (outermost) and metrics.
//
// The log names the command and, when the command implements
// slog.LogValuer, the attributes it chooses to show; commands of this
// package never show passwords or codes and mask logins.
func ApplyDecorators[C, R any](h Handler[C, R], logger *slog.Logger, metrics Metrics) Handler[C, R] {
	if logger == nil {
		logger = slog.Default()
	}
	if metrics == nil {
		metrics = nopMetrics{}
	}
	return loggingDecorator[C, R]{
		base:   metricsDecorator[C, R]{base: h, metrics: metrics},
		logger: logger,
	}
}

// Outcome of one command.
type Outcome string

const (
	OutcomeOK      Outcome = "ok"      // done
	OutcomeRefused Outcome = "refused" // a *fault.Error: the caller's input or a rule
	OutcomeError   Outcome = "error"   // anything else: a failure of ours
)

func outcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	if f, ok := fault.As(err); ok && f.Kind != fault.Unavailable {
		return OutcomeRefused
	}
	return OutcomeError
}

// commandName is the command's Go type name without the package
// ("RegisterAccount"); it is only used for logs and metrics.
func commandName(cmd any) string {
	n := fmt.Sprintf("%T", cmd)
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		n = n[i+1:]
	}
	return n
}

type loggingDecorator[C, R any] struct {
	base   Handler[C, R]
	logger *slog.Logger
}

func (d loggingDecorator[C, R]) Handle(ctx context.Context, cmd C) (res R, err error) {
	attrs := []any{slog.String("command", commandName(cmd))}
	if lv, ok := any(cmd).(slog.LogValuer); ok {
		attrs = append(attrs, slog.Any("cmd", lv))
	}
	logger := d.logger.With(attrs...)
	logger.DebugContext(ctx, "executing command")
	start := time.Now()
	defer func() {
		took := slog.Duration("took", time.Since(start))
		switch outcomeOf(err) {
		case OutcomeOK:
			logger.InfoContext(ctx, "command executed", took)
		case OutcomeRefused:
			f, _ := fault.As(err)
			logger.InfoContext(ctx, "command refused", took, slog.String("code", f.Code), slog.String("field", f.Field))
		default:
			logger.ErrorContext(ctx, "command failed", took, slog.String("error", err.Error()))
		}
	}()
	return d.base.Handle(ctx, cmd)
}

// Metrics records one observation per executed command.
type Metrics interface {
	ObserveCommand(command string, outcome Outcome, took time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) ObserveCommand(string, Outcome, time.Duration) {}

type metricsDecorator[C, R any] struct {
	base    Handler[C, R]
	metrics Metrics
}

func (d metricsDecorator[C, R]) Handle(ctx context.Context, cmd C) (res R, err error) {
	start := time.Now()
	defer func() { d.metrics.ObserveCommand(commandName(cmd), outcomeOf(err), time.Since(start)) }()
	return d.base.Handle(ctx, cmd)
}

// CommandStats are the observations of one command.
type CommandStats struct {
	Count    map[Outcome]int
	Total    time.Duration // summed over all outcomes
	Max      time.Duration
	LastSeen time.Time
}

// MemoryMetrics keeps counts and durations per command in memory. It is
// safe for concurrent use.
type MemoryMetrics struct {
	mu sync.Mutex
	m  map[string]*CommandStats
}

// NewMemoryMetrics returns empty metrics.
func NewMemoryMetrics() *MemoryMetrics { return &MemoryMetrics{m: map[string]*CommandStats{}} }

// ObserveCommand implements Metrics.
func (m *MemoryMetrics) ObserveCommand(command string, outcome Outcome, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.m[command]
	if s == nil {
		s = &CommandStats{Count: map[Outcome]int{}}
		m.m[command] = s
	}
	s.Count[outcome]++
	s.Total += took
	s.Max = max(s.Max, took)
	s.LastSeen = time.Now()
}

// Snapshot copies the current statistics, by command name.
func (m *MemoryMetrics) Snapshot() map[string]CommandStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]CommandStats, len(m.m))
	for k, v := range m.m {
		c := *v
		c.Count = make(map[Outcome]int, len(v.Count))
		for o, n := range v.Count {
			c.Count[o] = n
		}
		out[k] = c
	}
	return out
}
