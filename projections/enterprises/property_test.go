package enterprises_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"signet/domain/enterprise"
	"signet/domain/event"
	"signet/domain/fault"
	"signet/projections/enterprises"
)

// TestRandomHistories decides random sequences of commands (valid or not;
// refusals record what the domain records), then checks that
//   - every decided event survives its codec unchanged,
//   - the stored stream replays to exactly the aggregate that decided it,
//   - the read model agrees with the aggregate on step, method, verified,
//     quota, members, failures, the pending code, the letter and the review
//     queue.
func TestRandomHistories(t *testing.T) {
	w := newWorld(t, start)
	for seed := range uint64(150) {
		g := &gen{w: w, rnd: newRand(seed), t: t}
		k := w.create(creator)
		g.k = k
		for step := range 80 {
			g.step = step
			g.act()
		}
		g.compare(seed)
	}
}

type gen struct {
	t    *testing.T
	w    *world
	k    *kase
	rnd  *rand.Rand
	step int

	sessions    []string
	invitations []string
	transfer    string
	amount      int64
}

var (
	propMembers = []string{"acct-m1", "acct-m2", "acct-m3"}
	propNames   = []string{entName, "杭州井然食品贸易股份有限公司"}
	propRepIDs  = []string{legalID, "310115198001011238"}
)

func (g *gen) pick(n int) int { return g.rnd.IntN(n) }

// do runs a decision, checking its events' codec round trip first.
func (g *gen) do(actor string, d func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error)) {
	g.t.Helper()
	g.k.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
		evs, err := d(e, now)
		if _, ok := enterprise.Completes(evs); ok && err == nil {
			// As the command does: the default seal goes with the verification.
			evs = append(evs, e.DefaultSeal(fmt.Sprintf("seal-default-%d", g.step), file("default-seal"), now)...)
		}
		for _, ev := range evs {
			typ, schema, data, encErr := enterprise.Encode(ev)
			if encErr != nil {
				g.t.Fatalf("encode %T: %v", ev, encErr)
			}
			back, decErr := enterprise.Decode(typ, schema, data)
			if decErr != nil || !reflect.DeepEqual(back, ev) {
				g.t.Fatalf("codec round trip of %s:\n got %#v (%v)\nwant %#v", typ, back, decErr, ev)
			}
			switch ev := ev.(type) {
			case enterprise.FaceScanStarted:
				g.sessions = append(g.sessions, ev.SessionID)
			case enterprise.MemberInvitationCreated:
				g.invitations = append(g.invitations, ev.InvitationID)
			case enterprise.MicroDepositRequested:
				g.transfer, g.amount = ev.TransferID, ev.AmountFen
			}
		}
		return evs, err
	})
}

func (g *gen) advance() {
	steps := []time.Duration{0, time.Second, time.Minute, time.Hour, 13 * time.Hour, 50 * time.Hour, 31 * 24 * time.Hour}
	weights := []int{30, 20, 21, 15, 8, 5, 1}
	n := g.pick(100)
	for i, wt := range weights {
		if n < wt {
			g.w.now = g.w.now.Add(steps[i])
			return
		}
		n -= wt
	}
}

