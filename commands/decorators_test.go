package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"signet/commands"
	"signet/domain/fault"
)

func TestLogsHoldNoSecrets(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	cmd := registration("13812345678", code)
	cmd.Password = "S3cretPassw0rd"
	if _, err := w.cmds.RegisterAccount.Handle(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "Wr0ngS3cret"})
	w.cmds.Login.Handle(ctx, commands.Login{Login: "13812345678", Password: "S3cretPassw0rd"})
	w.cmds.RegisterAccount.Handle(ctx, commands.RegisterAccount{Login: "garbage-13812345678", Password: "An0therSecret"})

	logs := w.logs.String()
	for _, secret := range []string{"S3cretPassw0rd", "Wr0ngS3cret", "An0therSecret", code, "13812345678"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["msg"] != "executing command" {
			outcomes = append(outcomes, rec["command"].(string)+":"+rec["msg"].(string))
		}
	}
	want := "RequestCode:command executed,RegisterAccount:command executed,Login:command refused,Login:command executed,RegisterAccount:command refused"
	if strings.Join(outcomes, ",") != want {
		t.Errorf("log outcomes\n got %v\nwant %v", outcomes, want)
	}
	if !strings.Contains(logs, `"login":"138****5678"`) || !strings.Contains(logs, `"code":"invalid_credentials"`) {
		t.Errorf("logs lack masked login or refusal code:\n%s", logs)
	}
}

func TestMetrics(t *testing.T) {
	w := newWorld(t)
	code := w.requestCode(t, "13812345678")
	w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", wrongCode(code)))
	w.cmds.RegisterAccount.Handle(ctx, registration("13812345678", code))
	s := w.metrics.Snapshot()
	rc, ra := s["RequestCode"], s["RegisterAccount"]
	if rc.Count[commands.OutcomeOK] != 1 || ra.Count[commands.OutcomeOK] != 1 || ra.Count[commands.OutcomeRefused] != 1 {
		t.Fatalf("metrics %+v", s)
	}
	if ra.Total <= 0 || ra.Max <= 0 || ra.Max > ra.Total {
		t.Errorf("durations %+v", ra)
	}
}

type echo struct{}

func (echo) Handle(_ context.Context, cmd string) (int, error) {
	switch cmd {
	case "refuse":
		return 0, fault.New(fault.Rule, "no", "no")
	case "down":
		return 0, fault.New(fault.Unavailable, "down", "down")
	case "fail":
		return 0, errors.New("boom")
	}
	return len(cmd), nil
}

func TestApplyDecorators(t *testing.T) {
	var buf bytes.Buffer
	m := commands.NewMemoryMetrics()
	h := commands.ApplyDecorators[string, int](echo{}, slog.New(slog.NewTextHandler(&buf, nil)), m)
	if n, err := h.Handle(ctx, "hello"); n != 5 || err != nil {
		t.Fatal(n, err)
	}
	for _, c := range []string{"refuse", "down", "fail"} {
		if _, err := h.Handle(ctx, c); err == nil {
			t.Fatal("error lost")
		}
	}
	s := m.Snapshot()["string"]
	if s.Count[commands.OutcomeOK] != 1 || s.Count[commands.OutcomeRefused] != 1 || s.Count[commands.OutcomeError] != 2 {
		t.Errorf("counts %+v", s.Count)
	}
	if !strings.Contains(buf.String(), "level=ERROR msg=\"command failed\" command=string") {
		t.Errorf("log %s", buf.String())
	}
	// nil logger and metrics are allowed
	if n, _ := commands.ApplyDecorators[string, int](echo{}, nil, nil).Handle(ctx, "ab"); n != 2 {
		t.Error(n)
	}
}

func TestNewChecksDeps(t *testing.T) {
	_, err := commands.New(commands.Deps{})
	if err == nil || !strings.Contains(err.Error(), "Events") || !strings.Contains(err.Error(), "Tokens") {
		t.Fatalf("New with no deps: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("constructor without deps did not panic")
		}
	}()
	commands.NewLoginHandler(commands.Deps{})
}
