package enterprise

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"signet/domain/event"
	"signet/domain/fault"
)

var (
	t0      = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC) // Tuesday 10:00 in Shanghai
	creator = "0190a0d2-0000-7000-8000-000000000001"
	eid     = "0190a0d2-0000-7000-8000-0000000000e1"
	uscc    = "91350100M000100Y43"
	repID   = "11010519491231002X"
	agentID = idOf("11010519920304567")
	photo   = File{SHA256: strings.Repeat("a", 64), Size: 10, MediaType: "image/png"}
)

func ptr(n int) *int { return &n }

// idOf completes 17 digits with their GB 11643 check digit.
func idOf(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * weights[i]
	}
	return first17 + string("10X98765432"[sum%11])
}

// given builds an enterprise from events, as replay would.
func given(t *testing.T, evs ...Event) *Enterprise {
	t.Helper()
	e := New()
	for _, ev := range evs {
		if err := e.Apply(ev); err != nil {
			t.Fatalf("given %s: %v", ev.EventType(), err)
		}
	}
	return e
}

func created() Event { return EnterpriseCreated{EnterpriseID: eid, CreatedBy: creator, CreatedAt: t0} }

func uploads(p Person) []Event {
	return []Event{
		LicenseUploaded{File: photo, UploadedBy: creator, UploadedAt: t0},
		IDCardUploaded{Person: p, Side: Portrait, File: photo, UploadedBy: creator, UploadedAt: t0},
		IDCardUploaded{Person: p, Side: Emblem, File: photo, UploadedBy: creator, UploadedAt: t0},
	}
}

func submitted(p Person) Event {
	m := MaterialsSubmitted{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", LegalRepIDNumber: repID, Operator: p,
		PersonalData: Consent{Accepted: true, Version: "1"}, PhoneFollowup: Consent{Version: "1"},
		SubmittedBy: creator, SubmittedAt: t0, ExpiresAt: t0.Add(MaterialsValidFor)}
	if p == Agent {
		m.AgentName, m.AgentIDNumber = "林小明", agentID
	}
	return m
}

func ready(p Person, m Method) []Event {
	evs := append([]Event{created()}, uploads(p)...)
	return append(evs, submitted(p), WillingnessMethodChosen{Method: m, ChosenBy: creator, ChosenAt: t0})
}

