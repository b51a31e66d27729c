package accounts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/account"
	"signet/domain/event"
	"signet/infra/eventstore/sqlite"
	"signet/infra/projector"
	"signet/infra/redisdb"
	"signet/infra/redisdb/redistest"
	"signet/projections"
	"signet/projections/accounts"
)

type world struct {
	t      *testing.T
	store  *sqlite.Store
	db     *redisdb.DB
	runner *projector.Runner
	n      int
}

func newWorld(t *testing.T) *world {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db := redistest.New(t)
	r, err := projector.New(db, store, []projections.Projection{accounts.Projection{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, store: store, db: db, runner: r}
}

func (w *world) append(id string, es ...account.Event) {
	w.t.Helper()
	w.appendTo(account.StreamOf(id), id, es...)
}

// appendTo appends to any stream (the quota ledger).
func (w *world) appendTo(stream, id string, es ...account.Event) {
	w.t.Helper()
	var news []event.New
	for _, e := range es {
		w.n++
		n, err := account.NewEvent(fmt.Sprintf("e%d", w.n), e, event.Metadata{Actor: id, OccurredAt: t1})
		if err != nil {
			w.t.Fatal(err)
		}
		news = append(news, n)
	}
	if _, err := w.store.Append(context.Background(), stream, event.Any, news...); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) catchUp() {
	w.t.Helper()
	if err := w.runner.CatchUp(context.Background(), accounts.Name, nil); err != nil {
		w.t.Fatal(err)
	}
}

// t1 is 2026-12-01 04:00 in Shanghai, a day later than in UTC.
var t1 = time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)

const (
	id1 = "11010519491231002X"
	id2 = "330106199003071236"
)

func reg(id string, kind account.LoginKind, login string) []account.Event {
	return []account.Event{
		account.AccountRegistered{AccountID: id, LoginKind: kind, Login: login, Name: "张三", Company: "无", PasswordHash: "$argon2id$x",
			PrivacyPolicy: account.PrivacyConsent{Accepted: true, Version: "2026-11"}, RegisteredAt: t1},
		account.ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "registration", GrantedAt: t1},
	}
}

func card(s account.Side, id string) account.PersonalIDCardUploaded {
	return account.PersonalIDCardUploaded{Side: s, File: account.File{SHA256: "ab", Size: 1, MediaType: "image/jpeg"},
		Recognized: account.IDCardFields{Name: "张三", IDNumber: id}, Recognizer: "ocr", UploadedAt: t1}
}

func left(n int) *int { return &n }

