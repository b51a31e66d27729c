package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"signet/domain/event"
	"signet/infra/eventstore"
	"signet/infra/eventstore/sqlite"
)

// crashChildEnv switches the test binary into the child role of TestCrash:
// its value is the database path.
const crashChildEnv = "SIGNET_SQLITE_CRASH_CHILD"

// TestCrash re-executes this test binary as a child that appends from many
// goroutines and prints every acknowledged event, kills it with SIGKILL in
// the middle of that, reopens the file and checks that every acknowledged
// event is there, where Append said, and that every chain verifies. It does
// so for several rounds on the same file, killing after a random number of
// acknowledgements each time.
//
// What it cannot show: SIGKILL leaves the OS page cache intact, so a commit
// that reached the WAL with write(2) but was never fsynced survives it too.
// Durability against power loss rests on synchronous=FULL (checked by Open).
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[string]ack{}
	for round := range 4 {
		killAfter := 300 + mrand.IntN(1500)
		n := crashRound(t, path, killAfter, acked)
		t.Logf("round %d: child killed after %d acknowledged events", round, n)
		checkAfterCrash(t, path, acked)
		if t.Failed() {
			return
		}
	}
}

type ack struct {
	stream  string
	version uint64
	pos     uint64
}

// crashRound runs one child on path, kills it after killAfter acknowledged
// events and adds what it acknowledged to acked.
func crashRound(t *testing.T, path string, killAfter int, acked map[string]ack) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("kill: %v", err)
			}
		}
	}
	timer := time.AfterFunc(60*time.Second, kill) // safety net
	defer timer.Stop()
	n := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// "ack <event id> <stream> <version> <position>"
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[0] != "ack" {
			continue
		}
		v, err1 := strconv.ParseUint(f[3], 10, 64)
		p, err2 := strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		acked[f[1]] = ack{f[2], v, p}
		if n++; n >= killAfter {
			kill() // keep reading: lines already written are still in the pipe
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL; stderr:\n%s", err, stderr.String())
	}
	if n < killAfter {
		t.Fatalf("child acknowledged only %d appends before dying; stderr:\n%s", n, stderr.String())
	}
	return n
}

// checkAfterCrash reopens path and checks every acknowledged event and every chain.
func checkAfterCrash(t *testing.T, path string, acked map[string]ack) {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	stored := map[string]event.Envelope{}
	streams := map[string]bool{}
	for _, e := range readEverything(t, s) {
		stored[e.ID] = e
		streams[e.Stream] = true
	}
	lost := 0
	for id, a := range acked {
		e, ok := stored[id]
		switch {
		case !ok:
			lost++
		case e.Stream != a.stream || e.Version != a.version || e.Position != a.pos:
			t.Errorf("event %s stored as %s@%d pos %d, acknowledged as %s@%d pos %d", id, e.Stream, e.Version, e.Position, a.stream, a.version, a.pos)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events lost", lost, len(acked))
	}
	for stream := range streams {
		if err := eventstore.VerifyStream(ctx, s, stream); err != nil {
			t.Errorf("after the crash: %v", err)
		}
	}
	t.Logf("%d events stored (%d acknowledged) in %d streams, all chains intact", len(stored), len(acked), len(streams))
}

// crashChild appends until it is killed.
func crashChild(path string) {
	s, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	report := func(evs []event.New, stream string, res event.AppendResult) {
		mu.Lock()
		defer mu.Unlock()
		pos := res.LastPosition - uint64(len(evs)) + 1 // one append's events are consecutive in this store
		for i, e := range evs {
			fmt.Fprintf(w, "ack %s %s %d %d\n", e.ID, stream, res.FirstVersion+uint64(i), pos+uint64(i))
		}
		w.Flush() // only acknowledged events, and each as soon as it is
	}
	time.AfterFunc(2*time.Minute, func() { os.Exit(4) }) // orphaned: give up
	run := strconv.FormatUint(mrand.Uint64(), 36)        // this child's own streams
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			versions := map[string]uint64{}
			for k := 0; ; k++ {
				// Streams of its own with exact expected versions, and every
				// fourth append to one stream that all goroutines share.
				target := fmt.Sprintf("crash-%s-g%d-%d", run, g, k/12)
				exp := event.Exactly(versions[target])
				if k%4 == 3 {
					target, exp = "crash-shared", event.Any
				}
				evs := make([]event.New, 1+k%3)
				for i := range evs {
					evs[i] = newEvent(k)
				}
				res, err := s.Append(ctx, target, exp, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(3)
				}
				versions[target] = res.LastVersion
				report(evs, target, res)
			}
		})
	}
	wg.Wait()
}
