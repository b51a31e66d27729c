package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"signet/commands"
)

// metrics answers GET /metrics in the Prometheus text format: command counts
// and durations (write role), the log head and projection checkpoints.
func (a *app) metrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	if a.cmdMetrics != nil {
		snap := a.cmdMetrics.Snapshot()
		names := make([]string, 0, len(snap))
		for n := range snap {
			names = append(names, n)
		}
		slices.Sort(names)
		b.WriteString("# HELP signet_commands_total Commands handled, by outcome.\n# TYPE signet_commands_total counter\n")
		for _, n := range names {
			outcomes := make([]string, 0, len(snap[n].Count))
			for o := range snap[n].Count {
				outcomes = append(outcomes, string(o))
			}
			slices.Sort(outcomes)
			for _, o := range outcomes {
				fmt.Fprintf(&b, "signet_commands_total{command=%q,outcome=%q} %d\n", n, o, snap[n].Count[commands.Outcome(o)])
			}
		}
		b.WriteString("# HELP signet_command_duration_seconds_sum Time spent in commands.\n# TYPE signet_command_duration_seconds_sum counter\n")
		for _, n := range names {
			fmt.Fprintf(&b, "signet_command_duration_seconds_sum{command=%q} %g\n", n, snap[n].Total.Seconds())
		}
		b.WriteString("# HELP signet_command_duration_seconds_max Longest command.\n# TYPE signet_command_duration_seconds_max gauge\n")
		for _, n := range names {
			fmt.Fprintf(&b, "signet_command_duration_seconds_max{command=%q} %g\n", n, snap[n].Max.Seconds())
		}
	}
	st, err := a.runner.Status(r.Context())
	if err == nil && len(st) > 0 {
		fmt.Fprintf(&b, "# HELP signet_eventstore_head Global position of the last stored event.\n# TYPE signet_eventstore_head gauge\nsignet_eventstore_head %d\n", st[0].Head)
		b.WriteString("# HELP signet_projection_checkpoint Position a projection has processed up to.\n# TYPE signet_projection_checkpoint gauge\n")
		for _, s := range st {
			fmt.Fprintf(&b, "signet_projection_checkpoint{projection=%q} %d\n", s.Name, s.Checkpoint)
		}
		b.WriteString("# HELP signet_projection_poisoned Events a projection could not apply.\n# TYPE signet_projection_poisoned gauge\n")
		for _, s := range st {
			fmt.Fprintf(&b, "signet_projection_poisoned{projection=%q} %d\n", s.Name, s.Poisoned)
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