func verifiedBy(m Method, at time.Time) []Event {
	return []Event{
		EnterpriseVerified{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", Method: m, MasterAdmin: creator, VerifiedAt: at},
		MemberJoined{AccountID: creator, Role: MasterAdmin, JoinedAt: at},
		ContractQuotaGranted{Kind: "enterprise", Amount: EnterpriseQuota, Reason: "enterprise_verified", GrantedAt: at},
	}
}

func cat(parts ...[]Event) []Event {
	var out []Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type decision func(e *Enterprise) ([]Event, error)

func TestDecisions(t *testing.T) {
	later := t0.Add(time.Hour)
	deposit := MicroDepositRequested{TransferID: "md.x.1", Account: BankAccount{Holder: "杭州井然食品贸易有限公司", Bank: "招商银行", Branch: "高新支行", Province: "浙江", City: "杭州", AccountNumber: "62148301"},
		AmountFen: 37, Deadline: t0.Add(MicroDepositValidFor), RequestedAt: t0}
	reverse := ReverseDepositRequested{Reference: "AB12CD34", PayerName: "杭州井然食品贸易有限公司", AmountFen: 1, PayTo: PlatformAccount{AccountNumber: "1045"},
		NotBefore: time.Date(2026, 12, 1, 0, 0, 0, 0, Shanghai), RequestedAt: t0}
	line := StatementLine{StatementID: "S1", PayerName: "杭州井然食品贸易有限公司", PayerAccountType: "corporate", AmountFen: 1, Currency: "CNY", PaidAt: later, PayeeAccount: "1045"}
	with := func(f func(*StatementLine)) StatementLine { l := line; f(&l); return l }
	face := FaceScanStarted{Method: MethodLegalRepFace, SessionID: "s1", Person: LegalRep, Name: "井然", IDNumber: repID, Attempt: 1, StartedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}

	tests := []struct {
		name    string
		given   []Event
		do      decision
		want    []Event
		errCode string
	}{
		{"submit needs the licence", []Event{created()},
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", LegalRepIDNumber: repID, Operator: LegalRep, AcceptPersonal: true, PolicyVersion: "1"}, t0)
			}, nil, "license_required"},
		{"submit refuses the seed's 20-character code", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{Name: "杭州井然食品贸易有限公司", USCC: "9141082736195979498G", LegalRepName: "井然", LegalRepIDNumber: repID, Operator: LegalRep, AcceptPersonal: true, PolicyVersion: "1"}, t0)
			}, nil, "uscc_length"},
		{"submit refuses the seed's ID number", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", LegalRepIDNumber: "123456199908041236", Operator: LegalRep, AcceptPersonal: true, PolicyVersion: "1"}, t0)
			}, nil, "id_number_check"},
		{"submit needs the consent", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", LegalRepIDNumber: repID, Operator: LegalRep, PolicyVersion: "1"}, t0)
			}, nil, "consent_required"},
		{"an agent needs the agent's ID card", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", Operator: Agent, AgentName: "林小明", AgentIDNumber: agentID, AcceptPersonal: true, PolicyVersion: "1"}, t0)
			}, nil, "id_card_required"},
		{"sole proprietor gets the special channel's name", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.Submit(creator, Materials{SoleProprietor: true, USCC: " 91350100m000100y43 ", LegalRepName: "张三", LegalRepIDNumber: repID, Operator: LegalRep, AcceptPersonal: true, PolicyVersion: "1"}, t0)
			}, []Event{MaterialsSubmitted{Name: "张三91350100M000100Y43", USCC: uscc, LegalRepName: "张三", LegalRepIDNumber: repID, Operator: LegalRep, SoleProprietor: true,
				PersonalData: Consent{Accepted: true, Version: "1"}, PhoneFollowup: Consent{Version: "1"}, SubmittedBy: creator, SubmittedAt: t0, ExpiresAt: t0.Add(MaterialsValidFor)}}, ""},
		{"the registry's refusal is recorded", cat([]Event{created()}, uploads(LegalRep)),
			func(e *Enterprise) ([]Event, error) {
				return e.RefuseMaterials(creator, submitted(LegalRep).(MaterialsSubmitted), "legal_rep_mismatch", later)
			}, []Event{MaterialsRefused{Name: "杭州井然食品贸易有限公司", USCC: uscc, LegalRepName: "井然", Reason: "legal_rep_mismatch", RefusedBy: creator, RefusedAt: later}}, "registry_mismatch"},
		{"only the creator runs the case", ready(LegalRep, MethodLegalRepPhone),
			func(e *Enterprise) ([]Event, error) { return e.ChooseMethod("someone-else", MethodLegalRepFace, t0) }, nil, "not_case_operator"},
		{"the letter needs an agent", cat([]Event{created()}, uploads(LegalRep), []Event{submitted(LegalRep)}),
			func(e *Enterprise) ([]Event, error) { return e.ChooseMethod(creator, MethodLetter, t0) }, nil, "agent_required"},
		{"lapsed materials", ready(LegalRep, MethodLegalRepPhone),
			func(e *Enterprise) ([]Event, error) {
				return e.CheckCarrier(creator, MethodLegalRepPhone, "13912345678", CarrierResult{Match: true}, t0.Add(MaterialsValidFor+time.Second))
			}, nil, "materials_expired"},
		{"carrier mismatch is recorded and refused", ready(LegalRep, MethodLegalRepPhone),
			func(e *Enterprise) ([]Event, error) {
				return e.CheckCarrier(creator, MethodLegalRepPhone, "13912340000", CarrierResult{Reason: "phone_not_owned"}, later)
			}, []Event{WillingnessCheckFailed{Method: MethodLegalRepPhone, Step: "carrier", Reason: "phone_not_owned", Detail: "phone 139****0000", FailedAt: later}}, "carrier_mismatch"},
		{"right code verifies", cat(ready(LegalRep, MethodLegalRepPhone), []Event{CarrierCheckPassed{Method: MethodLegalRepPhone, Person: LegalRep, Name: "井然", IDNumber: repID, Phone: "13912345678", CheckedAt: t0}}),
			func(e *Enterprise) ([]Event, error) {
				return e.ConfirmPhone(creator, MethodLegalRepPhone, nil, nil, later)
			},
			cat([]Event{PhoneVerified{Method: MethodLegalRepPhone, Person: LegalRep, Phone: "13912345678", VerifiedAt: later}}, verifiedBy(MethodLegalRepPhone, later)), ""},
		{"wrong code is recorded and refused", cat(ready(LegalRep, MethodLegalRepPhone), []Event{CarrierCheckPassed{Method: MethodLegalRepPhone, Person: LegalRep, Phone: "13912345678", CheckedAt: t0}}),
			func(e *Enterprise) ([]Event, error) {
				return e.ConfirmPhone(creator, MethodLegalRepPhone, fault.Invalidf("code", "invalid_code", "wrong"), nil, later)
			}, []Event{WillingnessCheckFailed{Method: MethodLegalRepPhone, Step: "code", Reason: "invalid_code", Detail: "phone 139****5678", FailedAt: later}}, "invalid_code"},
		{"fourth face scan of the day", ready(LegalRep, MethodLegalRepFace),
			func(e *Enterprise) ([]Event, error) { return e.CheckFaceStart(creator, MethodLegalRepFace, 4, later) },
			[]Event{WillingnessCheckFailed{Method: MethodLegalRepFace, Step: "face", Reason: "face_daily_limit", Detail: "attempt 4 of 3 today", AttemptsLeft: ptr(0), FailedAt: later}}, "face_daily_limit"},
		{"face passes", cat(ready(LegalRep, MethodLegalRepFace), []Event{face}),
			func(e *Enterprise) ([]Event, error) { return e.FaceResult("s1", true, 0.98, "", later) },
			cat([]Event{FaceVerified{Method: MethodLegalRepFace, SessionID: "s1", Person: LegalRep, Score: 0.98, VerifiedAt: later}}, verifiedBy(MethodLegalRepFace, later)), ""},
		{"face fails", cat(ready(LegalRep, MethodLegalRepFace), []Event{face}),
			func(e *Enterprise) ([]Event, error) { return e.FaceResult("s1", false, 0.2, "", later) },
			[]Event{WillingnessCheckFailed{Method: MethodLegalRepFace, Step: "face", Reason: "face_mismatch", Detail: "session s1", SessionID: "s1", FailedAt: later}}, ""},
		{"a failed session gets no second result", cat(ready(LegalRep, MethodLegalRepFace), []Event{face, WillingnessCheckFailed{Method: MethodLegalRepFace, Step: "face", SessionID: "s1"}}),
			func(e *Enterprise) ([]Event, error) { return e.FaceResult("s1", true, 1, "", later) }, nil, "face_session_finished"},
		{"a result long after the session expired proves nothing", cat(ready(LegalRep, MethodLegalRepFace), []Event{face}),
			func(e *Enterprise) ([]Event, error) { return e.FaceResult("s1", true, 0.99, "", t0.Add(3*time.Hour)) },
			[]Event{WillingnessCheckFailed{Method: MethodLegalRepFace, Step: "face", Reason: "face_session_expired", Detail: "session s1", SessionID: "s1", FailedAt: t0.Add(3 * time.Hour)}}, ""},
		{"an operator does not review their own enterprise", cat(ready(Agent, MethodLetter), []Event{
			PhoneVerified{Method: MethodLetter, Person: Agent, Phone: "13700137000"},
			AuthorizationLetterGenerated{Reference: "R1", File: photo}, AuthorizationLetterUploaded{Reference: "R1", File: photo}}),
			func(e *Enterprise) ([]Event, error) { return e.ReviewLetter(creator, true, "", later) }, nil, "reviewer_conflict"},
		{"a session gets one result", cat(ready(LegalRep, MethodLegalRepFace), []Event{face, FaceVerified{Method: MethodLegalRepFace, SessionID: "s1"}}),
			func(e *Enterprise) ([]Event, error) { return e.FaceResult("s1", true, 1, "", later) }, nil, "face_session_finished"},
		{"wrong amount", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit}),
			func(e *Enterprise) ([]Event, error) { return e.ConfirmMicroDeposit(creator, 36, later) },
			[]Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "amount", Reason: "wrong_amount", Detail: "entered 36 fen", AttemptsLeft: ptr(2), FailedAt: later}}, "wrong_amount"},
		{"deadline passed", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit}),
			func(e *Enterprise) ([]Event, error) {
				return e.ConfirmMicroDeposit(creator, 37, t0.Add(MicroDepositValidFor+time.Second))
			},
			[]Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "amount", Reason: "deposit_expired", Detail: "deadline 2026-12-04 10:00:00", AttemptsLeft: ptr(0), FailedAt: t0.Add(MicroDepositValidFor + time.Second)}}, "deposit_expired"},
		{"three wrong amounts exhaust the deposit", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit,
			WillingnessCheckFailed{Method: MethodMicroDeposit, Reason: "wrong_amount"}, WillingnessCheckFailed{Method: MethodMicroDeposit, Reason: "wrong_amount"}, WillingnessCheckFailed{Method: MethodMicroDeposit, Reason: "wrong_amount"}}),
			func(e *Enterprise) ([]Event, error) { return e.ConfirmMicroDeposit(creator, 37, later) },
			[]Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "amount", Reason: "deposit_attempts_exhausted", Detail: "transfer md.x.1", AttemptsLeft: ptr(0), FailedAt: later}}, "deposit_attempts_exhausted"},
		{"three deposits per case, resubmissions included", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit, MicroDepositFailed{TransferID: "md.x.1", Reason: "r"}, deposit,
			MicroDepositFailed{TransferID: "md.x.1", Reason: "r"}, submitted(LegalRep), WillingnessMethodChosen{Method: MethodMicroDeposit}, deposit, MicroDepositFailed{TransferID: "md.x.1", Reason: "r"}}),
			func(e *Enterprise) ([]Event, error) {
				return e.RequestMicroDeposit(creator, deposit.Account, "md.x.4", 12, later)
			}, []Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "deposit", Reason: "deposit_limit", Detail: "3 deposits already paid for this case", AttemptsLeft: ptr(0), FailedAt: later}}, "deposit_limit"},
		{"the same account again while its deposit is on the way", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit}),
			func(e *Enterprise) ([]Event, error) {
				return e.RequestMicroDeposit(creator, deposit.Account, "md.x.2", 12, later)
			}, nil, "deposit_pending"},
		{"a corrected account number gets a new deposit (账号填错了?)", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit}),
			func(e *Enterprise) ([]Event, error) {
				a := deposit.Account
				a.AccountNumber = "62148301999"
				return e.RequestMicroDeposit(creator, a, "md.x.2", 12, later)
			}, []Event{MicroDepositRequested{TransferID: "md.x.2", Account: BankAccount{Holder: "杭州井然食品贸易有限公司", Bank: "招商银行", Branch: "高新支行", Province: "浙江", City: "杭州", AccountNumber: "62148301999"},
				AmountFen: 12, Deadline: later.Add(MicroDepositValidFor), RequestedAt: later}}, ""},
		{"two deposits a day per code", cat(ready(LegalRep, MethodMicroDeposit)),
			func(e *Enterprise) ([]Event, error) { return e.CheckDepositDay(creator, 3, later) },
			[]Event{WillingnessCheckFailed{Method: MethodMicroDeposit, Step: "deposit", Reason: "deposit_daily_limit", Detail: "deposit 3 of 2 today for this code", AttemptsLeft: ptr(0), FailedAt: later}}, "deposit_daily_limit"},
		{"failed transfer", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit, MicroDepositFailed{TransferID: "md.x.1", Reason: "account_closed"}}),
			func(e *Enterprise) ([]Event, error) { return e.ConfirmMicroDeposit(creator, 37, later) }, nil, "deposit_failed"},
		{"right amount verifies", cat(ready(LegalRep, MethodMicroDeposit), []Event{deposit}),
			func(e *Enterprise) ([]Event, error) { return e.ConfirmMicroDeposit(creator, 37, later) },
			cat([]Event{MicroDepositConfirmed{TransferID: "md.x.1", ConfirmedAt: later}}, verifiedBy(MethodMicroDeposit, later)), ""},
		{"reverse: wrong payer", cat(ready(LegalRep, MethodReverse), []Event{reverse}),
			func(e *Enterprise) ([]Event, error) {
				return e.MatchStatement(with(func(l *StatementLine) { l.PayerName = "别家公司" }), later)
			}, []Event{ReverseDepositMismatched{Statement: with(func(l *StatementLine) { l.PayerName = "别家公司" }), Reason: "payer_name_mismatch",
				Detail: `paid by "别家公司"; the payer must be "杭州井然食品贸易有限公司"`, CheckedAt: later}}, ""},
		{"reverse: 0.02 CNY", cat(ready(LegalRep, MethodReverse), []Event{reverse}),
			func(e *Enterprise) ([]Event, error) {
				return e.MatchStatement(with(func(l *StatementLine) { l.AmountFen = 2 }), later)
			},
			[]Event{ReverseDepositMismatched{Statement: with(func(l *StatementLine) { l.AmountFen = 2 }), Reason: "amount_mismatch", Detail: "paid 0.02 CNY; exactly 0.01 CNY is required", CheckedAt: later}}, ""},
		{"reverse: paid before the request day", cat(ready(LegalRep, MethodReverse), []Event{reverse}),
			func(e *Enterprise) ([]Event, error) {
				return e.MatchStatement(with(func(l *StatementLine) { l.PaidAt = t0.Add(-24 * time.Hour) }), later)
			}, []Event{ReverseDepositMismatched{Statement: with(func(l *StatementLine) { l.PaidAt = t0.Add(-24 * time.Hour) }), Reason: "paid_before_request", Detail: "paid on 2026-11-30, before 2026-12-01", CheckedAt: later}}, ""},
		{"reverse: personal account", cat(ready(LegalRep, MethodReverse), []Event{reverse}),
			func(e *Enterprise) ([]Event, error) {
				return e.MatchStatement(with(func(l *StatementLine) { l.PayerAccountType = "personal" }), later)
			}, []Event{ReverseDepositMismatched{Statement: with(func(l *StatementLine) { l.PayerAccountType = "personal" }), Reason: "payer_not_corporate", Detail: "paid from a personal account; a corporate account must pay", CheckedAt: later}}, ""},
		{"reverse: match verifies", cat(ready(LegalRep, MethodReverse), []Event{reverse}),
			func(e *Enterprise) ([]Event, error) { return e.MatchStatement(line, later) },
			cat([]Event{ReverseDepositMatched{Statement: line, MatchedAt: later}}, verifiedBy(MethodReverse, later)), ""},
		{"reverse: both boxes", ready(LegalRep, MethodReverse),
			func(e *Enterprise) ([]Event, error) {
				return e.RequestReverseDeposit(creator, "AB12CD34", map[string]bool{"payment_terms": true}, PlatformAccount{}, later)
			}, nil, "acknowledgement_required"},
		{"letter rejected needs a reason", cat(ready(Agent, MethodLetter), []Event{
			PhoneVerified{Method: MethodLetter, Person: Agent, Phone: "13700137000"},
			AuthorizationLetterGenerated{Reference: "R1", File: photo}, AuthorizationLetterUploaded{Reference: "R1", File: photo}}),
			func(e *Enterprise) ([]Event, error) { return e.ReviewLetter("op", false, " ", later) }, nil, "reason_required"},
		{"letter approved verifies", cat(ready(Agent, MethodLetter), []Event{
			PhoneVerified{Method: MethodLetter, Person: Agent, Phone: "13700137000"},
			AuthorizationLetterGenerated{Reference: "R1", File: photo}, AuthorizationLetterUploaded{Reference: "R1", File: photo}}),
			func(e *Enterprise) ([]Event, error) { return e.ReviewLetter("op", true, "", later) },
			cat([]Event{AuthorizationLetterApproved{Reference: "R1", Reviewer: "op", ReviewedAt: later}}, verifiedBy(MethodLetter, later)), ""},
		{"letter upload before the agent is proven", ready(Agent, MethodLetter),
			func(e *Enterprise) ([]Event, error) { return e.UploadLetter(creator, photo, later) }, nil, "agent_not_verified"},
		{"members: a plain member cannot invite", cat(ready(LegalRep, MethodLegalRepPhone), verifiedBy(MethodLegalRepPhone, t0), []Event{MemberJoined{AccountID: "m1", Role: Member}}),
			func(e *Enterprise) ([]Event, error) { return e.Invite("m1", "i1", "h", Member, later) }, nil, "not_enterprise_admin"},
		{"members: an outsider cannot invite", cat(ready(LegalRep, MethodLegalRepPhone), verifiedBy(MethodLegalRepPhone, t0)),
			func(e *Enterprise) ([]Event, error) { return e.Invite("x", "i1", "h", Member, later) }, nil, "not_enterprise_member"},
		{"members: expired link", cat(ready(LegalRep, MethodLegalRepPhone), verifiedBy(MethodLegalRepPhone, t0), []Event{MemberInvitationCreated{InvitationID: "i1", Role: Member, ExpiresAt: t0}}),
			func(e *Enterprise) ([]Event, error) { return e.Join("m2", "i1", later) }, nil, "invitation_expired"},
		{"members: the master admin stays", cat(ready(LegalRep, MethodLegalRepPhone), verifiedBy(MethodLegalRepPhone, t0), []Event{MemberJoined{AccountID: "a1", Role: Admin}}),
			func(e *Enterprise) ([]Event, error) { return e.RemoveMember("a1", creator, later) }, nil, "master_admin_fixed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := given(t, tc.given...)
			got, err := tc.do(e)
			if tc.errCode == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.errCode != "" {
				f, ok := fault.As(err)
				if !ok || f.Code != tc.errCode {
					t.Fatalf("error %v, want code %s", err, tc.errCode)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events\n got %#v\nwant %#v", got, tc.want)
			}
			// Whatever was decided applies cleanly.
			for _, ev := range got {
				if err := e.Apply(ev); err != nil {
					t.Fatalf("apply %s: %v", ev.EventType(), err)
				}
			}
		})
	}
}

