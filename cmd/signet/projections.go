package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

const projectionsUsage = `Usage:
  signet projections status             checkpoint, head and lag per projection
  signet projections rebuild [name...]  drop read models and replay the log into them (all when none named;
                                        "search" is the search index, rebuilt into a fresh generation)
`

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "rebuild") {
		fmt.Fprint(stderr, projectionsUsage)
		return errors.New("say status or rebuild")
	}
	sub := args[0]
	var cfg config
	fs := flag.NewFlagSet("projections "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, false)
	fs.StringVar(&cfg.Addr, "addr", env("SIGNET_ADDR", "127.0.0.1:8080"), "a running serve to ask when there is no SIGNET_REDIS_URL (SIGNET_ADDR)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	logger, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	names := fs.Args()
	withSearch := len(names) == 0 || slices.Contains(names, searchName)
	names = slices.DeleteFunc(names, func(n string) bool { return n == searchName })
	if sub == "rebuild" && withSearch && len(fs.Args()) > 0 && len(names) == 0 {
		// The search index alone needs no Redis.
		store, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		fmt.Fprintln(stderr, "Stop running projector/serve processes first: events they apply during the rebuild would be skipped by it.")
		return rebuildSearch(ctx, cfg, logger, stdout, stderr, store)
	}
	if cfg.RedisURL == "" {
		if sub == "rebuild" {
			return errors.New("rebuild needs SIGNET_REDIS_URL: the in-process Redis of `signet serve` lives inside it and is rebuilt from the log at every start (restart serve to rebuild)")
		}
		return statusFromServer(ctx, cfg.Addr, stdout)
	}
	a, err := newApp(ctx, cfg, roles{project: true}, logger)
	if err != nil {
		return err
	}
	defer a.Close()

	if sub == "status" {
		st, err := a.runner.Status(ctx)
		if err != nil {
			return err
		}
		printStatus(stdout, statusJSON(st))
		return nil
	}

	if len(fs.Args()) == 0 {
		names = a.runner.Names()
	}
	for _, n := range names {
		if !slices.Contains(a.runner.Names(), n) {
			return fmt.Errorf("no projection named %q (there are: %v)", n, a.runner.Names())
		}
	}
	fmt.Fprintln(stderr, "Stop running projector/serve processes first: events they apply during the rebuild would be skipped by it.")
	for _, n := range names {
		start := time.Now()
		var bar *progressbar.ProgressBar
		var total uint64
		err := a.runner.Rebuild(ctx, n, func(done, max uint64) {
			if bar == nil {
				total = max
				bar = progressbar.NewOptions64(int64(max), progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription("rebuild "+n), progressbar.OptionShowCount(),
					progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true))
			}
			if max != total {
				total = max
				bar.ChangeMax64(int64(max))
			}
			_ = bar.Set64(int64(done))
		})
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(stderr)
		}
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", n, err)
		}
		took := time.Since(start)
		rate := float64(total) / took.Seconds()
		fmt.Fprintf(stdout, "rebuilt %s: %d positions in %s (%.0f events/s)\n", n, total, took.Round(time.Millisecond), rate)
	}
	if withSearch {
		if err := a.search.Close(); err != nil {
			return err
		}
		a.search = nil
		return rebuildSearch(ctx, cfg, logger, stdout, stderr, a.store)
	}
	return nil
}

func printStatus(w io.Writer, st []projectionStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECTION\tCHECKPOINT\tHEAD\tLAG\tCAUGHT UP\tPOISONED")
	for _, s := range st {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%v\t%d\n", s.Name, s.Checkpoint, s.Head, s.Lag, s.CaughtUp, s.Poisoned)
	}
	tw.Flush()
}

// statusFromServer asks a running serve (whose Redis is in-process) through /readyz.
func statusFromServer(ctx context.Context, addr string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("no SIGNET_REDIS_URL, and no signet answering at %s to ask: %w", addr, err)
	}
	defer res.Body.Close()
	var body struct {
		Checks map[string]struct {
			Error  string          `json:"error"`
			Detail json.RawMessage `json:"detail"`
		} `json:"checks"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("read /readyz of %s: %w", addr, err)
	}
	p, ok := body.Checks["projections"]
	if !ok {
		return fmt.Errorf("the signet at %s runs no projections", addr)
	}
	var st []projectionStatus
	if err := json.Unmarshal(p.Detail, &st); err != nil {
		return fmt.Errorf("read projection status of %s: %w", addr, err)
	}
	printStatus(stdout, st)
	if p.Error != "" {
		fmt.Fprintln(stdout, "not caught up:", p.Error)
	}
	return nil
}
