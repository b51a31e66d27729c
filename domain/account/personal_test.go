package account

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

const (
	idNumber = "11010519491231002X"
	phone    = "13800138000"
)

var (
	at       = t0.Truncate(time.Microsecond)
	card     = File{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 2048, MediaType: "image/jpeg"}
	portrait = PersonalIDCardUploaded{Side: Portrait, File: card, Recognized: IDCardFields{Name: "张三", IDNumber: idNumber},
		Recognizer: "ocr-test", UploadedAt: at}
	emblem = PersonalIDCardUploaded{Side: Emblem, File: card, Recognized: IDCardFields{Authority: "北京市公安局朝阳分局",
		ValidFrom: "2020.01.01", ValidUntil: "2040.01.01"}, Recognizer: "ocr-test", UploadedAt: at}
	carrierPassed = PersonalCarrierCheckPassed{Name: "张三", IDNumber: idNumber, Phone: phone, CheckedAt: at}
	faceStarted   = PersonalFaceScanStarted{SessionID: "s1", Name: "张三", IDNumber: idNumber, Attempt: 1, QRURL: "https://face.example/s1",
		ExpiresAt: at.Add(5 * time.Minute), StartedAt: at}
	verifiedByPhone = PersonVerified{Name: "张三", IDNumber: idNumber, Method: MethodPhone, VerifiedAt: at}
	verifiedQuota   = ContractQuotaGranted{Kind: "personal", Amount: 5, Reason: "personal_verified", GrantedAt: at}
	// nextDay is 2026-12-01 00:00 in Shanghai, t0 being 16:00 there.
	untilNextDay = time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC).Sub(t0)
	dayStart     = time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC) // 2026-11-30 00:00 in Shanghai
)

func intp(n int) *int { return &n }

// outcome is what a decision returns: the events it decides and, for a
// refusal, the fault code, kind and field (or "error" for a programming
// error). A refusal may decide events that record it.
type outcome struct {
	want  []Event
	err   string
	kind  fault.Kind
	field string
	retry time.Duration
}

type decision struct {
	name   string
	given  []Event
	decide func(*Account) ([]Event, error)
	outcome
	check func(*testing.T, *Account) // state after applying what was decided
}

func given(es ...Event) []Event { return append([]Event{registered(), registrationQuota()}, es...) }