func TestReviewDueSkipsWeekends(t *testing.T) {
	cases := map[string]string{
		"2026-12-01 10:00": "2026-12-02 10:00", // Tuesday -> Wednesday
		"2026-12-04 15:00": "2026-12-07 15:00", // Friday -> Monday
		"2026-12-05 11:00": "2026-12-08 09:00", // Saturday counts from Monday 09:00
	}
	for in, want := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", in, Shanghai)
		if got := ReviewDue(at).In(Shanghai).Format("2006-01-02 15:04"); got != want {
			t.Errorf("ReviewDue(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestEventsRoundTripThroughTheCodec(t *testing.T) {
	evs := cat(ready(Agent, MethodLetter), []Event{
		CarrierCheckPassed{Method: MethodLetter, Person: Agent, Name: "林小明", IDNumber: agentID, Phone: "13700137000", CheckedAt: t0},
		PhoneVerified{Method: MethodLetter, Person: Agent, Phone: "13700137000", VerifiedAt: t0},
		AuthorizationLetterGenerated{Reference: "R1", File: photo, GeneratedAt: t0},
		AuthorizationLetterUploaded{Reference: "R1", File: photo, UploadedAt: t0, ReviewDue: t0},
		AuthorizationLetterApproved{Reference: "R1", Reviewer: "op", ReviewedAt: t0},
	}, verifiedBy(MethodLetter, t0))
	var envs []event.Envelope
	for i, ev := range evs {
		n, err := NewEvent("id", ev, event.Metadata{OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, event.Envelope{Stream: StreamOf(eid), Version: uint64(i + 1), Type: n.Type, Schema: n.Schema, Data: n.Data})
	}
	e, err := Replay(envs)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Verified() || e.Step() != StepVerified || e.RoleOf(creator) != MasterAdmin || e.Quota() != EnterpriseQuota {
		t.Fatalf("replayed: verified=%v step=%s role=%s quota=%d", e.Verified(), e.Step(), e.RoleOf(creator), e.Quota())
	}
	if _, err := Decode("NoSuchEvent", 1, nil); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Decode(TypeEnterpriseCreated, 9, []byte(`{}`)); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("unknown schema: %v", err)
	}
}
