package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"signet/infra/redisdb"
)

const (
	childEnv  = "SIGNET_TEST_CHILD"
	childArgs = "SIGNET_TEST_CHILD_ARGS"
)

// childMain runs signet itself inside the test binary, so a test can kill -9 it.
func childMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Split(os.Getenv(childArgs), "\x1f"), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "signet:", err)
		return 1
	}
	return 0
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startChild runs `signet serve` as a separate process and waits until it answers.
func startChild(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childArgs+"="+strings.Join(append([]string{"serve", "--addr", addr}, args...), "\x1f"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "http://"+addr)
	deadline := time.Now().Add(2 * time.Minute) // -race under a loaded CI: the search index catches up first
	for {
		if r, err := c.do(http.MethodGet, "/readyz", nil); err == nil && r.Status == http.StatusOK {
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("signet did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// While 50 clients register concurrently, kill -9 the server; after a
// restart every registration that was answered 201 can log in and sees its
// profile.
func TestKill9LosesNoAcknowledgedRegistration(t *testing.T) {
	data := t.TempDir()
	var b [6]byte
	rand.Read(b[:])
	prefix := "signet-test:" + hex.EncodeToString(b[:]) + ":"
	args := []string{"--dev", "--data", data, "--redis-prefix", prefix, "--log-level", "error", "--codes-per-client-hour", "100000"}
	if url := os.Getenv("SIGNET_REDIS_URL"); url != "" {
		args = append(args, "--redis-url", url)
		t.Cleanup(func() {
			db, err := redisdb.Open(context.Background(), url, prefix)
			if err == nil {
				db.DeletePrefix(context.Background(), "")
				db.Close()
			}
		})
	}
	addr := freeAddr(t)
	child := startChild(t, addr, args...)
	c := newClient(t, "http://"+addr)
	c.http.Timeout = 10 * time.Second

	const clients = 50
	var (
		mu    sync.Mutex
		acked = map[string]string{} // login -> account ID
		n     atomic.Int32
		wg    sync.WaitGroup
	)
	killed := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				login := fmt.Sprintf("1370%03d%04d", i, j)
				res, err := c.register(login, goodPassword)
				if err != nil {
					return // the server is gone
				}
				if res.Status == http.StatusCreated {
					var reg struct{ ID string }
					res.json(t, &reg)
					mu.Lock()
					acked[login] = reg.ID
					mu.Unlock()
					if n.Add(1) == 3*clients {
						child.Process.Signal(syscall.SIGKILL)
						close(killed)
					}
				}
				select {
				case <-killed:
					return
				default:
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(3 * time.Minute):
		child.Process.Kill()
		t.Fatalf("only %d registrations in 3 minutes", n.Load())
	}
	wg.Wait()
	child.Wait()

	child = startChild(t, addr, args...)
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d registrations answered 201 before kill -9", len(acked))
	for login, id := range acked {
		token, r := c.login(login, goodPassword)
		if r.Status != http.StatusCreated {
			t.Fatalf("acknowledged account %s lost: login %d %s", login, r.Status, r.Body)
		}
		me := c.must(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+token)
		if me.Status != http.StatusOK || !strings.Contains(string(me.Body), id) {
			t.Fatalf("/me of %s after restart: %d %s", login, me.Status, me.Body)
		}
	}
}