// choose picks the next command, most often one that makes sense where
// the case stands, sometimes any.
func (g *gen) choose() int {
	e := g.k.agg
	weights := make([]int, 26)
	for i := range weights {
		weights[i] = 1
	}
	set := func(w int, cases ...int) {
		for _, c := range cases {
			weights[c] = w
		}
	}
	switch {
	case e.Verified():
		set(6, 17, 18, 19)
		set(4, 20, 21, 22, 23, 24, 25)
	case e.Materials() == nil:
		set(3, 0, 1)
		set(4, 2)
	case e.Method() == "":
		set(8, 3, 4)
	default:
		switch e.Method() {
		case enterprise.MethodLegalRepPhone:
			set(6, 5, 6)
		case enterprise.MethodLegalRepFace:
			set(6, 7)
			set(5, 8, 9)
		case enterprise.MethodLetter:
			set(4, 5, 6, 10, 11, 12)
			set(2, 7, 8)
		case enterprise.MethodMicroDeposit:
			set(5, 13)
			set(6, 14)
		case enterprise.MethodReverse:
			set(5, 15)
			set(6, 16)
		}
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.pick(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

func (g *gen) act() {
	g.advance()
	c := creator
	e := g.k.agg
	m := e.Method()
	n := g.choose()
	if n >= 20 {
		g.sealActs(n)
		return
	}
	switch n {
	case 0:
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.UploadLicense(c, file(fmt.Sprint("license", g.step)), enterprise.LicenseFields{Name: propNames[g.pick(2)], USCC: entUSCC}, "test", now)
		})
	case 1:
		p := []enterprise.Person{enterprise.LegalRep, enterprise.Agent}[g.pick(2)]
		s := []enterprise.Side{enterprise.Portrait, enterprise.Emblem}[g.pick(2)]
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.UploadIDCard(c, p, s, file(fmt.Sprint(p, s, g.step)), enterprise.IDCardFields{Name: legalName}, "test", now)
		})
	case 2:
		op := []enterprise.Person{enterprise.LegalRep, enterprise.Agent}[g.pick(2)]
		mat := enterprise.Materials{Name: propNames[g.pick(2)], USCC: entUSCC, LegalRepName: legalName, LegalRepIDNumber: propRepIDs[g.pick(2)],
			Operator: op, AcceptPersonal: g.pick(8) != 0, AcceptFollowup: g.pick(2) == 0, PolicyVersion: "2026-11"}
		if op == enterprise.Agent {
			mat.AgentName, mat.AgentIDNumber = agentName, agentID
		}
		refused := g.pick(6) == 0
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			evs, err := e.Submit(c, mat, now)
			if err == nil && refused {
				return e.RefuseMaterials(c, evs[0].(enterprise.MaterialsSubmitted), "legal_rep_mismatch", now)
			}
			return evs, err
		})
	case 3, 4:
		nm := enterprise.Methods[g.pick(len(enterprise.Methods))]
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.ChooseMethod(c, nm, now)
		})
	case 5:
		phone := []string{phoneLegal, phoneAgent, phoneWrong}[g.pick(3)]
		res := enterprise.CarrierResult{Match: g.pick(4) != 0, Reason: "name_mismatch"}
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.CheckCarrier(c, m, phone, res, now)
		})
	case 6:
		var codeErr error
		var left *int
		switch g.pick(3) {
		case 1:
			codeErr = fault.Invalidf("code", "invalid_code", "wrong")
		case 2:
			codeErr, left = fault.Invalidf("code", "code_attempts_exhausted", "burnt"), intp(0)
		}
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.ConfirmPhone(c, m, codeErr, left, now)
		})
	case 7:
		attempt := 1 + g.pick(4)
		sid := fmt.Sprintf("face-%d", g.step)
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			if evs, err := e.CheckFaceStart(c, m, attempt, now); err != nil {
				return evs, err
			}
			return e.StartFace(c, m, enterprise.FaceStart{SessionID: sid, QRURL: "https://face.example/" + sid, ExpiresAt: now.Add(10 * time.Minute), Attempt: attempt}, now)
		})
	case 8, 9:
		sid := "face-unknown"
		if len(g.sessions) > 0 && g.pick(6) != 0 {
			sid = g.sessions[g.pick(len(g.sessions))]
		}
		passed := g.pick(3) != 0
		g.do("provider:face", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.FaceResult(sid, passed, 0.9, "", now)
		})
	case 10:
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.GenerateLetter(c, fmt.Sprintf("SQ%d", g.step), enterprise.File{SHA256: fmt.Sprintf("sha-letter-%d", g.step), Size: 99, MediaType: "application/pdf"}, now)
		})
	case 11:
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.UploadLetter(c, enterprise.File{SHA256: fmt.Sprintf("sha-stamped-%d", g.step), Size: 500, MediaType: "image/png"}, now)
		})
	case 12:
		approve := g.pick(2) == 0
		g.do("acct-reviewer", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.ReviewLetter("acct-reviewer", approve, "公章不清晰", now)
		})
	case 13:
		tid, fen := fmt.Sprintf("tr-%d", g.step), int64(1+g.pick(99))
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.RequestMicroDeposit(c, enterprise.BankAccount{Bank: "招商银行", Branch: "杭州高新支行", Province: "浙江", City: "杭州", AccountNumber: acctNumber}, tid, fen, now)
		})
	case 14:
		fen := g.amount
		if g.pick(2) == 0 {
			fen = fen%99 + 1
		}
		if g.pick(8) == 0 {
			tid := g.transfer
			g.do("provider:bank", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
				return e.MicroDepositFailed(tid, "account_closed", now)
			})
			return
		}
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.ConfirmMicroDeposit(c, fen, now)
		})
	case 15:
		ref := fmt.Sprintf("REF%05d", g.step)
		g.do(c, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.RequestReverseDeposit(c, ref, acks, platform, now)
		})
	case 16:
		l := enterprise.StatementLine{StatementID: fmt.Sprintf("ST-%d", g.step), PayerName: propNames[g.pick(2)], PayerAccount: payerAcct,
			PayerAccountType: []string{"corporate", "corporate", "personal"}[g.pick(3)], AmountFen: int64(1 + g.pick(2)), Currency: "CNY",
			PaidAt: g.w.now.Add(-time.Duration(g.pick(48)) * time.Hour).UTC(), PayeeAccount: platAcct}
		g.do("provider:bank", func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.MatchStatement(l, now)
		})
	case 17:
		role := []enterprise.Role{enterprise.Member, enterprise.Admin}[g.pick(2)]
		actor := append([]string{c, c}, propMembers...)[g.pick(2+len(propMembers))]
		inv := fmt.Sprintf("inv-%d", g.step)
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.Invite(actor, inv, "hash-"+inv, role, now)
		})
	case 18:
		if len(g.invitations) == 0 {
			return
		}
		who, inv := propMembers[g.pick(len(propMembers))], g.invitations[g.pick(len(g.invitations))]
		g.do(who, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.Join(who, inv, now)
		})
	case 19:
		actor := append([]string{c, c, c}, propMembers...)[g.pick(3+len(propMembers))]
		target := append([]string{c}, propMembers...)[g.pick(1+len(propMembers))]
		if g.pick(2) == 0 {
			role := []enterprise.Role{enterprise.Member, enterprise.Admin}[g.pick(2)]
			g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
				return e.ChangeRole(actor, target, role, now)
			})
		} else {
			g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
				return e.RemoveMember(actor, target, now)
			})
		}
	}
}