// TestPersonalVerificationIsProjected follows three accounts: verified by
// phone with platform roles, half-way through with a burnt code and a
// failed face scan, and waiting for a code. Then it scans every key and
// field written for full phone and ID numbers.
func TestPersonalVerificationIsProjected(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.append("a1", append(reg("a1", account.Phone, "13800138000"),
		card(account.Portrait, id1), card(account.Emblem, ""),
		account.PersonalCheckFailed{Method: account.MethodPhone, Step: "carrier", Reason: "carrier_mismatch", Detail: "phone 139****9000", FailedAt: t1},
		account.PersonalCarrierCheckPassed{Name: "张三", IDNumber: id1, Phone: "13700137000", CheckedAt: t1},
		account.PersonalCheckFailed{Method: account.MethodPhone, Step: "code", Reason: "invalid_code", Detail: "phone 137****7000", AttemptsLeft: left(2), FailedAt: t1},
		account.PersonVerified{Name: "张三", IDNumber: id1, Method: account.MethodPhone, VerifiedAt: t1},
		account.ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "personal_verified", GrantedAt: t1},
		account.PlatformRoleGranted{Role: account.PlatformOperator, GrantedBy: "root", GrantedAt: t1},
		account.PlatformRoleGranted{Role: account.PlatformAuditor, GrantedBy: "root", GrantedAt: t1},
	)...)
	w.append("a2", append(reg("a2", account.Email, "alice@example.com"),
		card(account.Portrait, id2), card(account.Emblem, ""),
		account.PersonalCarrierCheckPassed{Name: "张三", IDNumber: id2, Phone: "13600136000", CheckedAt: t1},
		account.PersonalCheckFailed{Method: account.MethodPhone, Step: "code", Reason: "code_attempts_exhausted", AttemptsLeft: left(0), FailedAt: t1},
		account.PersonalFaceScanStarted{SessionID: "s1", Name: "张三", IDNumber: id2, Attempt: 2, QRURL: "https://face.example/s1", ExpiresAt: t1, StartedAt: t1},
		account.PersonalCheckFailed{Method: account.MethodFace, Step: "face", Reason: "face_mismatch", Detail: "session s1", SessionID: "s1", FailedAt: t1.Add(time.Minute)},
	)...)
	w.append("a3", append(reg("a3", account.Phone, "13500135000"),
		account.PersonalCarrierCheckPassed{Name: "张三", IDNumber: id2, Phone: "13400134000", CheckedAt: t1},
	)...)
	// a4 stays waiting for its code to the end, so the scan meets a pending phone.
	w.append("a4", append(reg("a4", account.Phone, "13200132000"),
		account.PersonalCarrierCheckPassed{Name: "张三", IDNumber: id1, Phone: "13300133000", CheckedAt: t1},
	)...)
	w.catchUp()

	r := accounts.Reader{DB: w.db}
	consents := accounts.Consents{PrivacyPolicy: true, PrivacyPolicyVersion: "2026-11"}
	verifiedAt := t1
	want := map[string]accounts.Profile{
		"a1": {ID: "a1", Login: "138****8000", LoginKind: "phone", Name: "张三", Company: "无", RegisteredAt: t1, Consents: consents,
			Verification: accounts.Verification{Verified: true, Name: "张三", IDNumber: "110*****02X", Method: "phone", VerifiedAt: &verifiedAt},
			Quota:        accounts.Quota{PersonalContracts: 10, Left: 10}, PlatformRoles: []string{"auditor", "operator"}},
		"a2": {ID: "a2", Login: "a***@example.com", LoginKind: "email", Name: "张三", Company: "无", RegisteredAt: t1, Consents: consents,
			Verification: accounts.Verification{Pending: &accounts.Pending{IDCardSides: []string{"portrait", "emblem"}, FaceAttempt: 2, FaceDay: "2026-12-01",
				LastFailure: &accounts.Failure{Method: "face", Step: "face", Reason: "face_mismatch", At: t1.Add(time.Minute)}}},
			Quota: accounts.Quota{PersonalContracts: 5, Left: 5}, PlatformRoles: []string{}},
		"a3": {ID: "a3", Login: "135****5000", LoginKind: "phone", Name: "张三", Company: "无", RegisteredAt: t1, Consents: consents,
			Verification: accounts.Verification{Pending: &accounts.Pending{IDCardSides: []string{}, Phone: "134****4000"}},
			Quota:        accounts.Quota{PersonalContracts: 5, Left: 5}, PlatformRoles: []string{}},
	}
	for id, wp := range want {
		p, err := r.Profile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, wp) {
			g, _ := json.Marshal(p)
			x, _ := json.Marshal(wp)
			t.Errorf("%s:\n got %s\nwant %s", id, g, x)
		}
	}

	// The /me shape of a verified account.
	p, _ := r.Profile(ctx, "a1")
	got, _ := json.Marshal(p)
	const wantJSON = `{"id":"a1","login":"138****8000","login_kind":"phone","name":"张三","company":"无","registered_at":"2026-11-30T20:00:00Z",` +
		`"consents":{"privacy_policy":true,"privacy_policy_version":"2026-11","phone_followup":false},` +
		`"verification":{"verified":true,"name":"张三","id_number":"110*****02X","method":"phone","verified_at":"2026-11-30T20:00:00Z"},` +
		`"quota":{"personal_contracts":10,"used":0,"left":10},"platform_roles":["auditor","operator"]}`
	if string(got) != wantJSON {
		t.Errorf("JSON\n got %s\nwant %s", got, wantJSON)
	}

	for _, c := range []struct {
		id, role string
		want     bool
	}{{"a1", "operator", true}, {"a1", "auditor", true}, {"a2", "operator", false}, {"nobody", "operator", false}, {"a1", "", false}} {
		if ok, err := r.HasPlatformRole(ctx, c.id, c.role); err != nil || ok != c.want {
			t.Errorf("HasPlatformRole(%s, %s) = %v, %v", c.id, c.role, ok, err)
		}
	}

	// Later events: a revoked role, a verification by face, and a
	// redelivered catch-up must not count the quota twice.
	w.append("a1", account.PlatformRoleRevoked{Role: account.PlatformAuditor, RevokedBy: "root", RevokedAt: t1})
	w.append("a3",
		account.PersonalFaceScanStarted{SessionID: "s2", Name: "张三", IDNumber: id2, Attempt: 1, QRURL: "https://face.example/s2", ExpiresAt: t1, StartedAt: t1},
		account.PersonalFaceVerified{SessionID: "s2", Score: 0.9, VerifiedAt: t1},
		account.PersonVerified{Name: "张三", IDNumber: id2, Method: account.MethodFace, VerifiedAt: t1},
		account.ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "personal_verified", GrantedAt: t1},
	)
	w.catchUp()
	w.catchUp()
	if ok, _ := r.HasPlatformRole(ctx, "a1", "auditor"); ok {
		t.Error("revoked role still held")
	}
	if ok, _ := r.HasPlatformRole(ctx, "a1", "operator"); !ok {
		t.Error("revoking auditor lost operator")
	}
	p3, _ := r.Profile(ctx, "a3")
	if v := p3.Verification; !v.Verified || v.Method != "face" || v.IDNumber != "330*****236" || v.Pending != nil || p3.Quota.PersonalContracts != 10 {
		t.Errorf("a3 after face verification: %+v", p3)
	}

	if p4, _ := r.Profile(ctx, "a4"); p4.Verification.Pending == nil || p4.Verification.Pending.Phone != "133****3000" {
		t.Errorf("a4 %+v", p4.Verification)
	}
	scanForSecrets(t, w.db, "13800138000", "13700137000", "13600136000", "13500135000", "13400134000", "13300133000", "13200132000", "alice@example.com",
		id1, id2, "19491231", "19900307", "argon2")
}