func runDecisions(t *testing.T, cases []decision) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Account{}
			for _, e := range tc.given {
				if err := a.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tc.decide(a)
			switch {
			case tc.err == "error":
				if err == nil {
					t.Fatalf("events %v, want error", got)
				}
				if _, isFault := fault.As(err); isFault {
					t.Fatalf("programming error reported as refusal: %v", err)
				}
			case tc.err != "":
				f, ok := fault.As(err)
				if !ok || f.Code != tc.err || f.Kind != tc.kind || f.Field != tc.field || f.RetryAfter != tc.retry {
					t.Fatalf("error %#v, want %s kind %d field %q retry %v", err, tc.err, tc.kind, tc.field, tc.retry)
				}
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if tc.err != "error" && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events\n got %#v\nwant %#v", got, tc.want)
			}
			applied := 0
			for _, e := range got {
				if _, ledger := e.(PersonalQuotaUsed); ledger {
					continue // appended to the quota ledger, not to the account
				}
				if err := a.Apply(e); err != nil {
					t.Fatal(err)
				}
				applied++
			}
			if a.Version() != uint64(len(tc.given)+applied) {
				t.Fatalf("version %d after %d+%d events", a.Version(), len(tc.given), applied)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

func TestUploadIDCard(t *testing.T) {
	upload := func(s Side, f File) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) {
			var rec IDCardFields
			if s == Portrait {
				rec = IDCardFields{Name: "张三", IDNumber: idNumber}
			} else if s == Emblem {
				rec = emblem.Recognized
			}
			return a.UploadIDCard(s, f, rec, "ocr-test", t0)
		}
	}
	runDecisions(t, []decision{
		{name: "portrait", given: given(), decide: upload(Portrait, card), outcome: outcome{want: []Event{portrait}},
			check: func(t *testing.T, a *Account) {
				if c, ok := a.IDCard(Portrait); !ok || c.Recognized.IDNumber != idNumber {
					t.Errorf("portrait %+v %v", c, ok)
				}
				if _, ok := a.IDCard(Emblem); ok {
					t.Error("emblem uploaded")
				}
			}},
		{name: "emblem", given: given(portrait), decide: upload(Emblem, card), outcome: outcome{want: []Event{emblem}}},
		{name: "again replaces", given: given(portrait), decide: upload(Portrait, File{SHA256: "ab", Size: 1, MediaType: "image/png"}),
			outcome: outcome{want: []Event{PersonalIDCardUploaded{Side: Portrait, File: File{SHA256: "ab", Size: 1, MediaType: "image/png"},
				Recognized: portrait.Recognized, Recognizer: "ocr-test", UploadedAt: at}}},
			check: func(t *testing.T, a *Account) {
				if c, _ := a.IDCard(Portrait); c.File.SHA256 != "ab" {
					t.Errorf("latest upload not kept: %+v", c)
				}
			}},
		{name: "bad side", given: given(), decide: upload("back", card), outcome: outcome{err: "invalid_side", kind: fault.Invalid, field: "side"}},
		{name: "no file", given: given(), decide: upload(Portrait, File{}), outcome: outcome{err: "error"}},
		{name: "not registered", decide: upload(Portrait, card), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
		{name: "verified", given: given(verifiedByPhone), decide: upload(Portrait, card),
			outcome: outcome{err: "already_verified", kind: fault.Conflict}},
	})
}

func TestCheckCarrier(t *testing.T) {
	check := func(name, id, ph string, match bool, reason string) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.CheckCarrier(name, id, ph, match, reason, t0) }
	}
	ok := func(name, id, ph string) func(*Account) ([]Event, error) { return check(name, id, ph, true, "") }
	mismatch := func(reason string) []Event {
		return []Event{PersonalCheckFailed{Method: MethodPhone, Step: "carrier", Reason: reason, Detail: "phone 138****8000", FailedAt: at}}
	}
	runDecisions(t, []decision{
		{name: "passes, input normalised", given: given(portrait, emblem), decide: ok(" 张 三 ", "11010519491231002x", "+86 138-0013-8000"),
			outcome: outcome{want: []Event{carrierPassed}},
			check: func(t *testing.T, a *Account) {
				if p := a.PendingCarrier(); p == nil || *p != carrierPassed {
					t.Errorf("pending %+v", p)
				}
				if a.Verified() {
					t.Error("verified before the code")
				}
			}},
		{name: "a new check replaces the pending one", given: given(portrait, emblem, carrierPassed), decide: ok("张三", idNumber, "13900139000"),
			outcome: outcome{want: []Event{PersonalCarrierCheckPassed{Name: "张三", IDNumber: idNumber, Phone: "13900139000", CheckedAt: at}}},
			check: func(t *testing.T, a *Account) {
				if a.PendingCarrier().Phone != "13900139000" {
					t.Errorf("pending %+v", a.PendingCarrier())
				}
			}},
		{name: "mismatch recorded and refused", given: given(portrait, emblem), decide: check("张三", idNumber, phone, false, ""),
			outcome: outcome{want: mismatch("carrier_mismatch"), err: "carrier_mismatch", kind: fault.Rule, field: "phone"},
			check: func(t *testing.T, a *Account) {
				if a.PendingCarrier() != nil {
					t.Error("a mismatch left a pending check")
				}
			}},
		{name: "mismatch keeps the carrier's reason", given: given(portrait, emblem), decide: check("张三", idNumber, phone, false, "phone_not_owner"),
			outcome: outcome{want: mismatch("phone_not_owner"), err: "carrier_mismatch", kind: fault.Rule, field: "phone"}},
		{name: "no ID card", given: given(), decide: ok("张三", idNumber, phone),
			outcome: outcome{err: "id_card_required", kind: fault.Rule, field: "id_card"}},
		{name: "no emblem side", given: given(portrait), decide: ok("张三", idNumber, phone),
			outcome: outcome{err: "id_card_required", kind: fault.Rule, field: "id_card"}},
		{name: "no name", given: given(portrait, emblem), decide: ok(" ", idNumber, phone),
			outcome: outcome{err: "name_empty", kind: fault.Invalid, field: "name"}},
		{name: "bad name", given: given(portrait, emblem), decide: ok("张3", idNumber, phone),
			outcome: outcome{err: "name_character", kind: fault.Invalid, field: "name"}},
		{name: "bad check digit", given: given(portrait, emblem), decide: ok("张三", "110105194912310021", phone),
			outcome: outcome{err: "id_number_check", kind: fault.Invalid, field: "id_number"}},
		{name: "short ID number", given: given(portrait, emblem), decide: ok("张三", "110105491231002", phone),
			outcome: outcome{err: "id_number_length", kind: fault.Invalid, field: "id_number"}},
		{name: "bad phone", given: given(portrait, emblem), decide: ok("张三", idNumber, "12800138000"),
			outcome: outcome{err: "invalid_phone", kind: fault.Invalid, field: "phone"}},
		{name: "mismatch with bad input is a 400, nothing recorded", given: given(portrait, emblem), decide: check("张三", idNumber, "1380013", false, ""),
			outcome: outcome{err: "invalid_phone", kind: fault.Invalid, field: "phone"}},
		{name: "verified", given: given(portrait, emblem, verifiedByPhone), decide: ok("张三", idNumber, phone),
			outcome: outcome{err: "already_verified", kind: fault.Conflict}},
		{name: "not registered", decide: ok("张三", idNumber, phone), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
	})
}