// sealActs are the seal, approval and quota commands (choose's 20 to 25).
func (g *gen) sealActs(n int) {
	c := creator
	e := g.k.agg
	// Mostly the creator acting on current members, sometimes anyone.
	members := slices.Sorted(maps.Keys(e.Members()))
	actor := c
	if g.pick(3) == 0 {
		actor = propMembers[g.pick(len(propMembers))]
	}
	sealID := "seal-unknown"
	if ss := e.Seals(); len(ss) > 0 && g.pick(8) != 0 {
		sealID = ss[g.pick(len(ss))].ID
	}
	target := append([]string{"acct-outsider"}, propMembers...)[g.pick(1+len(propMembers))]
	if len(members) > 0 && g.pick(4) != 0 {
		target = members[g.pick(len(members))]
	}
	switch n {
	case 20:
		name, id := []string{"合同专用章", "财务专用章", "人事专用章"}[g.pick(3)], fmt.Sprintf("seal-%d", g.step)
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.CreateSeal(actor, id, name, enterprise.File{SHA256: "sha-" + id, Size: 10, MediaType: "image/png"}, now)
		})
	case 21:
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.GrantSeal(actor, sealID, target, now)
		})
	case 22:
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.RevokeSeal(actor, sealID, target, now)
		})
	case 23:
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.DisableSeal(actor, sealID, now)
		})
	case 24:
		var approvers []string
		candidates := members
		if g.pick(5) == 0 {
			candidates = append([]string{c, "acct-outsider"}, propMembers...)
		}
		for _, m := range candidates {
			if g.pick(2) == 0 {
				approvers = append(approvers, m)
			}
		}
		required := g.pick(3) != 0
		g.do(actor, func(e *enterprise.Enterprise, now time.Time) ([]enterprise.Event, error) {
			return e.SetApprovalPolicy(actor, required, approvers, now)
		})
	case 25:
		_ = g.k.spend(actor, fmt.Sprintf("contract-%d", g.step))
	}
}

