package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"signet/infra/eventstore"
	"signet/infra/redisdb"
	"signet/infra/search"
	"signet/infra/search/bleve"
	"signet/infra/search/elastic"
	"signet/infra/web"
	"signet/projections"
	"signet/projections/boxes"
	"signet/projections/searchdocs"
	"signet/readapi"
)

// searchName is the search projection's name: its checkpoint in the index
// and its name on the command line (projections rebuild search).
const searchName = "search"

// searchPart is the search index and, in a process that projects, the
// runner that fills it.
type searchPart struct {
	index  search.Index
	kind   string         // "elasticsearch" or "bleve" (readyz shows it: no path)
	where  string         // the directory or URL host, for logs and the CLI
	runner *search.Runner // nil unless the process projects (or rebuilds)
	lock   *os.File       // bleve: held while the index is open

	stop func()        // stops the runner started by start
	done chan struct{} // closed when it stopped
}

// Close stops the runner, then closes the index.
func (s *searchPart) Close() error {
	if s == nil {
		return nil
	}
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	err := s.index.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// searchDir is where the embedded index lives.
func (c *config) searchDir() string { return filepath.Join(c.Data, "search") }

// errSearchInUse: another process holds the embedded index.
var errSearchInUse = errors.New("the search index is in use by another signet process (stop serve first, or set SIGNET_SEARCH_URL)")

// openSearch opens the search index: Elasticsearch at SIGNET_SEARCH_URL,
// else bleve in the data dir. bleve lives in one process, so when the
// read API and the projector run apart without Elasticsearch there is no
// search (nil, logged).
func openSearch(ctx context.Context, cfg config, r roles, log *slog.Logger, store eventstore.Store) (*searchPart, error) {
	if !r.read && !r.project {
		return nil, nil
	}
	var p searchPart
	if cfg.SearchURL != "" {
		ec, err := elasticConfig(cfg)
		if err != nil {
			return nil, err
		}
		x, err := elastic.Open(ctx, ec)
		if err != nil {
			return nil, fmt.Errorf("open Elasticsearch: %w", err)
		}
		p.index, p.kind, p.where = x, "elasticsearch", ec.URL
	} else {
		if !(r.read && r.project) {
			log.Warn("no search: the embedded search index lives in one process; run the read API and the projector apart only with SIGNET_SEARCH_URL")
			return nil, nil
		}
		dir := cfg.searchDir()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("search directory: %w", err)
		}
		lock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		x, err := bleve.Open(dir)
		if err != nil {
			lock.Close()
			return nil, err
		}
		p.index, p.kind, p.where, p.lock = x, "bleve", dir, lock
	}
	if r.project {
		p.runner = &search.Runner{Log: store, Index: p.index, Build: searchdocs.New(store).Build, Name: searchName, Logger: log}
	}
	return &p, nil
}

// elasticConfig reads SIGNET_SEARCH_URL; user and password may be given in it.
func elasticConfig(cfg config) (elastic.Config, error) {
	u, err := url.Parse(cfg.SearchURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return elastic.Config{}, fmt.Errorf("SIGNET_SEARCH_URL %q: want http(s)://host:port", cfg.SearchURL)
	}
	ec := elastic.Config{Prefix: cfg.SearchPrefix}
	if u.User != nil {
		ec.Username = u.User.Username()
		ec.Password, _ = u.User.Password()
		u.User = nil
	}
	ec.URL = u.String()
	return ec, nil
}

// startSearch applies the log to the index in the background until ctx
// ends or the index is closed; a failed subscription is retried after a
// pause, as the index's own failures are by the runner.
func (a *app) startSearch(ctx context.Context) {
	p := a.search
	if p == nil || p.runner == nil || p.stop != nil {
		return
	}
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		start := time.Now()
		for {
			err := p.runner.Run(ctx)
			if ctx.Err() != nil {
				return
			}
			a.log.Error("search projection stopped; restarting", "err", err, "after", time.Since(start).Round(time.Millisecond))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

// searchWaiter waits for the search index: the runner when this process
// projects, else the index's checkpoint, polled.
type searchWaiter struct{ p *searchPart }

func (w searchWaiter) WaitFor(ctx context.Context, pos uint64) error {
	if w.p.runner != nil {
		return w.p.runner.WaitFor(ctx, pos)
	}
	for {
		at, err := w.p.index.Checkpoint(ctx, searchName)
		if err != nil || at >= pos {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// position is what the index has applied.
func (p *searchPart) position(ctx context.Context) (uint64, error) {
	if p.runner != nil {
		return p.runner.Position(), nil
	}
	return p.index.Checkpoint(ctx, searchName)
}

// searchDeps are the read API's search routes, nil without an index.
func (a *app) searchDeps() *readapi.Search {
	if a.search == nil {
		return nil
	}
	return &readapi.Search{Index: a.search.index, Waiter: searchWaiter{a.search}, Acted: actedReader{a.redis}}
}

// actedReader reads the lists' set of enterprises an account acted for.
type actedReader struct{ db *redisdb.DB }

func (r actedReader) Acted(ctx context.Context, accountID string) ([]string, error) {
	return r.db.SMembers(ctx, projections.Key(r.db, boxes.Name, "acted", accountID)).Result()
}

// searchCheck is the readiness of the search index: reachable, and within
// a second of the log's head.
func (a *app) searchCheck() web.Check {
	return web.Check{Name: searchName, Run: func(ctx context.Context) (any, error) {
		head, err := a.store.Head(ctx)
		if err != nil {
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		werr := searchWaiter{a.search}.WaitFor(wctx, head)
		pos, err := a.search.position(ctx)
		st := map[string]any{"index": a.search.kind, "checkpoint": pos, "head": head, "lag": head - min(pos, head)}
		if a.search.runner != nil {
			st["skipped"] = a.search.runner.Skipped()
		}
		if err == nil && werr != nil {
			err = fmt.Errorf("the search index has not reached position %d within a second", head)
		}
		return st, err
	}}
}

// rebuildSearch refills the search index from the log into a fresh
// generation, switched to atomically, with a progress bar.
func rebuildSearch(ctx context.Context, cfg config, logger *slog.Logger, stdout, stderr io.Writer, store eventstore.Store) error {
	p, err := openSearch(ctx, cfg, roles{read: true, project: true}, logger, store)
	if err != nil {
		return err
	}
	defer p.Close()
	var bar *progressbar.ProgressBar
	var total uint64
	st, err := p.runner.Rebuild(ctx, func(done, max uint64) {
		if bar == nil {
			total = max
			bar = progressbar.NewOptions64(int64(max), progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("rebuild "+searchName), progressbar.OptionShowCount(),
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
		return fmt.Errorf("rebuild %s: %w", searchName, err)
	}
	fmt.Fprintf(stdout, "rebuilt %s (%s %s): %d events to position %d in %s (%.0f events/s, %d skipped)\n", searchName, p.kind, p.where,
		st.Events, st.Position, st.Elapsed.Round(time.Millisecond), st.PerSecond, p.runner.Skipped())
	return nil
}

func searchKind(a *app) string {
	if a.search == nil {
		return "none"
	}
	return a.search.kind + " " + a.search.where
}
