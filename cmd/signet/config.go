package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// config is read from flags, which default to SIGNET_* environment variables,
// which default to what runs on one machine with nothing installed.
type config struct {
	Addr          string        // SIGNET_ADDR
	Data          string        // SIGNET_DATA
	Dev           bool          // SIGNET_DEV
	EventStoreURL string        // SIGNET_EVENTSTORE_URL: esdb://...; empty = SQLite in the data dir
	RedisURL      string        // SIGNET_REDIS_URL: redis://...; empty = in-process Redis (serve only)
	RedisPrefix   string        // SIGNET_REDIS_PREFIX
	SearchURL     string        // SIGNET_SEARCH_URL: http(s)://... of Elasticsearch; empty = bleve in the data dir
	SearchPrefix  string        // SIGNET_SEARCH_PREFIX: Elasticsearch index and alias name prefix
	JWTKey        string        // SIGNET_JWT_KEY: empty = generated into the data dir
	ReadWait      time.Duration // SIGNET_READ_WAIT: how long a read waits for Signet-Wait-For
	CodesPerHour  int           // SIGNET_CODES_PER_CLIENT_HOUR: verification codes one client address may request an hour
	LogLevel      string        // SIGNET_LOG_LEVEL
	PublicURL     string        // SIGNET_PUBLIC_URL: how providers reach this server (callbacks)
	FaceSecret    string        // SIGNET_FACE_CALLBACK_SECRET: default derived from the token key
	BankSecret    string        // SIGNET_BANK_CALLBACK_SECRET: default derived from the token key
	KeySecret     string        // SIGNET_KEY_SECRET: seals the key store; default derived from the token key
	CACert        string        // SIGNET_CA_CERT: PEM file of a root CA to issue from; default: created in the data dir
	CAKey         string        // SIGNET_CA_KEY: PEM file of that root's private key
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv(name); ok {
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// flags registers the configuration flags on fs; which ones depends on the
// subcommand (a projector has no address to listen on).
func (c *config) flags(fs *flag.FlagSet, listen bool) {
	if listen {
		fs.StringVar(&c.Addr, "addr", env("SIGNET_ADDR", "127.0.0.1:8080"), "listen address (SIGNET_ADDR)")
		fs.BoolVar(&c.Dev, "dev", envBool("SIGNET_DEV", false), "add the /dev/... routes of the dev adapters (SIGNET_DEV)")
		fs.StringVar(&c.JWTKey, "jwt-key", env("SIGNET_JWT_KEY", ""), "HS256 key for tokens, >= 32 bytes or base64 (SIGNET_JWT_KEY; default: generated into the data dir)")
		fs.IntVar(&c.CodesPerHour, "codes-per-client-hour", envInt("SIGNET_CODES_PER_CLIENT_HOUR", 60), "verification codes one client address may request per hour (SIGNET_CODES_PER_CLIENT_HOUR)")
		fs.StringVar(&c.PublicURL, "public-url", env("SIGNET_PUBLIC_URL", "http://127.0.0.1:8080"), "URL at which providers reach this server's callbacks (SIGNET_PUBLIC_URL)")
		fs.StringVar(&c.FaceSecret, "face-callback-secret", env("SIGNET_FACE_CALLBACK_SECRET", ""), "HMAC secret of face provider callbacks (SIGNET_FACE_CALLBACK_SECRET; default: derived from the token key)")
		fs.StringVar(&c.BankSecret, "bank-callback-secret", env("SIGNET_BANK_CALLBACK_SECRET", ""), "HMAC secret of bank callbacks (SIGNET_BANK_CALLBACK_SECRET; default: derived from the token key)")
		fs.DurationVar(&c.ReadWait, "read-wait", envDuration("SIGNET_READ_WAIT", 5*time.Second), "longest a read waits for Signet-Wait-For (SIGNET_READ_WAIT)")
	}
	fs.StringVar(&c.KeySecret, "key-secret", env("SIGNET_KEY_SECRET", ""), "secret that seals the signing keys at rest (SIGNET_KEY_SECRET; default: derived from the token key)")
	fs.StringVar(&c.CACert, "ca-cert", env("SIGNET_CA_CERT", ""), "PEM file of the root CA certificate to issue signing certificates from (SIGNET_CA_CERT; default: a root created in the data dir)")
	fs.StringVar(&c.CAKey, "ca-key", env("SIGNET_CA_KEY", ""), "PEM file of that root CA's private key (SIGNET_CA_KEY)")
	fs.StringVar(&c.Data, "data", env("SIGNET_DATA", "./data"), "data directory: SQLite event store, keys (SIGNET_DATA)")
	fs.StringVar(&c.EventStoreURL, "eventstore-url", env("SIGNET_EVENTSTORE_URL", ""), "EventStoreDB URL, e.g. esdb://127.0.0.1:2113?tls=false (SIGNET_EVENTSTORE_URL; default: SQLite in the data dir)")
	fs.StringVar(&c.RedisURL, "redis-url", env("SIGNET_REDIS_URL", ""), "Redis URL, e.g. redis://127.0.0.1:6379/0 (SIGNET_REDIS_URL; default: in-process Redis, serve only)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", env("SIGNET_REDIS_PREFIX", "signet:"), "prefix of every Redis key (SIGNET_REDIS_PREFIX)")
	fs.StringVar(&c.SearchURL, "search-url", env("SIGNET_SEARCH_URL", ""), "Elasticsearch URL, e.g. http://127.0.0.1:9200 (SIGNET_SEARCH_URL; default: bleve in <data>/search, serve only)")
	fs.StringVar(&c.SearchPrefix, "search-prefix", env("SIGNET_SEARCH_PREFIX", "signet-"), "prefix of the Elasticsearch indices and aliases (SIGNET_SEARCH_PREFIX)")
	fs.StringVar(&c.LogLevel, "log-level", env("SIGNET_LOG_LEVEL", "info"), "debug, info, warn or error (SIGNET_LOG_LEVEL)")
}

func (c *config) sqlitePath() string { return filepath.Join(c.Data, "events.db") }

func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToLower(c.LogLevel))); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}