func TestConfirmPhone(t *testing.T) {
	wrong := fault.New(fault.Invalid, "invalid_code", "That code is wrong.").OnField("code")
	confirm := func(codeErr error, left int) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.ConfirmPhone(codeErr, left, t0) }
	}
	failed := func(reason string, left int) []Event {
		return []Event{PersonalCheckFailed{Method: MethodPhone, Step: "code", Reason: reason, Detail: "phone 138****8000", AttemptsLeft: intp(left), FailedAt: at}}
	}
	pending := given(portrait, emblem, carrierPassed)
	runDecisions(t, []decision{
		{name: "right code verifies and grants", given: pending, decide: confirm(nil, 2),
			outcome: outcome{want: []Event{verifiedByPhone, verifiedQuota}},
			check: func(t *testing.T, a *Account) {
				if !a.Verified() || a.VerifiedName() != "张三" || a.VerifiedIDNumber() != idNumber || a.Verification().Method != MethodPhone ||
					a.Quota() != RegistrationQuota+PersonalVerificationQuota || a.PendingCarrier() != nil {
					t.Errorf("state %+v", a)
				}
			}},
		{name: "wrong code recorded and returned", given: pending, decide: confirm(wrong, 2),
			outcome: outcome{want: failed("invalid_code", 2), err: "invalid_code", kind: fault.Invalid, field: "code"},
			check: func(t *testing.T, a *Account) {
				if a.PendingCarrier() == nil || a.Verified() {
					t.Error("a wrong code with attempts left must keep the pending check")
				}
			}},
		{name: "burnt code ends the pending check", given: pending, decide: confirm(wrong, 0),
			outcome: outcome{want: failed("invalid_code", 0), err: "invalid_code", kind: fault.Invalid, field: "code"},
			check: func(t *testing.T, a *Account) {
				if a.PendingCarrier() != nil {
					t.Error("pending check survived a burnt code")
				}
			}},
		{name: "after a burnt code", given: append(pending, failed("invalid_code", 0)...), decide: confirm(nil, 2),
			outcome: outcome{err: "code_not_requested", kind: fault.Rule}},
		{name: "no carrier check", given: given(portrait, emblem), decide: confirm(nil, 2),
			outcome: outcome{err: "code_not_requested", kind: fault.Rule}},
		{name: "verified", given: append(pending, verifiedByPhone), decide: confirm(nil, 2),
			outcome: outcome{err: "already_verified", kind: fault.Conflict}},
		{name: "not registered", decide: confirm(nil, 2), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
	})

	// A code store error that is not a refusal is recorded as wrong_code
	// and comes back as it is; with no count of tries left (-1), the
	// pending check stays.
	a := &Account{}
	for _, e := range pending {
		a.Apply(e)
	}
	boom := errors.New("code store down")
	got, err := a.ConfirmPhone(boom, -1, t0)
	want := []Event{PersonalCheckFailed{Method: MethodPhone, Step: "code", Reason: "wrong_code", Detail: "phone 138****8000", FailedAt: at}}
	if err != boom || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v", got, err)
	}
	for _, e := range got {
		a.Apply(e)
	}
	if a.PendingCarrier() == nil {
		t.Fatal("a wrong code of unknown tries left ended the pending check")
	}
}

