package enterprise

import (
	"testing"
	"time"

	"signet/domain/fault"
)

// A face scan started before the materials were submitted again proves
// nothing about the new materials (whose legal representative or agent may
// be someone else): its late result must not verify anything, and it must
// not block a new scan.
func TestStaleFaceSessionProvesNothing(t *testing.T) {
	later := t0.Add(time.Hour)
	otherRep := idOf("11010519800101123")
	resubmitted := func(p Person) Event {
		m := submitted(p).(MaterialsSubmitted)
		m.LegalRepName, m.LegalRepIDNumber, m.SubmittedAt = "王五", otherRep, t0.Add(time.Minute)
		if p == Agent {
			m.AgentName, m.AgentIDNumber = "赵六", idOf("11010519850505123")
		}
		return m
	}
	cases := []struct {
		name   string
		p      Person
		m      Method
		person Person
		id     string
	}{
		{"legal rep face", LegalRep, MethodLegalRepFace, LegalRep, repID},
		{"agent face for the letter", Agent, MethodLetter, Agent, agentID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := FaceScanStarted{Method: tc.m, SessionID: "old", Person: tc.person, IDNumber: tc.id, Attempt: 1, StartedAt: t0}
			e := given(t, cat(ready(tc.p, tc.m), []Event{old, resubmitted(tc.p), WillingnessMethodChosen{Method: tc.m, ChosenBy: creator, ChosenAt: t0}})...)
			got, err := e.FaceResult("old", true, 0.99, "", later)
			if _, ok := fault.As(err); !ok {
				t.Fatalf("stale session result: %v, want a refusal", err)
			}
			for _, ev := range got {
				switch ev.(type) {
				case FaceVerified, EnterpriseVerified:
					t.Fatalf("stale session decided %#v", got)
				}
				if err := e.Apply(ev); err != nil {
					t.Fatal(err)
				}
			}
			if e.Verified() {
				t.Fatal("a scan of the previous materials verified the enterprise")
			}
			if tc.m == MethodLetter {
				if _, err := e.LetterData(creator, later); err == nil {
					t.Fatal("the previous agent's face proves the new agent")
				}
			}
			if _, err := e.CheckFaceStart(creator, tc.m, 1, later); err != nil {
				t.Fatalf("a new scan is refused: %v", err)
			}
			if _, err := e.FaceResult("old", true, 0.99, "", later); err == nil {
				t.Fatal("the stale session took a second result")
			}
		})
	}
}

// The legal representative passing a face scan while the operator looked at
// another method is not lost: the enterprise is verified (as a matched
// reverse deposit would verify it), not left where no scan can start and
// none counts.
func TestFacePassedAfterSwitchingMethodCounts(t *testing.T) {
	later := t0.Add(time.Hour)
	s := FaceScanStarted{Method: MethodLegalRepFace, SessionID: "s1", Person: LegalRep, IDNumber: repID, Attempt: 1, StartedAt: t0}
	e := given(t, cat(ready(LegalRep, MethodLegalRepFace), []Event{s, WillingnessMethodChosen{Method: MethodMicroDeposit, ChosenBy: creator, ChosenAt: t0}})...)
	got, err := e.FaceResult("s1", true, 0.97, "", later)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range got {
		if err := e.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	if e.Verified() {
		return
	}
	evs, err := e.ChooseMethod(creator, MethodLegalRepFace, later)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := e.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.CheckFaceStart(creator, MethodLegalRepFace, 1, later); err != nil {
		t.Fatalf("the legal rep passed a scan, is not verified, and cannot scan again: %v", err)
	}
}
