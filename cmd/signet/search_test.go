package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"signet/domain/contract"
	"signet/readapi"
)

// namedEnterprise is verifiedEnterprise with a name of its own: two
// enterprises of one name would share the parties addressed to it.
func namedEnterprise(t *testing.T, e *testEnv, login, name string, n int) (*vclient, string) {
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

// sendTitled sends a contract from the template to a person and an
// enterprise party.
func (v *vclient) sendTitled(tpl tplIDs, eid, title, personPhone, entParty string) string {
	v.t.Helper()
	body := sendBody(tpl, eid, personPhone, "林某某", v.login, time.Now().Add(72*time.Hour))
	body["title"] = title
	body["parties"].(map[string]any)[tpl.ent].(map[string]string)["enterprise_name"] = entParty
	id, _ := v.send(body)
	return id
}

func (v *vclient) searchIDs(query string) ([]string, readapi.ContractHits) {
	v.t.Helper()
	var page readapi.ContractHits
	v.call(http.MethodGet, "/api/v1/search/contracts?"+query, nil, http.StatusOK).json(v.t, &page)
	var ids []string
	for _, h := range page.Items {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids, page
}

func (v *vclient) trail(query string) readapi.AuditItems {
	v.t.Helper()
	var page readapi.AuditItems
	v.call(http.MethodGet, "/api/v1/audit/trail?"+query, nil, http.StatusOK).json(v.t, &page)
	return page
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// searchWorld is two enterprises, A and B, each with a contract, and a
// contract of B to A's administrator as a person.
type searchWorld struct {
	e                  *testEnv
	a, b, p            *vclient
	entA, entB         string
	c1, c2, c3         string
	nameA, nameB       string
	aID, bID, personID string
}

func newSearchWorld(t *testing.T, cfg config) *searchWorld {
	e := start(t, cfg, roles{true, true, true}, nil)
	w := &searchWorld{e: e, nameA: "杭州甲方科技有限公司", nameB: "上海乙方贸易有限公司"}
	w.a, w.entA = namedEnterprise(t, e, "13800138071", w.nameA, 71)
	w.b, w.entB = namedEnterprise(t, e, "13800138072", w.nameB, 72)
	w.p = newUser(t, e, "13800138073")
	tplA, tplB := w.a.template(w.entA, false), w.b.template(w.entB, false)
	// A to a person and to B; B to a stranger and an unknown enterprise;
	// B to A's administrator as a person.
	w.c1 = w.a.sendTitled(tplA, w.entA, "房屋租赁合同 北京", w.p.login, w.nameB)
	w.c2 = w.b.sendTitled(tplB, w.entB, "采购合同 上海", "13900139001", "宁波丙方有限公司")
	w.c3 = w.b.sendTitled(tplB, w.entB, "服务协议 租赁设备", w.a.login, "宁波丙方有限公司")
	w.aID, w.bID, w.personID = accountIDOf(t, w.a), accountIDOf(t, w.b), accountIDOf(t, w.p)
	w.e.seeAll(w.a, w.b, w.p)
	return w
}

// seeAll makes the clients' next reads wait for everything written so far,
// not only their own writes.
func (e *testEnv) seeAll(vs ...*vclient) {
	pos := fmt.Sprint(e.head())
	for _, v := range vs {
		v.pos = pos
	}
}

func TestSearchContractsOverHTTP(t *testing.T) {
	w := newSearchWorld(t, testConfig(t))
	a, b, p := w.a, w.b, w.p

	// Visibility: what each sees with no filter.
	for _, c := range []struct {
		who  *vclient
		name string
		want []string
	}{
		{a, "A's admin: A's contract, and B's to them as a person", sortedIDs(w.c1, w.c3)},
		{b, "B's admin: B's, and A's to B as an enterprise", sortedIDs(w.c1, w.c2, w.c3)},
		{p, "a person party of A's contract", sortedIDs(w.c1)},
	} {
		if got, page := c.who.searchIDs(""); !slices.Equal(got, c.want) || page.Total != len(c.want) {
			t.Errorf("%s: %v (total %d), want %v", c.name, got, page.Total, c.want)
		}
	}

	// One Chinese character finds the titles holding it.
	if got, _ := a.searchIDs("q=" + url.QueryEscape("租")); !slices.Equal(got, sortedIDs(w.c1, w.c3)) {
		t.Errorf("q=租: %v", got)
	}
	if got, _ := b.searchIDs("q=" + url.QueryEscape("采购")); !slices.Equal(got, []string{w.c2}) {
		t.Errorf("q=采购: %v", got)
	}
	// Combined: text, status, sent range (days in China's time), sender.
	today := time.Now().In(contract.Shanghai).Format(time.DateOnly)
	q := url.Values{"q": {"合同"}, "status": {"signing,completed"}, "sent_from": {today}, "sent_to": {today}, "sender": {w.nameB}}
	if got, _ := b.searchIDs(q.Encode()); !slices.Equal(got, []string{w.c2}) {
		t.Errorf("combined %s: %v", q.Encode(), got)
	}
	q.Set("status", "completed")
	if got, _ := b.searchIDs(q.Encode()); len(got) != 0 {
		t.Errorf("combined, no completed contract: %v", got)
	}
	q = url.Values{"sent_to": {"2020-01-01"}}
	if got, _ := b.searchIDs(q.Encode()); len(got) != 0 {
		t.Errorf("sent before 2020: %v", got)
	}
	// Receiver by phone (its exact key) and by enterprise name.
	// (A's admin is c1's enterprise contact too.)
	if got, _ := b.searchIDs("receiver=" + a.login); !slices.Equal(got, sortedIDs(w.c1, w.c3)) {
		t.Errorf("receiver=%s: %v", a.login, got)
	}
	if got, _ := b.searchIDs("receiver=" + url.QueryEscape("宁波丙方有限公司")); !slices.Equal(got, sortedIDs(w.c2, w.c3)) {
		t.Errorf("receiver by enterprise name: %v", got)
	}
	// A's admin finds nothing of B's own by any filter.
	if got, _ := a.searchIDs("q=" + url.QueryEscape("采购")); len(got) != 0 {
		t.Errorf("A's admin searching B's title: %v", got)
	}
	if got, _ := a.searchIDs("receiver=13900139001"); len(got) != 0 {
		t.Errorf("A's admin searching B's receiver: %v", got)
	}
	// By number, exactly.
	_, page := b.searchIDs("")
	var number string
	for _, h := range page.Items {
		if h.ID == w.c2 {
			number = h.Number
		}
	}
	if got, _ := b.searchIDs("number=" + number); !slices.Equal(got, []string{w.c2}) {
		t.Errorf("number=%s: %v", number, got)
	}
	if got, _ := a.searchIDs("number=" + number); len(got) != 0 {
		t.Errorf("A's admin by B's number: %v", got)
	}

	// Tags and folders are the caller's own.
	var tag struct{ ID string }
	a.call(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/tags", map[string]string{"name": "重要"}, http.StatusCreated).json(t, &tag)
	a.call(http.MethodPut, "/api/v1/enterprises/"+w.entA+"/tags/"+tag.ID+"/contracts/"+w.c1, nil, http.StatusNoContent)
	var folder struct{ ID string }
	p.call(http.MethodPost, "/api/v1/me/folders", map[string]string{"name": "租房"}, http.StatusCreated).json(t, &folder)
	p.call(http.MethodPut, "/api/v1/me/folders/"+folder.ID+"/contracts/"+w.c1, nil, http.StatusNoContent)
	if got, page := a.searchIDs("tag=" + tag.ID + "&enterprise=" + w.entA); !slices.Equal(got, []string{w.c1}) ||
		len(page.Items[0].Tags) != 1 || page.Items[0].Tags[0].ID != tag.ID || page.Items[0].Folder != "" {
		t.Errorf("by tag: %v %+v", got, page.Items)
	}
	if got, page := p.searchIDs("folder=" + folder.ID); !slices.Equal(got, []string{w.c1}) || page.Items[0].Folder != folder.ID || len(page.Items[0].Tags) != 0 {
		t.Errorf("by folder: %v %+v", got, page.Items)
	}
	// B sees c1 but neither A's tag nor P's folder on it.
	w.e.seeAll(b)
	_, page = b.searchIDs("")
	for _, h := range page.Items {
		if len(h.Tags) != 0 || h.Folder != "" {
			t.Errorf("B sees another's filing: %+v", h)
		}
	}
	b.refused(http.MethodGet, "/api/v1/search/contracts?tag="+tag.ID+"&enterprise="+w.entA, nil, http.StatusForbidden, "not_enterprise_member")

	// Refusals are 400s with the JSON error shape.
	for _, c := range []struct{ query, code string }{
		{"status=finished", "invalid_status"},
		{"sent_from=yesterday", "invalid_sent_from"},
		{"sort=title", "invalid_sort"},
		{"after=bm9wZQ", "invalid_cursor"},
		{"limit=0", "invalid_limit"},
		{"tag=" + tag.ID, "tag_needs_enterprise"},
		{"q=" + strings.Repeat("合", 201), "text_too_long"},
		{"sent_from=2026-12-02&sent_to=2026-11-01", "invalid_range"},
	} {
		r := a.refused(http.MethodGet, "/api/v1/search/contracts?"+c.query, nil, http.StatusBadRequest, c.code)
		var body struct {
			Error struct{ Code, Message string }
		}
		r.json(t, &body)
		if body.Error.Message == "" {
			t.Errorf("%s: no message: %s", c.query, r.Body)
		}
	}

	// Paging: one at a time, every contract once.
	var seen []string
	after := ""
	for range 5 {
		_, page := b.searchIDs("limit=1&after=" + after)
		for _, h := range page.Items {
			seen = append(seen, h.ID)
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if slices.Sort(seen); !slices.Equal(seen, sortedIDs(w.c1, w.c2, w.c3)) {
		t.Errorf("paged: %v", seen)
	}
	if r := e2eNoAuth(w.e, "/api/v1/search/contracts"); r != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r)
	}
	ready := w.e.c.must(http.MethodGet, "/readyz", nil)
	var rz struct {
		Checks struct {
			Search *struct {
				OK     bool           `json:"ok"`
				Detail map[string]any `json:"detail"`
			} `json:"search"`
		} `json:"checks"`
	}
	ready.json(t, &rz)
	if s := rz.Checks.Search; ready.Status != http.StatusOK || s == nil || !s.OK || s.Detail["lag"] != float64(0) || s.Detail["index"] != "bleve" {
		t.Errorf("readyz: %d %s", ready.Status, ready.Body)
	}
}

func e2eNoAuth(e *testEnv, path string) int {
	return e.c.must(http.MethodGet, path, nil).Status
}

// An account of enterprise A sees nothing of enterprise B in search,
// export or audit trail; the party of B's contract sees that one.
func TestSearchLeaksNothingBetweenEnterprises(t *testing.T) {
	w := newSearchWorld(t, testConfig(t))
	a := w.a
	// A member of A (not an admin) sees none of A's contracts either.
	var inv struct {
		AcceptURL string `json:"accept_url"`
	}
	a.call(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/invitations", map[string]string{"role": "member"}, http.StatusCreated).json(t, &inv)
	m := newUser(t, w.e, "13800138074")
	m.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK)

	secretsOfB := []string{w.c2, "采购合同", "13900139001", "宁波丙方", w.entB, w.bID}
	check := func(who string, body []byte, allowed ...string) {
		t.Helper()
		s := string(body)
		for _, a := range allowed {
			s = strings.ReplaceAll(s, a, "")
		}
		for _, x := range secretsOfB {
			if strings.Contains(s, x) {
				t.Errorf("%s sees %q: %.300s", who, x, body)
			}
		}
	}
	// c3 (B's, to A's admin as a person) is A's admin's to see: its own
	// words are allowed there, nothing else of B.
	c3Words := []string{w.c3, "宁波丙方有限公司", w.nameB, w.entB, w.bID}
	for _, c := range []struct {
		v       *vclient
		who     string
		allowed []string
	}{{a, "A's admin", c3Words}, {m, "A's member", nil}} {
		r := c.v.call(http.MethodGet, "/api/v1/search/contracts?limit=200", nil, http.StatusOK)
		check(c.who+" in search", r.Body, c.allowed...)
		for _, q := range []string{"q=" + url.QueryEscape("采购"), "receiver=13900139001", "sender=" + w.entB, "status=signing"} {
			r := c.v.call(http.MethodGet, "/api/v1/search/contracts?"+q, nil, http.StatusOK)
			check(c.who+" searching "+q, r.Body, c.allowed...)
		}
		r = c.v.call(http.MethodGet, "/api/v1/contracts/export?format=csv", nil, http.StatusOK)
		check(c.who+" in the export", r.Body, c.allowed...)
		for _, q := range []string{"", "limit=200", "stream=enterprise-" + w.entB, "actor=" + w.bID, "q=" + url.QueryEscape("采购"), "type=ContractCreated"} {
			r := c.v.call(http.MethodGet, "/api/v1/audit/trail?"+q, nil, http.StatusOK)
			check(c.who+" in the trail "+q, r.Body, c.allowed...)
		}
		c.v.refused(http.MethodGet, "/api/v1/audit/trail?stream=contract-"+w.c2, nil, http.StatusNotFound, "contract_not_found")
	}
	if got, _ := m.searchIDs(""); len(got) != 0 {
		t.Errorf("A's member sees %v", got)
	}
	// The person party sees B's contract to them once sent, with its whole
	// trail.
	if got, _ := a.searchIDs("sender=" + url.QueryEscape(w.nameB)); !slices.Equal(got, []string{w.c3}) {
		t.Errorf("A's admin as a party of B's contract: %v", got)
	}
	tr := a.trail("stream=contract-" + w.c3 + "&sort=oldest")
	if len(tr.Items) < 2 || tr.Items[0].Type != contract.TypeContractCreated || tr.Items[1].Type != contract.TypeContractSent {
		t.Errorf("trail of c3 for its party: %+v", tr.Items)
	}
}

// The audit trail: one contract's, an account's own, an enterprise's for
// its administrators, everything for the platform's auditors.
func TestAuditTrailOverHTTP(t *testing.T) {
	w := newSearchWorld(t, testConfig(t))
	a, b, p := w.a, w.b, w.p
	tr := b.trail("stream=contract-" + w.c2 + "&sort=oldest")
	var types []string
	for _, it := range tr.Items {
		types = append(types, it.Type)
		if it.Stream != "contract-"+w.c2 || it.Summary == "" || it.At.IsZero() || it.Position == 0 {
			t.Errorf("record %+v", it)
		}
		if it.ClientIP != "" && !strings.HasSuffix(it.ClientIP, "*") {
			t.Errorf("client IP not masked: %+v", it)
		}
	}
	if len(types) < 2 || types[0] != contract.TypeContractCreated || types[1] != contract.TypeContractSent || tr.Items[0].Actor != w.bID || tr.Items[0].Enterprise != w.entB {
		t.Fatalf("trail of c2: %v %+v", types, tr.Items)
	}
	// An account's own stream; nobody else's.
	if mine := p.trail("stream=account-" + w.personID); mine.Total == 0 {
		t.Errorf("own account trail empty")
	}
	if other := p.trail("stream=account-" + w.aID); other.Total != 0 {
		t.Errorf("someone else's account trail: %+v", other.Items)
	}
	// An enterprise's for its administrator, by type and text.
	if ent := a.trail("stream=enterprise-" + w.entA + "&type=EnterpriseVerified"); ent.Total != 1 || !strings.Contains(ent.Items[0].Summary, w.nameA) {
		t.Errorf("enterprise trail: %+v", ent.Items)
	}
	if ent := a.trail("q=" + url.QueryEscape("甲方科技")); ent.Total == 0 {
		t.Errorf("trail text search found nothing")
	}
	if ent := p.trail("stream=enterprise-" + w.entA); ent.Total != 0 {
		t.Errorf("an outsider reads the enterprise's trail: %+v", ent.Items)
	}
	// Time range.
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if none := b.trail("from=" + url.QueryEscape(future)); none.Total != 0 {
		t.Errorf("records from the future: %d", none.Total)
	}
	b.refused(http.MethodGet, "/api/v1/audit/trail?from=soon", nil, http.StatusBadRequest, "invalid_from")
	b.refused(http.MethodGet, "/api/v1/audit/trail?stream=nohyphen", nil, http.StatusBadRequest, "invalid_stream")
	b.refused(http.MethodGet, "/api/v1/audit/trail?sort=sideways", nil, http.StatusBadRequest, "invalid_sort")

	// A platform auditor reads both enterprises.
	aud := newUser(t, w.e, "auditor@example.com")
	aud.pos = grantRole(t, w.e, "auditor@example.com", "auditor")
	all := aud.trail("type=ContractCreated&limit=200")
	streams := map[string]bool{}
	for _, it := range all.Items {
		streams[it.Stream] = true
	}
	if !streams["contract-"+w.c1] || !streams["contract-"+w.c2] || !streams["contract-"+w.c3] {
		t.Errorf("platform auditor's trail: %v", streams)
	}
}

// The export is the search result, every page, as CSV for Excel.
func TestExportCSVOverHTTP(t *testing.T) {
	w := newSearchWorld(t, testConfig(t))
	r := w.b.call(http.MethodGet, "/api/v1/contracts/export?format=csv&status=signing", nil, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''%E5%90%88%E5%90%8C") || !strings.Contains(cd, ".csv") {
		t.Fatalf("disposition %q", cd)
	}
	body := r.Body
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], readapi.ExportHeader) || len(rows) != 4 {
		t.Fatalf("rows %q", rows)
	}
	byTitle := map[string][]string{}
	for _, row := range rows[1:] {
		byTitle[row[1]] = row
	}
	c2 := byTitle["采购合同 上海"]
	if c2 == nil || c2[4] != "签署中" || !strings.HasPrefix(c2[2], w.nameB) || !strings.Contains(c2[3], "宁波丙方有限公司") || c2[5] == "" || c2[6] == "" || !strings.HasPrefix(c2[0], "HT") {
		t.Fatalf("row of c2: %q", c2)
	}
	w.b.refused(http.MethodGet, "/api/v1/contracts/export?format=pdf", nil, http.StatusBadRequest, "invalid_format")
	x := w.b.call(http.MethodGet, "/api/v1/contracts/export?format=xlsx", nil, http.StatusOK)
	if !bytes.HasPrefix(x.Body, []byte("PK")) || !strings.Contains(x.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx: %q %.20q", x.Header.Get("Content-Disposition"), x.Body)
	}
}

// `signet projections rebuild search` refills the index from the log: the
// same documents and the same answers as the incremental run.
func TestSearchRebuildMatchesIncremental(t *testing.T) {
	cfg := testConfig(t)
	w := newSearchWorld(t, cfg)
	w.a.call(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/tags", map[string]string{"name": "重要"}, http.StatusCreated)
	queries := []string{"", "q=" + url.QueryEscape("租"), "status=signing", "sort=deadline_asc", "limit=1"}
	snapshot := func(e *testEnv, vs ...*vclient) map[string]string {
		t.Helper()
		out := map[string]string{}
		for i, v := range vs {
			v.env, v.client = e, e.c
			for _, q := range queries {
				out[fmt.Sprint(i, q)] = string(v.call(http.MethodGet, "/api/v1/search/contracts?"+q, nil, http.StatusOK).Body)
			}
			out[fmt.Sprint(i, "trail")] = string(v.call(http.MethodGet, "/api/v1/audit/trail?limit=200", nil, http.StatusOK).Body)
		}
		for _, id := range []string{w.c1, w.c2, w.c3} {
			d, ok, err := e.app.search.index.GetContract(context.Background(), id)
			if err != nil || !ok {
				t.Fatalf("document %s: %v %v", id, ok, err)
			}
			b, _ := json.Marshal(d)
			out[id] = string(b)
		}
		return out
	}
	w.e.seeAll(w.a, w.b, w.p)
	before := snapshot(w.e, w.a, w.b, w.p)
	w.e.shutdown()

	var stdout, stderr strings.Builder
	if err := runProjections(context.Background(), []string{"rebuild", "--data", cfg.Data, "search"}, &stdout, &stderr); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "rebuilt search") || !strings.Contains(stdout.String(), "events/s") {
		t.Fatalf("rebuild output %q", stdout.String())
	}
	e2 := start(t, cfg, roles{true, true, true}, nil)
	after := snapshot(e2, w.a, w.b, w.p)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s differs after the rebuild:\n%s\n%s", k, v, after[k])
		}
	}
}