// scanForSecrets reads every key under the test's prefix, whatever its
// type, and fails on any key, field, member or value holding a secret.
func scanForSecrets(t *testing.T, db *redisdb.DB, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	it := db.Scan(ctx, 0, db.Prefix+"*", 100).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) < 4 {
		t.Fatalf("only %d keys written: %v", len(keys), keys)
	}
	seen := 0
	for _, k := range keys {
		texts := []string{k}
		typ, err := db.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "hash":
			m, err := db.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				texts = append(texts, f, v)
			}
		case "set":
			ms, err := db.SMembers(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, ms...)
		case "string":
			texts = append(texts, db.Get(ctx, k).Val())
		case "list":
			texts = append(texts, db.LRange(ctx, k, 0, -1).Val()...)
		case "zset":
			texts = append(texts, db.ZRange(ctx, k, 0, -1).Val()...)
		default:
			t.Fatalf("key %s of unexpected type %s", k, typ)
		}
		for _, s := range texts {
			seen++
			for _, secret := range secrets {
				if strings.Contains(strings.ToUpper(s), strings.ToUpper(secret)) {
					t.Errorf("key %s holds %q in %q", k, secret, s)
				}
			}
		}
	}
	if seen < 50 {
		t.Fatalf("scanned only %d strings", seen)
	}
}

func TestHandleRefusesAccountEventsElsewhere(t *testing.T) {
	n, err := account.NewEvent("e1", account.PersonVerified{Name: "张三", IDNumber: id1, Method: account.MethodFace, VerifiedAt: t1}, event.Metadata{OccurredAt: t1})
	if err != nil {
		t.Fatal(err)
	}
	env := event.Envelope{Stream: "enterprise-e1", Version: 1, Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta}
	if ops, err := (accounts.Projection{}).Handle(context.Background(), env); err == nil {
		t.Fatalf("projected %v from another stream", ops)
	}
	env.Stream = "account-a1"
	ops, err := (accounts.Projection{}).Handle(context.Background(), env)
	if err != nil || len(ops) != 2 {
		t.Fatalf("ops %v, %v", ops, err)
	}
	for _, op := range ops {
		if op.Key != "account:a1" {
			t.Errorf("op on %s", op.Key)
		}
	}
	face, _ := account.NewEvent("e2", account.PersonalFaceVerified{SessionID: "s1", VerifiedAt: t1}, event.Metadata{OccurredAt: t1})
	env.Type, env.Data = face.Type, face.Data
	if ops, err := (accounts.Projection{}).Handle(context.Background(), env); err != nil || ops != nil {
		t.Fatalf("PersonalFaceVerified changes no profile: %v %v", ops, err)
	}
}
