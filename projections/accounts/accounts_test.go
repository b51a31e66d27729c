package accounts_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/accounts"
)

func TestProfilesAreProjectedMasked(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := redistest.New(t)

	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	reg := account.AccountRegistered{
		AccountID: "a1", LoginKind: account.Phone, Login: "13800138000", Name: "井然", Company: "无",
		PasswordHash: "$argon2id$secret", PrivacyPolicy: account.PrivacyConsent{Accepted: true, Version: "2026-11"},
		RegisteredAt: at,
	}
	ev, err := account.NewEvent("e1", reg, event.Metadata{Actor: "a1", OccurredAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "account-a1", event.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	other := event.New{ID: "e2", Type: "SomethingElse", Schema: 1, Data: []byte(`{}`), Meta: event.Metadata{OccurredAt: at}}
	if _, err := store.Append(ctx, "thing-1", event.NoStream, other); err != nil {
		t.Fatal(err)
	}

	r, err := projector.New(db, store, []projections.Projection{accounts.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx, accounts.Name, nil); err != nil {
		t.Fatal(err)
	}
	reader := accounts.Reader{DB: db}
	p, err := reader.Profile(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := accounts.Profile{ID: "a1", Login: "138****8000", LoginKind: "phone", Name: "井然", Company: "无", RegisteredAt: at,
		Consents: accounts.Consents{PrivacyPolicy: true, PrivacyPolicyVersion: "2026-11"}, PlatformRoles: []string{}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	raw, err := db.HGetAll(ctx, projections.Key(db, accounts.Name, "account", "a1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range raw {
		if strings.Contains(v, "13800138000") || strings.Contains(v, "argon2") {
			t.Fatalf("field %s keeps personal data or the hash: %q", k, v)
		}
	}
	if _, err := reader.Profile(ctx, "nobody"); err == nil {
		t.Fatal("unknown account must not have a profile")
	} else if f, ok := fault.As(err); !ok || f.Kind != fault.NotFound {
		t.Fatalf("unknown account: %v", err)
	}
}