// An enterprise auditor reads everything of the enterprise (lists,
// search, export, trail, a contract) and changes nothing.
func TestEnterpriseAuditorReadsAndCannotWrite(t *testing.T) {
	w := newSearchWorld(t, testConfig(t))
	a := w.a
	var inv struct {
		AcceptURL string `json:"accept_url"`
	}
	a.call(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/invitations", map[string]string{"role": "auditor"}, http.StatusCreated).json(t, &inv)
	u := newUser(t, w.e, "13800138075")
	var joined struct{ Role string }
	u.call(http.MethodPost, inv.AcceptURL, nil, http.StatusOK).json(t, &joined)
	if joined.Role != "auditor" {
		t.Fatalf("joined as %q", joined.Role)
	}
	// Reads: like an administrator.
	if got, _ := u.searchIDs(""); !slices.Equal(got, []string{w.c1}) {
		t.Errorf("auditor's search: %v", got)
	}
	var list struct {
		Items []struct{ ID string } `json:"items"`
	}
	u.call(http.MethodGet, "/api/v1/contracts", nil, http.StatusOK).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != w.c1 {
		t.Errorf("auditor's list: %+v", list.Items)
	}
	u.contract(w.c1)
	if csv := u.call(http.MethodGet, "/api/v1/contracts/export?format=csv", nil, http.StatusOK); !strings.Contains(string(csv.Body), "房屋租赁合同 北京") {
		t.Errorf("auditor's export: %s", csv.Body)
	}
	if tr := u.trail("stream=enterprise-" + w.entA); tr.Total == 0 {
		t.Error("auditor's enterprise trail is empty")
	}
	if tr := u.trail("stream=contract-" + w.c1); tr.Total < 2 {
		t.Errorf("auditor's contract trail: %+v", tr.Items)
	}
	// Writes: refused.
	tpl := a.template(w.entA, false)
	body := sendBody(tpl, w.entA, w.p.login, "林某某", a.login, time.Now().Add(72*time.Hour))
	u.refused(http.MethodPost, "/api/v1/contracts", body, http.StatusForbidden, "auditor_read_only")
	u.refused(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/invitations", map[string]string{"role": "member"}, http.StatusForbidden, "auditor_read_only")
	seal := a.defaultSeal(w.entA)
	u.refused(http.MethodPut, "/api/v1/enterprises/"+w.entA+"/seals/"+seal+"/grants/"+w.personID, nil, http.StatusForbidden, "auditor_read_only")
	u.refused(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/seals/"+seal+"/disable", nil, http.StatusForbidden, "auditor_read_only")
	u.refused(http.MethodPost, "/api/v1/templates", map[string]any{"name": "模板", "contract_type": "租赁", "enterprise_id": w.entA}, http.StatusForbidden, "auditor_read_only")
	// Tags are refused by the filing commands, which check for administrators.
	r := u.call(http.MethodPost, "/api/v1/enterprises/"+w.entA+"/tags", map[string]string{"name": "审计"}, http.StatusForbidden)
	if c := r.errorCode(); c != "auditor_read_only" && c != "not_enterprise_admin" {
		t.Errorf("tag by an auditor: %s", r.Body)
	}
	// Nor sign for the enterprise a contract addressed to it.
	tplB := w.b.template(w.entB, false)
	c4 := w.b.sendTitled(tplB, w.entB, "审计测试合同", w.p.login, w.nameA)
	var k contractView
	w.b.call(http.MethodGet, "/api/v1/contracts/"+c4, nil, http.StatusOK).json(t, &k)
	var entParty string
	for _, pt := range k.Parties {
		if pt.Role == "甲方" {
			entParty = pt.ID
		}
	}
	r = u.must(http.MethodPost, "/api/v1/contracts/"+c4+"/parties/"+entParty+"/sign-code", map[string]string{"enterprise_id": w.entA}, "Authorization", "Bearer "+u.token)
	if r.Status != http.StatusForbidden || r.errorCode() != "auditor_read_only" {
		if r.Status != http.StatusAccepted {
			t.Fatalf("sign code for an auditor: %d %s", r.Status, r.Body)
		}
		u.refused(http.MethodPost, "/api/v1/contracts/"+c4+"/parties/"+entParty+"/signature",
			map[string]string{"code": codeRe.FindString(lastSMS(t, w.e.c, u.login)), "enterprise_id": w.entA, "seal_id": seal}, http.StatusForbidden, "auditor_read_only")
	}
	// An admin cannot grant the auditor a seal either.
	auditorID := accountIDOf(t, u)
	a.refused(http.MethodPut, "/api/v1/enterprises/"+w.entA+"/seals/"+seal+"/grants/"+auditorID, nil, http.StatusUnprocessableEntity, "auditor_cannot_sign")
}
