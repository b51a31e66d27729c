package enterprises

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"signet/domain/enterprise"
	"signet/domain/event"
)

func TestScrub(t *testing.T) {
	cases := []struct{ in, want string }{
		{"phone 13800138000", "phone 138****8000"},
		{"身份证 11010519491231002X 不符", "身份证 110*****02X 不符"},
		{"11010519491231002x", "110*****02X"},
		{"old card 440524198001010", "old card 440*****010"},
		{"call 138 0013 8000 now", "call 138****8000 now"},
		{"account 6214830123456789", "account ****6789"},
		{"acct 6214 8301 2345 6789.", "acct ****6789."},
		{"１３８００１３８０００", "138****8000"},
		{"deadline 2026-11-30 15:04:05", "deadline 2026-11-30 15:04:05"},
		{"entered 12 fen", "entered 12 fen"},
		{"attempt 4 of 3 today", "attempt 4 of 3 today"},
		{"code 123456", "code 123456"},
		{"paid 1.00 CNY; exactly 0.01 CNY is required", "paid 1.00 CNY; exactly 0.01 CNY is required"},
		{"", ""},
	}
	for _, c := range cases {
		if got := scrub(c.in); got != c.want {
			t.Errorf("scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// longestRun is the longest run of digits with single spaces between them,
// as scrub sees runs.
func longestRun(s string) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			n++
			best = max(best, n)
		case s[i] == ' ' && n > 0 && i+1 < len(s) && isDigit(s[i+1]):
		default:
			n = 0
		}
	}
	return best
}

func FuzzScrub(f *testing.F) {
	for _, s := range []string{"phone 13800138000", "11010519491231002X", "6214 8301 2345 6789", "１３８００１３８０００", "2026-11-30 15:04:05", "a1234567b 12345678901234567x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := scrub(s)
		if n := longestRun(out); n >= minDigitRun {
			t.Fatalf("scrub(%q) = %q keeps a run of %d digits", s, out, n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("scrub(%q) = %q is not UTF-8", s, out)
		}
		if again := scrub(out); again != out {
			t.Fatalf("scrub is not idempotent: %q -> %q -> %q", s, out, again)
		}
	})
}

// FuzzHandle feeds arbitrary payloads of every enterprise event type: the
// projection refuses or maps them, never panics, and only emits ops the
// projector accepts in shape.
func FuzzHandle(f *testing.F) {
	for _, ev := range sampleEvents() {
		typ, _, data, err := enterprise.Encode(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, data, uint64(2))
	}
	f.Add("Nonsense", []byte(`{}`), uint64(1))
	f.Fuzz(func(t *testing.T, typ string, data []byte, version uint64) {
		ops, err := Projection{}.Handle(context.Background(), event.Envelope{Stream: "enterprise-e1", Version: version, Type: typ, Schema: 1, Data: data})
		if err != nil {
			if ops != nil {
				t.Fatalf("ops with an error: %v", ops)
			}
			return
		}
		if len(ops) == 0 {
			t.Fatalf("%s: no ops (the version is always written)", typ)
		}
		for _, op := range ops {
			if !strings.HasPrefix(op.Key, "case:e1") && op.Key != "members:e1" && op.Key != "reviews:letters" && !strings.HasPrefix(op.Key, "account:") &&
				op.Key != "seals:e1" && op.Key != "approvers:e1" && !strings.HasPrefix(op.Key, "seal:e1:") && !strings.HasPrefix(op.Key, "grants:e1:") {
				t.Fatalf("op key %q", op.Key)
			}
			switch op.Cmd {
			case "HSET", "ZADD":
				if len(op.Args) == 0 || len(op.Args)%2 != 0 {
					t.Fatalf("%s %s with %d args", op.Cmd, op.Key, len(op.Args))
				}
			case "HDEL", "ZREM", "DEL", "HINCRBY", "SADD", "SREM":
			default:
				t.Fatalf("unexpected command %s", op.Cmd)
			}
			for _, a := range op.Args {
				switch a.(type) {
				case string, int, int64, bool, float64:
				default:
					t.Fatalf("argument of type %T", a)
				}
			}
		}
	})
}

func sampleEvents() []enterprise.Event {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	left := 1
	return []enterprise.Event{
		enterprise.EnterpriseCreated{EnterpriseID: "e1", CreatedBy: "a1", CreatedAt: at},
		enterprise.LicenseUploaded{File: enterprise.File{SHA256: "s", Size: 1, MediaType: "image/png"}, UploadedAt: at},
		enterprise.IDCardUploaded{Person: enterprise.Agent, Side: enterprise.Portrait, Recognized: enterprise.IDCardFields{IDNumber: "11010519491231002X"}, UploadedAt: at},
		enterprise.MaterialsSubmitted{Name: "n", LegalRepIDNumber: "11010519491231002X", SubmittedAt: at, ExpiresAt: at},
		enterprise.WillingnessMethodChosen{Method: enterprise.MethodLetter, ChosenAt: at},
		enterprise.WillingnessCheckFailed{Method: enterprise.MethodMicroDeposit, Step: "amount", Reason: "wrong_amount", AttemptsLeft: &left, FailedAt: at},
		enterprise.CarrierCheckPassed{Method: enterprise.MethodLetter, Phone: "13800138000", CheckedAt: at},
		enterprise.PhoneVerified{Method: enterprise.MethodLetter, Phone: "13800138000", VerifiedAt: at},
		enterprise.FaceScanStarted{Method: enterprise.MethodLegalRepFace, Person: enterprise.LegalRep, Attempt: 2, StartedAt: at},
		enterprise.FaceVerified{Method: enterprise.MethodLegalRepFace, VerifiedAt: at},
		enterprise.AuthorizationLetterGenerated{Reference: "r", GeneratedAt: at},
		enterprise.AuthorizationLetterUploaded{Reference: "r", UploadedAt: at, ReviewDue: at},
		enterprise.AuthorizationLetterApproved{Reference: "r", ReviewedAt: at},
		enterprise.AuthorizationLetterRejected{Reference: "r", Reason: "no", ReviewedAt: at},
		enterprise.MicroDepositRequested{TransferID: "t", Account: enterprise.BankAccount{AccountNumber: "6214830123456789"}, AmountFen: 37, RequestedAt: at},
		enterprise.MicroDepositFailed{TransferID: "t", Reason: "x", FailedAt: at},
		enterprise.MicroDepositConfirmed{TransferID: "t", ConfirmedAt: at},
		enterprise.ReverseDepositRequested{Reference: "r", AmountFen: 1, RequestedAt: at},
		enterprise.ReverseDepositMismatched{Statement: enterprise.StatementLine{PayerAccount: "6217000010012345678", AmountFen: 2}, Reason: "amount_mismatch", CheckedAt: at},
		enterprise.ReverseDepositMatched{MatchedAt: at},
		enterprise.EnterpriseVerified{Method: enterprise.MethodReverse, VerifiedAt: at},
		enterprise.ContractQuotaGranted{Kind: "enterprise", Amount: 10, GrantedAt: at},
		enterprise.MemberInvitationCreated{InvitationID: "i", CreatedAt: at},
		enterprise.MemberJoined{AccountID: "a2", Role: enterprise.Member, JoinedAt: at},
		enterprise.MemberRoleChanged{AccountID: "a2", Role: enterprise.Admin, ChangedAt: at},
		enterprise.MemberRemoved{AccountID: "a2", RemovedAt: at},
		enterprise.SealCreated{SealID: "s1", Name: "合同专用章", File: enterprise.File{SHA256: "s", Size: 1, MediaType: "image/png"}, CreatedBy: "a1", CreatedAt: at},
		enterprise.SealUseGranted{SealID: "s1", AccountID: "a2", GrantedBy: "a1", GrantedAt: at},
		enterprise.SealUseRevoked{SealID: "s1", AccountID: "a2", RevokedBy: "a1", RevokedAt: at},
		enterprise.SealDisabled{SealID: "s1", DisabledBy: "a1", DisabledAt: at},
		enterprise.ApprovalPolicySet{Required: true, Approvers: []string{"a1", "a2"}, SetBy: "a1", SetAt: at},
		enterprise.ContractQuotaUsed{ContractID: "c1", UsedBy: "a2", UsedAt: at},
	}
}

// Every event type of the stream maps to ops that keep the version, and
// the masked fields stay masked whatever the payload.
func TestHandleEveryType(t *testing.T) {
	for _, ev := range sampleEvents() {
		typ, schema, data, err := enterprise.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := Projection{}.Handle(context.Background(), event.Envelope{Stream: "enterprise-e1", Version: 7, Type: typ, Schema: schema, Data: data})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		raw, _ := json.Marshal(ops)
		for _, secret := range []string{"11010519491231002X", "13800138000", "6214830123456789", "6217000010012345678", `"amount_fen":37`} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s: ops hold %q: %s", typ, secret, raw)
			}
		}
		if !strings.Contains(string(raw), `"version","7"`) {
			t.Errorf("%s: version not written: %s", typ, raw)
		}
	}
}