// compareSeals checks the seals, the approval policy and the quota.
func (g *gen) compareSeals(v enterprises.CaseView, fail func(string, any, any)) {
	w, k, e := g.w, g.k, g.k.agg
	if v.QuotaUsed != int64(k.used) || v.QuotaLeft != int64(e.QuotaLeft(k.used)) {
		fail("quota used/left", []int64{v.QuotaUsed, v.QuotaLeft}, []int{k.used, e.QuotaLeft(k.used)})
	}
	seals, err := w.reader.Seals(w.ctx, k.id)
	if err != nil {
		g.t.Fatal(err)
	}
	want := e.Seals()
	if len(seals) != len(want) {
		fail("seals", seals, want)
	}
	for i, s := range seals {
		d := want[i]
		if s.ID != d.ID || s.Name != d.Name || s.Default != d.Default || s.Disabled != d.Disabled || s.File.SHA256 != d.File.SHA256 || !slices.Equal(s.Grants, d.Grants) {
			fail("seal "+d.ID, s, d)
		}
		for _, m := range append([]string{creator}, propMembers...) {
			_, err := e.CanUseSeal(m, d.ID)
			if role, _ := w.reader.Access(w.ctx, k.id, m); s.MayUse(m, role) != (err == nil) {
				fail("may "+m+" use "+d.ID, s.MayUse(m, role), err)
			}
		}
	}
	p, err := w.reader.ApprovalPolicy(w.ctx, k.id)
	if err != nil {
		g.t.Fatal(err)
	}
	if req, ap := e.ApprovalPolicy(); p.Required != req || !slices.Equal(p.Approvers, ap) {
		fail("approval policy", p, fmt.Sprint(req, ap))
	}
}

func (g *gen) compare(seed uint64) {
	t, w, k := g.t, g.w, g.k
	t.Helper()
	e := k.agg
	envs, err := w.store.ReadStream(w.ctx, enterprise.StreamOf(k.id), 1, event.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := enterprise.Replay(envs)
	if err != nil {
		t.Fatalf("seed %d: replay: %v", seed, err)
	}
	if !reflect.DeepEqual(replayed, e) {
		t.Fatalf("seed %d: the replayed aggregate differs from the one that decided:\nreplayed %+v\n    live %+v", seed, replayed, e)
	}

	v := w.view(k.id)
	fail := func(what string, got, want any) {
		t.Helper()
		types := make([]string, len(envs))
		for i, env := range envs {
			types[i] = env.Type
		}
		t.Fatalf("seed %d: read model %s = %v, domain says %v\nhistory %v", seed, what, got, want, types)
	}
	if v.Step != string(e.Step()) {
		fail("step", v.Step, e.Step())
	}
	if v.Willingness.Method != string(e.Method()) {
		fail("method", v.Willingness.Method, e.Method())
	}
	if (v.VerifiedAt != nil) != e.Verified() {
		fail("verified", v.VerifiedAt, e.Verified())
	}
	if v.Quota != int64(e.Quota()) {
		fail("quota", v.Quota, e.Quota())
	}
	if v.Version != e.Version() {
		fail("version", v.Version, e.Version())
	}
	g.compareSeals(v, fail)
	if want := min(len(e.Failures())+e.Refusals(), 50); len(v.Failures) != want {
		fail("failures", len(v.Failures), want)
	}
	members, err := w.reader.Members(w.ctx, k.id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]enterprise.Role{}
	for _, mv := range members {
		got[mv.AccountID] = enterprise.Role(mv.Role)
		if role, _ := w.reader.Access(w.ctx, k.id, mv.AccountID); role != mv.Role {
			fail("access of "+mv.AccountID, role, mv.Role)
		}
	}
	if !maps.Equal(got, e.Members()) {
		fail("members", got, e.Members())
	}
	if p := v.Willingness.Phone; p != nil {
		if (p.CodeSentTo != "") != (e.PendingCarrier(e.Method()) != nil) {
			fail("code awaited", p.CodeSentTo, e.PendingCarrier(e.Method()))
		}
	}
	if l := v.Willingness.Letter; l != nil && e.LetterStatus() != "" && l.Status != e.LetterStatus() && !e.Verified() {
		fail("letter status", l.Status, e.LetterStatus())
	}
	items, err := w.reader.PendingLetters(w.ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	queued := false
	for _, it := range items {
		queued = queued || it.EnterpriseID == k.id
	}
	if queued != (e.Step() == enterprise.StepReview) {
		fail("in the review queue", queued, e.Step())
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
