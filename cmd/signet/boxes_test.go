package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// verifiedEnterpriseNamed is verifiedEnterprise under a name of its own.
func verifiedEnterpriseNamed(t *testing.T, e *testEnv, login string, n int, name string) (*vclient, string) {
	t.Helper()
	u := newUser(t, e, login)
	var created struct{ ID string }
	u.call(http.MethodPost, "/api/v1/enterprises", nil, http.StatusCreated).json(t, &created)
	base := "/api/v1/enterprises/" + created.ID
	u.upload(base+"/license", photo(t, 10), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/portrait", photo(t, 20), http.StatusOK)
	u.upload(base+"/id-cards/legal_rep/emblem", photo(t, 30), http.StatusOK)
	u.call(http.MethodPost, base+"/materials", map[string]any{
		"name": name, "uscc": usccWith(t, fmt.Sprintf("3501%02d", n)), "legal_rep_name": "井然", "legal_rep_id_number": idWith(t, "35010219900101123"),
		"operator": "legal_rep", "accept_personal_data_policy": true, "accept_phone_followup": false,
	}, http.StatusOK)
	u.call(http.MethodPut, base+"/willingness", map[string]string{"method": "legal_rep_phone"}, http.StatusOK)
	phone := fmt.Sprintf("1391234%04d", 100+n)
	u.call(http.MethodPost, base+"/willingness/phone-code", map[string]string{"phone": phone}, http.StatusAccepted)
	code := codeRe.FindString(lastSMS(t, e.c, phone))
	u.call(http.MethodPost, base+"/willingness/phone-code/confirm", map[string]string{"code": code}, http.StatusOK)
	return u, created.ID
}

// joinAs invites a new account into an enterprise with a role.
func joinAs(t *testing.T, e *testEnv, boss *vclient, ent, login, role string) *vclient {
	t.Helper()
	var inv struct{ Token string }
	boss.call(http.MethodPost, "/api/v1/enterprises/"+ent+"/invitations", map[string]string{"role": role}, http.StatusCreated).json(t, &inv)
	u := newUser(t, e, login)
	u.call(http.MethodPost, "/api/v1/invitations/"+inv.Token+"/accept", nil, http.StatusOK)
	return u
}

// caughtUp makes the next reads of these users wait for every write so far.
func caughtUp(e *testEnv, users ...*vclient) {
	head := strconv.FormatUint(e.head(), 10)
	for _, u := range users {
		u.pos = head
	}
}

// sendTo sends the template's contract to a person and an enterprise party.
func (v *vclient) sendTo(tpl tplIDs, enterpriseID, personPhone, partyEnterprise string) string {
	v.t.Helper()
	id, _ := v.send(map[string]any{
		"template_id": tpl.id, "enterprise_id": enterpriseID, "title": "合同 " + partyEnterprise,
		"parties": map[string]any{
			tpl.person: map[string]string{"name": "林某某", "contact": personPhone},
			tpl.ent:    map[string]string{"name": "联系人", "contact": "13700000000", "enterprise_name": partyEnterprise},
		},
		"values":           map[string]string{tpl.rent: "3500"},
		"signing_deadline": time.Now().Add(72 * time.Hour).Format(time.RFC3339),
		"expires_at":       time.Now().Add(400 * 24 * time.Hour).Format(time.RFC3339),
	})
	return id
}

type listPage struct {
	Items []struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Parties []struct {
			Contact string `json:"contact"`
			Status  string `json:"status"`
		} `json:"parties"`
		Tags []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"tags"`
		Folder *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"folder"`
	} `json:"items"`
	Next string `json:"next"`
}

type counts struct {
	All          int `json:"all"`
	Out          int `json:"out"`
	In           int `json:"in"`
	ToSign       int `json:"to_sign"`
	DeadlineSoon int `json:"deadline_soon"`
	ExpiringSoon int `json:"expiring_soon"`
	Approvals    int `json:"approvals"`
	Archive      int `json:"archive"`
	Trash        int `json:"trash"`
}

// list reads every page of a list, two items a page.
func (v *vclient) list(query string) []string {
	v.t.Helper()
	var ids []string
	after := ""
	for {
		q := query + "&limit=2"
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		var p listPage
		r := v.call(http.MethodGet, "/api/v1/contracts?"+q, nil, http.StatusOK)
		r.json(v.t, &p)
		for _, it := range p.Items {
			if slices.Contains(ids, it.ID) {
				v.t.Fatalf("%s: %s twice", query, it.ID)
			}
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			slices.Sort(ids)
			return ids
		}
		after = p.Next
	}
}