func TestFace(t *testing.T) {
	checkStart := func(name, id string, attempt int) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.CheckFaceStart(name, id, attempt, t0) }
	}
	start := func(session string, attempt int) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) {
			return a.StartFace(" 张三", "11010519491231002x", session, "https://face.example/"+session, t0.Add(5*time.Minute), attempt, t0)
		}
	}
	result := func(session string, passed bool, reason string) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.FaceResult(session, passed, 0.93, reason, t0) }
	}
	limit := []Event{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_daily_limit", Detail: "attempt 4 of 3 today",
		AttemptsLeft: intp(0), FailedAt: at}}
	faceFailed := PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_mismatch", Detail: "session s1", SessionID: "s1", FailedAt: at}
	faceVerified := PersonalFaceVerified{SessionID: "s1", Score: 0.93, VerifiedAt: at}
	byFace := PersonVerified{Name: "张三", IDNumber: idNumber, Method: MethodFace, VerifiedAt: at}
	done := func(want bool) func(*testing.T, *Account) {
		return func(t *testing.T, a *Account) {
			if _, d, ok := a.FaceSession("s1"); !ok || d != want {
				t.Errorf("session s1 done %v exists %v, want done %v", d, ok, want)
			}
		}
	}
	runDecisions(t, []decision{
		{name: "check start: allowed", given: given(portrait, emblem), decide: checkStart("张三", idNumber, 3)},
		{name: "check start: needs the ID card", given: given(portrait), decide: checkStart("张三", idNumber, 1),
			outcome: outcome{err: "id_card_required", kind: fault.Rule, field: "id_card"}},
		{name: "check start: fourth attempt today", given: given(portrait, emblem), decide: checkStart("张三", idNumber, 4),
			outcome: outcome{want: limit, err: "face_daily_limit", kind: fault.RateLimited, retry: untilNextDay}},
		{name: "check start: bad ID number", given: given(portrait, emblem), decide: checkStart("张三", "110105194912310021", 1),
			outcome: outcome{err: "id_number_check", kind: fault.Invalid, field: "id_number"}},
		{name: "check start: born tomorrow", given: given(portrait, emblem), decide: checkStart("张三", "110105202612010018", 1),
			outcome: outcome{err: "id_number_birth_date", kind: fault.Invalid, field: "id_number"}},
		{name: "check start: bad name", given: given(portrait, emblem), decide: checkStart("", idNumber, 1),
			outcome: outcome{err: "name_empty", kind: fault.Invalid, field: "name"}},
		{name: "check start: verified", given: given(portrait, emblem, verifiedByPhone), decide: checkStart("张三", idNumber, 1),
			outcome: outcome{err: "already_verified", kind: fault.Conflict}},
		{name: "check start: not registered", decide: checkStart("张三", idNumber, 1), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},

		{name: "start", given: given(portrait, emblem), decide: start("s1", 1), outcome: outcome{want: []Event{faceStarted}},
			check: func(t *testing.T, a *Account) {
				s, d, ok := a.FaceSession("s1")
				if !ok || d || s != faceStarted || a.FaceAttemptsOn(t0) != 1 || a.FaceAttemptsOn(t0.Add(8*time.Hour)) != 0 ||
					a.FaceAttemptsOn(dayStart) != 1 || a.FaceAttemptsOn(dayStart.Add(-time.Nanosecond)) != 0 {
					t.Errorf("session %+v done %v ok %v, attempts %d", s, d, ok, a.FaceAttemptsOn(t0))
				}
				if _, _, ok := a.FaceSession("s2"); ok {
					t.Error("unknown session found")
				}
			}},
		{name: "start over the limit records nothing", given: given(portrait, emblem), decide: start("s1", 4),
			outcome: outcome{err: "face_daily_limit", kind: fault.RateLimited, retry: untilNextDay}},
		{name: "start an existing session", given: given(portrait, emblem, faceStarted), decide: start("s1", 2), outcome: outcome{err: "error"}},
		{name: "start without session", given: given(portrait, emblem), decide: start("", 1), outcome: outcome{err: "error"}},
		{name: "start attempt 0", given: given(portrait, emblem), decide: start("s1", 0), outcome: outcome{err: "error"}},

		{name: "passed verifies and grants", given: given(portrait, emblem, faceStarted), decide: result("s1", true, ""),
			outcome: outcome{want: []Event{faceVerified, byFace, verifiedQuota}},
			check: func(t *testing.T, a *Account) {
				done(true)(t, a)
				if !a.Verified() || a.Verification().Method != MethodFace || a.VerifiedIDNumber() != idNumber || a.Quota() != 10 {
					t.Errorf("state %+v", a)
				}
			}},
		{name: "failed recorded, no error", given: given(portrait, emblem, faceStarted), decide: result("s1", false, ""),
			outcome: outcome{want: []Event{faceFailed}},
			check: func(t *testing.T, a *Account) {
				done(true)(t, a)
				if a.Verified() || a.Quota() != 5 {
					t.Error("a failed scan verified")
				}
			}},
		{name: "failed keeps the provider's reason", given: given(portrait, emblem, faceStarted), decide: result("s1", false, "liveness_failed"),
			outcome: outcome{want: []Event{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "liveness_failed", Detail: "session s1",
				SessionID: "s1", FailedAt: at}}}},
		{name: "passed after verification by phone only records the scan", given: given(portrait, emblem, faceStarted, verifiedByPhone, verifiedQuota),
			decide: result("s1", true, ""), outcome: outcome{want: []Event{faceVerified}},
			check: func(t *testing.T, a *Account) {
				if a.Verification().Method != MethodPhone || a.Quota() != 10 {
					t.Errorf("verification replaced or quota granted twice: %+v quota %d", a.Verification(), a.Quota())
				}
			}},
		{name: "unknown session", given: given(portrait, emblem, faceStarted), decide: result("s2", true, ""),
			outcome: outcome{err: "face_session_not_found", kind: fault.NotFound}},
		{name: "session finished by a pass", given: given(portrait, emblem, faceStarted, faceVerified), decide: result("s1", true, ""),
			outcome: outcome{err: "face_session_finished", kind: fault.Conflict}},
		{name: "session finished by a failure", given: given(portrait, emblem, faceStarted, faceFailed), decide: result("s1", true, ""),
			outcome: outcome{err: "face_session_finished", kind: fault.Conflict}},
		{name: "result not registered", decide: result("s1", true, ""), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
	})
}

