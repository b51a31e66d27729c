package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runServer runs the parts named by r until ctx ends (SIGINT/SIGTERM), then
// shuts down gracefully: stop accepting, finish requests in flight, stop the
// projections, close the stores.
func runServer(ctx context.Context, name string, args []string, stderr io.Writer, r roles) error {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs, r.write || r.read)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", name, fs.Args())
	}
	logger, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, r, logger)
	if err != nil {
		return err
	}
	defer a.Close()

	errc := make(chan error, 2)
	if r.project {
		// Catching up (the whole log, with the in-process Redis) happens while
		// the HTTP side already answers: /readyz says when it is done, and
		// reads wait for the positions they need.
		go func() {
			start := time.Now()
			if err := a.runner.Start(ctx); err != nil {
				if ctx.Err() == nil {
					errc <- fmt.Errorf("projections: %w", err)
				}
				return
			}
			logger.Info("projections caught up and live", "took", time.Since(start).Round(time.Millisecond))
			<-a.runner.Done()
			if ctx.Err() == nil {
				errc <- errors.New("projections stopped unexpectedly")
			}
		}()
	}

	// The search index follows the log on its own, beside the Redis read models.
	a.startSearch(ctx)

	if r.write {
		// Expires contracts past their signing deadline; several processes
		// may run it, each contract expires once.
		go a.deadlines().Run(ctx)
		// Retries the final documents of contracts whose attempt at the
		// last signature failed or never finished.
		go a.sealing().Run(ctx)
		// Signs a tree head over the log every minute it grew.
		go a.heads.Run(ctx)
		// Sends the rows of running batches; a batch interrupted by a crash
		// goes on from where it stopped.
		go a.batchRunner().Run(ctx)
	}

	var srv *http.Server
	if r.write || r.read {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		srv = &http.Server{
			Handler:           a.handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		logger.Info("signet listening", "command", name, "addr", ln.Addr().String(), "data", cfg.Data,
			"eventstore", storeKind(cfg), "redis", redisKind(cfg), "search", searchKind(a), "dev", cfg.Dev, "version", versionString())
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-errc:
		logger.Error("stopping", "err", err)
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if serr := srv.Shutdown(sctx); serr != nil {
			logger.Warn("http shutdown", "err", serr)
		}
		cancel()
	}
	return err
}

func storeKind(cfg config) string {
	if cfg.EventStoreURL != "" {
		return "eventstoredb"
	}
	return "sqlite:" + cfg.sqlitePath()
}

func redisKind(cfg config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "in-process"
}