func (v *vclient) counts(query string) counts {
	v.t.Helper()
	var c counts
	v.call(http.MethodGet, "/api/v1/contracts/counts?"+query, nil, http.StatusOK).json(v.t, &c)
	return c
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func sameIDs(t *testing.T, who, what string, got []string, want ...string) {
	t.Helper()
	if got == nil {
		got = []string{}
	}
	if w := sorted(want...); !slices.Equal(got, w) {
		t.Fatalf("%s, %s: got %v, want %v", who, what, got, w)
	}
}

// TestListsKeepEnterprisesApart: two enterprises send to each other, to
// themselves and to others. Each enterprise's administrators see what it
// sent and received, its members only their own, a person what was
// addressed to them; nobody sees, counts, files, archives or tags what
// does not concern them.
func TestListsKeepEnterprisesApart(t *testing.T) {
	e := start(t, testConfig(t), roles{true, true, true}, nil)
	const nameA, nameB, nobody = "甲方科技有限公司", "乙方贸易有限公司", "丙无名有限公司"
	bossA, entA := verifiedEnterpriseNamed(t, e, "13800139001", 21, nameA)
	bossB, entB := verifiedEnterpriseNamed(t, e, "13800139002", 22, nameB)
	memberA := joinAs(t, e, bossA, entA, "13800139003", "member")
	person := newUser(t, e, "13500139004")
	const otherPhone = "13500139005"
	stranger := newUser(t, e, "13500139006")
	tplA, tplB := bossA.template(entA, false), bossB.template(entB, false)

	cAB := bossA.sendTo(tplA, entA, person.login, nameB)
	cBA := bossB.sendTo(tplB, entB, otherPhone, nameA)
	cAA := bossA.sendTo(tplA, entA, person.login, nameA) // to itself
	cM := memberA.sendTo(tplA, entA, otherPhone, nobody)
	cB := bossB.sendTo(tplB, entB, person.login, nameB)
	cBx := bossB.sendTo(tplB, entB, otherPhone, nobody)
	users := []*vclient{bossA, bossB, memberA, person, stranger}
	caughtUp(e, users...)

	type seen struct {
		all, out, in, toSign []string
	}
	want := map[*vclient]seen{
		bossA:    {all: []string{cAB, cBA, cAA, cM}, out: []string{cAB, cAA, cM}, in: []string{cBA, cAA}, toSign: []string{cBA, cAA}},
		memberA:  {all: []string{cM}, out: []string{cM}},
		bossB:    {all: []string{cAB, cBA, cB, cBx}, out: []string{cBA, cB, cBx}, in: []string{cAB, cB}, toSign: []string{cAB, cB}},
		person:   {all: []string{cAB, cAA, cB}, in: []string{cAB, cAA, cB}, toSign: []string{cAB, cAA, cB}},
		stranger: {},
	}
	names := map[*vclient]string{bossA: "A's admin", memberA: "A's member", bossB: "B's admin", person: "the person", stranger: "a stranger"}
	check := func() {
		t.Helper()
		for u, w := range want {
			who := names[u]
			sameIDs(t, who, "all", u.list("box=all"), w.all...)
			sameIDs(t, who, "oldest first", u.list("sort=sent_asc"), w.all...)
			sameIDs(t, who, "by deadline", u.list("sort=deadline_asc"), w.all...)
			sameIDs(t, who, "out", u.list("box=out"), w.out...)
			sameIDs(t, who, "in", u.list("box=in"), w.in...)
			sameIDs(t, who, "to sign", u.list("view=to_sign"), w.toSign...)
			sameIDs(t, who, "deadline soon", u.list("view=deadline_soon&days=5"), w.all...)
			sameIDs(t, who, "expiring soon", u.list("view=expiring_soon&days=366"))
			sameIDs(t, who, "approvals", u.list("view=approvals"))
			c := u.counts("days=5")
			if c != (counts{All: len(w.all), Out: len(w.out), In: len(w.in), ToSign: len(w.toSign), DeadlineSoon: len(w.all)}) {
				t.Fatalf("%s: counts %+v, want %+v", who, c, w)
			}
		}
	}
	check()

	// An administrator of A reads A alone, and never B.
	sameIDs(t, "A's admin", "A only", bossA.list("enterprise="+entA), cAB, cBA, cAA, cM)
	bossA.refused(http.MethodGet, "/api/v1/contracts?enterprise="+entB, nil, http.StatusForbidden, "not_enterprise_member")
	bossA.refused(http.MethodGet, "/api/v1/contracts/counts?enterprise="+entB, nil, http.StatusForbidden, "not_enterprise_member")
	// Nobody keeps what they do not see.
	for _, path := range []string{"/api/v1/me/archive/" + cB, "/api/v1/me/trash/" + cB, "/api/v1/me/archive/" + cBx + "?enterprise_id=" + entA} {
		bossA.refused(http.MethodPut, path, nil, http.StatusForbidden, "not_a_party")
	}
	memberA.refused(http.MethodPut, "/api/v1/me/archive/"+cAB, nil, http.StatusForbidden, "not_a_party")

	// Tags: A's administrators tag what A sent or received; members read them.
	var tag struct{ ID string }
	bossA.call(http.MethodPost, "/api/v1/enterprises/"+entA+"/tags", map[string]string{"name": "重要", "color": "#ff0000"}, http.StatusCreated).json(t, &tag)
	bossA.refused(http.MethodPost, "/api/v1/enterprises/"+entA+"/tags", map[string]string{"name": "重要"}, http.StatusConflict, "duplicate_tag")
	memberA.refused(http.MethodPost, "/api/v1/enterprises/"+entA+"/tags", map[string]string{"name": "次要"}, http.StatusForbidden, "not_enterprise_admin")
	bossB.refused(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+cBA, nil, http.StatusForbidden, "not_enterprise_member")
	bossA.refused(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+cB, nil, http.StatusForbidden, "not_enterprise_contract")
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+cBA, nil, http.StatusNoContent)
	bossA.call(http.MethodPut, "/api/v1/enterprises/"+entA+"/tags/"+tag.ID+"/contracts/"+cM, nil, http.StatusNoContent)
	caughtUp(e, users...)
	sameIDs(t, "A's admin", "tagged", bossA.list("enterprise="+entA+"&tag="+tag.ID), cBA, cM)
	sameIDs(t, "A's member", "tagged", memberA.list("enterprise="+entA+"&tag="+tag.ID), cM)
	var tags []struct{ ID, Name, Color string }
	memberA.call(http.MethodGet, "/api/v1/enterprises/"+entA+"/tags", nil, http.StatusOK).json(t, &tags)
	if len(tags) != 1 || tags[0].Name != "重要" || tags[0].Color != "#FF0000" {
		t.Fatalf("tags: %+v", tags)
	}
	bossB.refused(http.MethodGet, "/api/v1/enterprises/"+entA+"/tags", nil, http.StatusForbidden, "not_enterprise_member")
	var page listPage
	bossA.call(http.MethodGet, "/api/v1/contracts?box=in", nil, http.StatusOK).json(t, &page)
	for _, it := range page.Items {
		if (it.ID == cBA) != (len(it.Tags) == 1 && it.Tags[0].Name == "重要") {
			t.Fatalf("tags of %s: %+v", it.ID, it.Tags)
		}
	}
	// B's administrator sees none of A's tags on the same contract.
	bossB.call(http.MethodGet, "/api/v1/contracts?box=out", nil, http.StatusOK).json(t, &page)
	for _, it := range page.Items {
		if len(it.Tags) != 0 {
			t.Fatalf("B sees A's tags: %+v", it)
		}
	}
	check() // tags change no list

	// Folders, the archive and the bin are the person's own.
	var folder struct{ ID string }
	person.call(http.MethodPost, "/api/v1/me/folders", map[string]string{"name": "租房"}, http.StatusCreated).json(t, &folder)
	person.refused(http.MethodPost, "/api/v1/me/folders", map[string]string{"name": "租房"}, http.StatusConflict, "duplicate_folder")
	person.refused(http.MethodPut, "/api/v1/me/folders/"+folder.ID+"/contracts/"+cBA, nil, http.StatusForbidden, "not_a_party")
	person.call(http.MethodPut, "/api/v1/me/folders/"+folder.ID+"/contracts/"+cAB, nil, http.StatusNoContent)
	person.call(http.MethodPatch, "/api/v1/me/folders/"+folder.ID, map[string]string{"name": "租房合同"}, http.StatusNoContent)
	sameIDs(t, "the person", "folder", person.list("folder="+folder.ID), cAB)
	person.call(http.MethodGet, "/api/v1/contracts?box=in", nil, http.StatusOK).json(t, &page)
	for _, it := range page.Items {
		if (it.ID == cAB) != (it.Folder != nil && it.Folder.Name == "租房合同") {
			t.Fatalf("folder of %s: %+v", it.ID, it.Folder)
		}
		for _, p := range it.Parties {
			if strings.Contains(p.Contact, person.login) || strings.Contains(p.Contact, "13700000000") {
				t.Fatalf("a full contact in a list: %+v", p)
			}
		}
	}
	stranger.refused(http.MethodGet, "/api/v1/contracts?folder="+folder.ID, nil, http.StatusNotFound, "folder_not_found")

	before := e.contractEvents(cAB)
	person.call(http.MethodPut, "/api/v1/me/archive/"+cAA, nil, http.StatusNoContent)
	person.call(http.MethodPut, "/api/v1/me/trash/"+cAB, nil, http.StatusNoContent)
	person.refused(http.MethodPut, "/api/v1/me/archive/"+cAB, nil, http.StatusUnprocessableEntity, "in_trash")
	sameIDs(t, "the person", "all after archiving and trashing", person.list("box=all"), cB)
	sameIDs(t, "the person", "archive", person.list("box=archive"), cAA)
	sameIDs(t, "the person", "trash", person.list("box=trash"), cAB)
	if c := person.counts(""); c.All != 1 || c.In != 1 || c.Archive != 1 || c.Trash != 1 || c.ToSign != 1 {
		t.Fatalf("the person's counts: %+v", c)
	}
	person.call(http.MethodDelete, "/api/v1/me/trash/"+cAB+"/forever", nil, http.StatusNoContent)
	person.refused(http.MethodDelete, "/api/v1/me/trash/"+cAB, nil, http.StatusNotFound, "contract_deleted")
	if c := person.counts(""); c.All != 1 || c.Trash != 0 || c.Archive != 1 {
		t.Fatalf("the person's counts after deleting for good: %+v", c)
	}
	sameIDs(t, "the person", "folder after deleting for good", person.list("folder="+folder.ID))
	// The contract and everyone else's lists are untouched.
	if got := e.contractEvents(cAB); !slices.Equal(got, before) {
		t.Fatalf("deleting for me wrote to the contract: %v", got)
	}
	person.call(http.MethodGet, "/api/v1/contracts/"+cAB, nil, http.StatusOK)
	person.call(http.MethodDelete, "/api/v1/me/archive/"+cAA, nil, http.StatusNoContent)
	want[person] = seen{all: []string{cAA, cB}, in: []string{cAA, cB}, toSign: []string{cAA, cB}}
	caughtUp(e, users...)
	check()

	// Deleting the folder leaves its contracts in none.
	person.call(http.MethodPut, "/api/v1/me/folders/"+folder.ID+"/contracts/"+cB, nil, http.StatusNoContent)
	person.call(http.MethodDelete, "/api/v1/me/folders/"+folder.ID, nil, http.StatusNoContent)
	person.refused(http.MethodGet, "/api/v1/contracts?folder="+folder.ID, nil, http.StatusNotFound, "folder_not_found")
	person.call(http.MethodGet, "/api/v1/contracts", nil, http.StatusOK).json(t, &page)
	for _, it := range page.Items {
		if it.Folder != nil {
			t.Fatalf("%s is still in a deleted folder", it.ID)
		}
	}
	var folders []struct{ ID string }
	person.call(http.MethodGet, "/api/v1/me/folders", nil, http.StatusOK).json(t, &folders)
	if len(folders) != 0 {
		t.Fatalf("folders: %+v", folders)
	}
	// Bad queries are refused as such.
	for q, code := range map[string]string{"box=drafts": "invalid_box", "limit=101": "invalid_limit", "after=%25%25": "invalid_cursor",
		"view=to_sign&sort=deadline_asc": "invalid_sort", "tag=" + tag.ID: "tag_needs_enterprise", "days=0": "invalid_days"} {
		person.refused(http.MethodGet, "/api/v1/contracts?"+q, nil, http.StatusBadRequest, code)
	}
}