func TestPlatformRoles(t *testing.T) {
	granted := PlatformRoleGranted{Role: PlatformOperator, GrantedBy: otherID, GrantedAt: at}
	revoked := PlatformRoleRevoked{Role: PlatformOperator, RevokedBy: otherID, RevokedAt: at}
	grant := func(r, by string) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.GrantPlatformRole(r, by, t0) }
	}
	revoke := func(r, by string) func(*Account) ([]Event, error) {
		return func(a *Account) ([]Event, error) { return a.RevokePlatformRole(r, by, t0) }
	}
	holds := func(want bool) func(*testing.T, *Account) {
		return func(t *testing.T, a *Account) {
			if a.HasPlatformRole(PlatformOperator) != want || a.HasPlatformRole(PlatformAuditor) {
				t.Errorf("operator %v auditor %v", a.HasPlatformRole(PlatformOperator), a.HasPlatformRole(PlatformAuditor))
			}
		}
	}
	runDecisions(t, []decision{
		{name: "grant", given: given(), decide: grant(PlatformOperator, otherID), outcome: outcome{want: []Event{granted}}, check: holds(true)},
		{name: "grant held role", given: given(granted), decide: grant(PlatformOperator, otherID), check: holds(true)},
		{name: "grant auditor too", given: given(granted), decide: grant(PlatformAuditor, otherID),
			outcome: outcome{want: []Event{PlatformRoleGranted{Role: PlatformAuditor, GrantedBy: otherID, GrantedAt: at}}},
			check: func(t *testing.T, a *Account) {
				if !a.HasPlatformRole(PlatformOperator) || !a.HasPlatformRole(PlatformAuditor) {
					t.Error("roles lost")
				}
			}},
		{name: "grant unknown role", given: given(), decide: grant("admin", otherID), outcome: outcome{err: "invalid_role", kind: fault.Invalid, field: "role"}},
		{name: "grant by nobody", given: given(), decide: grant(PlatformOperator, ""), outcome: outcome{err: "error"}},
		{name: "grant not registered", decide: grant(PlatformOperator, otherID), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
		{name: "revoke", given: given(granted), decide: revoke(PlatformOperator, otherID), outcome: outcome{want: []Event{revoked}}, check: holds(false)},
		{name: "revoke not held", given: given(granted, revoked), decide: revoke(PlatformOperator, otherID), check: holds(false)},
		{name: "grant again after revoke", given: given(granted, revoked), decide: grant(PlatformOperator, otherID),
			outcome: outcome{want: []Event{granted}}, check: holds(true)},
		{name: "revoke unknown role", given: given(granted), decide: revoke("root", otherID), outcome: outcome{err: "invalid_role", kind: fault.Invalid, field: "role"}},
		{name: "revoke by nobody", given: given(granted), decide: revoke(PlatformOperator, ""), outcome: outcome{err: "error"}},
		{name: "revoke not registered", decide: revoke(PlatformOperator, otherID), outcome: outcome{err: "account_not_found", kind: fault.NotFound}},
	})
}

func TestApplyNeedsRegistration(t *testing.T) {
	for _, e := range []Event{registrationQuota(), portrait, carrierPassed, verifiedByPhone, faceStarted,
		PlatformRoleGranted{Role: PlatformOperator, GrantedBy: otherID, GrantedAt: at}} {
		if err := (&Account{}).Apply(e); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("%s on an empty account: %v", e.EventType(), err)
		}
	}
	a := &Account{}
	for _, e := range given() {
		a.Apply(e)
	}
	if err := a.Apply(PersonalFaceVerified{SessionID: "nope", VerifiedAt: at}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("face verified without a session: %v", err)
	}
}

// TestReplayPersonalHistory stores a whole life of an account and replays it.
func TestReplayPersonalHistory(t *testing.T) {
	history := given(portrait, emblem,
		PersonalCheckFailed{Method: MethodPhone, Step: "carrier", Reason: "carrier_mismatch", Detail: "phone 139****9000", FailedAt: at},
		carrierPassed,
		PersonalCheckFailed{Method: MethodPhone, Step: "code", Reason: "invalid_code", Detail: "phone 138****8000", AttemptsLeft: intp(0), FailedAt: at},
		faceStarted,
		PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_mismatch", Detail: "session s1", SessionID: "s1", FailedAt: at},
		PersonalFaceScanStarted{SessionID: "s2", Name: "张三", IDNumber: idNumber, Attempt: 2, QRURL: "https://face.example/s2", ExpiresAt: at, StartedAt: at},
		PersonalFaceVerified{SessionID: "s2", Score: 0.9, VerifiedAt: at},
		PersonVerified{Name: "张三", IDNumber: idNumber, Method: MethodFace, VerifiedAt: at},
		verifiedQuota,
		PlatformRoleGranted{Role: PlatformOperator, GrantedBy: otherID, GrantedAt: at},
		PlatformRoleGranted{Role: PlatformAuditor, GrantedBy: otherID, GrantedAt: at},
		PlatformRoleRevoked{Role: PlatformAuditor, RevokedBy: otherID, RevokedAt: at},
	)
	var envs []event.Envelope
	for i, e := range history {
		n, err := NewEvent("e", e, event.Metadata{Actor: accountID, OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, event.Envelope{Stream: StreamOf(accountID), Version: uint64(i + 1), Type: n.Type, Schema: n.Schema, Data: n.Data, Meta: n.Meta})
	}
	a, err := Replay(envs)
	if err != nil {
		t.Fatal(err)
	}
	s1, done1, _ := a.FaceSession("s1")
	_, done2, _ := a.FaceSession("s2")
	if a.Version() != uint64(len(history)) || !a.Verified() || a.VerifiedName() != "张三" || a.VerifiedIDNumber() != idNumber ||
		a.Verification().Method != MethodFace || a.Quota() != 10 || a.PendingCarrier() != nil || !done1 || !done2 || s1 != faceStarted ||
		a.FaceAttemptsOn(t0) != 2 || !a.HasPlatformRole(PlatformOperator) || a.HasPlatformRole(PlatformAuditor) {
		t.Fatalf("replayed %+v", a)
	}
	if c, ok := a.IDCard(Emblem); !ok || c != emblem {
		t.Fatalf("emblem %+v", c)
	}
	// Decisions on the replayed account see the verification.
	if _, err := a.UploadIDCard(Portrait, card, IDCardFields{}, "ocr", t0); err != ErrAlreadyVerified {
		t.Fatalf("upload after verification: %v", err)
	}
}

// TestPersonalEventJSON pins the stored shape of the personal events.
func TestPersonalEventJSON(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		typ  string
		json string
	}{
		{registrationQuota(), "PersonalQuotaGranted", `{"kind":"personal","amount":5,"reason":"registration","granted_at":"2026-11-30T08:00:00.123456Z"}`},
		{emblem, "PersonalIDCardUploaded", `{"side":"emblem","file":{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","size":2048,"media_type":"image/jpeg"},"recognized":{"authority":"北京市公安局朝阳分局","valid_from":"2020.01.01","valid_until":"2040.01.01"},"recognizer":"ocr-test","uploaded_at":"2026-11-30T08:00:00.123456Z"}`},
		{carrierPassed, "PersonalCarrierCheckPassed", `{"name":"张三","id_number":"11010519491231002X","phone":"13800138000","checked_at":"2026-11-30T08:00:00.123456Z"}`},
		{PersonalCheckFailed{Method: MethodPhone, Step: "code", Reason: "invalid_code", Detail: "phone 138****8000", AttemptsLeft: intp(0), FailedAt: at},
			"PersonalCheckFailed", `{"method":"phone","step":"code","reason":"invalid_code","detail":"phone 138****8000","attempts_left":0,"failed_at":"2026-11-30T08:00:00.123456Z"}`},
		{PersonalCheckFailed{Method: MethodFace, Step: "face", Reason: "face_mismatch", SessionID: "s1", FailedAt: at},
			"PersonalCheckFailed", `{"method":"face","step":"face","reason":"face_mismatch","session_id":"s1","failed_at":"2026-11-30T08:00:00.123456Z"}`},
		{faceStarted, "PersonalFaceScanStarted", `{"session_id":"s1","name":"张三","id_number":"11010519491231002X","attempt":1,"qr_url":"https://face.example/s1","expires_at":"2026-11-30T08:05:00.123456Z","started_at":"2026-11-30T08:00:00.123456Z"}`},
		{PersonalFaceVerified{SessionID: "s1", Score: 0.93, VerifiedAt: at}, "PersonalFaceVerified", `{"session_id":"s1","score":0.93,"verified_at":"2026-11-30T08:00:00.123456Z"}`},
		{verifiedByPhone, "PersonVerified", `{"name":"张三","id_number":"11010519491231002X","method":"phone","verified_at":"2026-11-30T08:00:00.123456Z"}`},
		{PlatformRoleGranted{Role: PlatformOperator, GrantedBy: otherID, GrantedAt: at}, "PlatformRoleGranted",
			`{"role":"operator","granted_by":"0b7e1d2c-4a5f-4c3e-8b9d-1e2f3a4b5c6d","granted_at":"2026-11-30T08:00:00.123456Z"}`},
		{PlatformRoleRevoked{Role: PlatformAuditor, RevokedBy: otherID, RevokedAt: at}, "PlatformRoleRevoked",
			`{"role":"auditor","revoked_by":"0b7e1d2c-4a5f-4c3e-8b9d-1e2f3a4b5c6d","revoked_at":"2026-11-30T08:00:00.123456Z"}`},
	} {
		typ, schema, data, err := Encode(tc.e)
		if err != nil {
			t.Fatal(err)
		}
		if typ != tc.typ || schema != 1 || string(data) != tc.json {
			t.Errorf("Encode(%T) = %s v%d %s\nwant %s v1 %s", tc.e, typ, schema, data, tc.typ, tc.json)
		}
		back, err := Decode(tc.typ, 1, []byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tc.e) {
			t.Errorf("Decode = %#v, want %#v", back, tc.e)
		}
	}
}

func TestFaceResultAfterExpiryProvesNothing(t *testing.T) {
	a := &Account{}
	for _, ev := range given(portrait, emblem, faceStarted) {
		if err := a.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	late := faceStarted.ExpiresAt.Add(FaceResultGrace + time.Second)
	got, err := a.FaceResult(faceStarted.SessionID, true, 0.99, "", late)
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	if f, ok := got[0].(PersonalCheckFailed); !ok || f.Reason != "face_session_expired" {
		t.Fatalf("decided %+v", got)
	}
}
