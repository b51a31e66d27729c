package elastic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/text/width"
)

// standIn is an in-process stand-in for the part of the Elasticsearch 8 REST
// API that the adapter uses, so that the acceptance suite runs through the
// real go-elasticsearch client here, where no Elasticsearch can run. IT IS
// NOT ELASTICSEARCH: its answers follow Elasticsearch's documented shapes
// and semantics for exactly this subset, and the real-server run
// (SIGNET_SEARCH_URL) is what proves the adapter.
//
// Covered: composable index templates (index_patterns with '*', priority,
// settings, mappings; applied at index creation); create and delete index
// (ignore_unavailable); get alias; _aliases add/remove applied atomically;
// _bulk "index" (with version_type=external: the version must be greater
// than the stored one, else 409) and "create" (409 when the ID exists),
// require_alias, per-item errors; GET _doc (realtime, _source_includes);
// _search with size, track_total_hits, _source includes, sort on keyword and
// long fields (missing values last), search_after; refresh (a no-op: writes
// are visible at once). Queries: bool (filter, must, should with
// minimum_should_match, must_not), term, terms, match (operator and/or),
// range (gt, gte, lt, lte) and match_all. Mappings: dynamic "strict" (unknown
// fields refused), keyword, long, text with an analyzer and subfields,
// object with enabled=false. Analyzers: "cjk" (emulated: words of
// letters/digits, CJK characters bigrammed with unigrams for isolated ones,
// width folding, lower case, Elasticsearch's default English stop words)
// and custom analyzers of an ngram tokenizer (min_gram = max_gram = 1,
// token_chars letter/digit) with the lowercase filter.
//
// Not covered, among much else: real Unicode word segmentation (UAX #29),
// scoring, refresh intervals (real searches only see writes after a
// refresh, which the adapter asks for), shards, replicas, cluster state,
// index auto-creation (the stand-in refuses writes to unknown indices where
// Elasticsearch would create one), and any query or API not listed above:
// those answer 400 so that the adapter cannot rely on them unnoticed.
type standIn struct {
	mu        sync.Mutex
	templates map[string]esTemplate
	indices   map[string]*esIndex
	aliases   map[string][]string // alias -> indices
	requests  []string            // "METHOD path", for tests
}

type esTemplate struct {
	Patterns []string       `json:"index_patterns"`
	Priority int            `json:"priority"`
	Template map[string]any `json:"template"`
}

type esIndex struct {
	fields   map[string]esField // flattened: "title", "title.uni"
	strict   bool
	docs     map[string]*esDoc
	settings map[string]any
}

type esField struct {
	typ      string // keyword, long, text, object-disabled
	analyzer string
}

type esDoc struct {
	source  map[string]any
	raw     json.RawMessage
	version int64
}

func newStandIn(t *testing.T) *httptest.Server {
	s := &standIn{templates: map[string]esTemplate{}, indices: map[string]*esIndex{}, aliases: map[string][]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

type esFailure struct {
	status int
	typ    string
	reason string
}

func fail(status int, typ, format string, args ...any) *esFailure {
	return &esFailure{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	status, out, f := s.route(r, body)
	if f != nil {
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]any{
			"error":  map[string]any{"type": f.typ, "reason": f.reason},
			"status": f.status,
		})
		return
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

func (s *standIn) route(r *http.Request, body []byte) (int, any, *esFailure) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "_index_template":
		return s.putTemplate(parts[1], body)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "_alias":
		return s.getAlias(parts[1])
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "_aliases":
		return s.updateAliases(body)
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "_bulk":
		return s.bulk(body, q.Get("require_alias") == "true")
	case r.Method == http.MethodPut && len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		return s.createIndex(parts[0], body)
	case r.Method == http.MethodDelete && len(parts) == 1:
		return s.deleteIndices(strings.Split(parts[0], ","), q.Get("ignore_unavailable") == "true")
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "_refresh":
		for _, n := range strings.Split(parts[0], ",") {
			if _, f := s.resolve(n, false); f != nil {
				return 0, nil, f
			}
		}
		return 200, map[string]any{"_shards": map[string]int{"total": 1, "successful": 1, "failed": 0}}, nil
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "_doc":
		return s.getDoc(parts[0], parts[2], q.Get("_source_includes"))
	case (r.Method == http.MethodPost || r.Method == http.MethodGet) && len(parts) == 2 && parts[1] == "_search":
		return s.search(parts[0], body)
	}
	return 0, nil, fail(400, "stand_in_unsupported", "the stand-in does not implement %s %s", r.Method, r.URL.Path)
}

func (s *standIn) putTemplate(name string, body []byte) (int, any, *esFailure) {
	var t esTemplate
	if err := json.Unmarshal(body, &t); err != nil || len(t.Patterns) == 0 {
		return 0, nil, fail(400, "parse_exception", "bad index template: %v", err)
	}
	for other, o := range s.templates {
		if other != name && o.Priority == t.Priority && overlaps(o.Patterns, t.Patterns) {
			return 0, nil, fail(400, "illegal_argument_exception", "index template [%s] has index patterns overlapping with [%s] at the same priority", name, other)
		}
	}
	s.templates[name] = t
	return 200, map[string]any{"acknowledged": true}, nil
}

// overlaps is a rough check: a pattern of one matches a pattern of the other
// read as a name.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if matchGlob(x, strings.ReplaceAll(y, "*", "x")) || matchGlob(y, strings.ReplaceAll(x, "*", "x")) {
				return true
			}
		}
	}
	return false
}

func matchGlob(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

func (s *standIn) createIndex(name string, body []byte) (int, any, *esFailure) {
	if _, ok := s.indices[name]; ok {
		return 0, nil, fail(400, "resource_already_exists_exception", "index [%s] already exists", name)
	}
	if _, ok := s.aliases[name]; ok {
		return 0, nil, fail(400, "invalid_index_name_exception", "an alias named [%s] exists", name)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		return 0, nil, fail(400, "stand_in_unsupported", "the stand-in only creates indices from templates")
	}
	best, found := esTemplate{}, false
	for _, t := range s.templates {
		for _, p := range t.Patterns {
			if matchGlob(p, name) && (!found || t.Priority > best.Priority) {
				best, found = t, true
			}
		}
	}
	if !found {
		return 0, nil, fail(400, "stand_in_unsupported", "no template matches [%s]", name)
	}
	idx := &esIndex{fields: map[string]esField{}, docs: map[string]*esDoc{}}
	idx.settings, _ = best.Template["settings"].(map[string]any)
	m, _ := best.Template["mappings"].(map[string]any)
	idx.strict = m["dynamic"] == "strict"
	props, _ := m["properties"].(map[string]any)
	for name, p := range props {
		def, _ := p.(map[string]any)
		if f := s.field(idx, name, def); f != nil {
			return 0, nil, f
		}
	}
	s.indices[name] = idx
	return 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name}, nil
}

func (s *standIn) field(idx *esIndex, name string, def map[string]any) *esFailure {
	typ, _ := def["type"].(string)
	switch typ {
	case "keyword", "long":
		idx.fields[name] = esField{typ: typ}
	case "object":
		if def["enabled"] != false {
			return fail(400, "stand_in_unsupported", "object fields must be enabled=false")
		}
		idx.fields[name] = esField{typ: "object-disabled"}
	case "text":
		an, _ := def["analyzer"].(string)
		if an == "" {
			an = "standard"
		}
		if an != "cjk" {
			if err := checkUnigram(idx.settings, an); err != nil {
				return err
			}
		}
		idx.fields[name] = esField{typ: "text", analyzer: an}
		subs, _ := def["fields"].(map[string]any)
		for sub, sd := range subs {
			d, _ := sd.(map[string]any)
			if f := s.field(idx, name+"."+sub, d); f != nil {
				return f
			}
		}
	default:
		return fail(400, "mapper_parsing_exception", "the stand-in does not know type [%s] of [%s]", typ, name)
	}
	return nil
}

// checkUnigram accepts only the custom analyzer shape the stand-in emulates.
func checkUnigram(settings map[string]any, name string) *esFailure {
	get := func(m any, k string) map[string]any { v, _ := m.(map[string]any)[k].(map[string]any); return v }
	analysis := get(settings, "analysis")
	an := get(get(analysis, "analyzer"), name)
	if an == nil || an["type"] != "custom" {
		return fail(400, "mapper_parsing_exception", "analyzer [%s] has not been configured in mappings", name)
	}
	tok := get(get(analysis, "tokenizer"), fmt.Sprint(an["tokenizer"]))
	filters, _ := json.Marshal(an["filter"])
	chars, _ := json.Marshal(tok["token_chars"])
	if tok["type"] != "ngram" || fmt.Sprint(tok["min_gram"]) != "1" || fmt.Sprint(tok["max_gram"]) != "1" ||
		string(chars) != `["letter","digit"]` || string(filters) != `["lowercase"]` {
		return fail(400, "stand_in_unsupported", "the stand-in emulates only ngram(1,1) letter/digit + lowercase analyzers")
	}
	return nil
}

func (s *standIn) getAlias(name string) (int, any, *esFailure) {
	idxs, ok := s.aliases[name]
	if !ok || len(idxs) == 0 {
		// Elasticsearch answers this 404 with "error" as a plain string.
		return 404, map[string]any{"error": "alias [" + name + "] missing", "status": 404}, nil
	}
	out := map[string]any{}
	for _, i := range idxs {
		out[i] = map[string]any{"aliases": map[string]any{name: map[string]any{}}}
	}
	return 200, out, nil
}

func (s *standIn) updateAliases(body []byte) (int, any, *esFailure) {
	var req struct {
		Actions []map[string]struct {
			Index string `json:"index"`
			Alias string `json:"alias"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, fail(400, "parse_exception", "%v", err)
	}
	next := map[string][]string{}
	for a, l := range s.aliases {
		next[a] = slices.Clone(l)
	}
	for _, act := range req.Actions {
		for op, a := range act {
			if _, ok := s.indices[a.Index]; !ok {
				return 0, nil, fail(404, "index_not_found_exception", "no such index [%s]", a.Index)
			}
			switch op {
			case "add":
				if !slices.Contains(next[a.Alias], a.Index) {
					next[a.Alias] = append(next[a.Alias], a.Index)
				}
			case "remove":
				i := slices.Index(next[a.Alias], a.Index)
				if i < 0 {
					return 0, nil, fail(404, "aliases_not_found_exception", "aliases [%s] missing", a.Alias)
				}
				next[a.Alias] = slices.Delete(next[a.Alias], i, i+1)
			default:
				return 0, nil, fail(400, "stand_in_unsupported", "alias action [%s]", op)
			}
		}
	}
	for a, l := range next {
		if len(l) == 0 {
			delete(next, a)
		}
	}
	s.aliases = next // all actions or none
	return 200, map[string]any{"acknowledged": true}, nil
}

func (s *standIn) deleteIndices(names []string, ignoreMissing bool) (int, any, *esFailure) {
	for _, n := range names {
		if _, ok := s.indices[n]; !ok && !ignoreMissing {
			return 0, nil, fail(404, "index_not_found_exception", "no such index [%s]", n)
		}
	}
	for _, n := range names {
		delete(s.indices, n)
		for a, l := range s.aliases {
			if i := slices.Index(l, n); i >= 0 {
				s.aliases[a] = slices.Delete(l, i, i+1)
				if len(s.aliases[a]) == 0 {
					delete(s.aliases, a)
				}
			}
		}
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

// resolve finds the one index name stands for (an index or an alias of one).
func (s *standIn) resolve(name string, requireAlias bool) (string, *esFailure) {
	if l, ok := s.aliases[name]; ok {
		if len(l) != 1 {
			return "", fail(400, "illegal_argument_exception", "alias [%s] has more than one index", name)
		}
		return l[0], nil
	}
	if requireAlias {
		return "", fail(404, "index_not_found_exception", "no such index [%s] and [require_alias] request flag is [true] and [%s] is not an alias", name, name)
	}
	if _, ok := s.indices[name]; !ok {
		return "", fail(404, "index_not_found_exception", "no such index [%s]", name)
	}
	return name, nil
}

func (s *standIn) bulk(body []byte, requireAlias bool) (int, any, *esFailure) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var items []any
	anyErr := false
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var action map[string]struct {
			Index       string `json:"_index"`
			ID          string `json:"_id"`
			Version     *int64 `json:"version"`
			VersionType string `json:"version_type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			return 0, nil, fail(400, "illegal_argument_exception", "malformed action line")
		}
		if !sc.Scan() {
			return 0, nil, fail(400, "illegal_argument_exception", "action without source")
		}
		src := slices.Clone(sc.Bytes())
		for op, a := range action {
			status, version, f := s.bulkItem(op, a.Index, a.ID, a.Version, a.VersionType, src, requireAlias)
			item := map[string]any{"_index": a.Index, "_id": a.ID, "status": status}
			if f != nil {
				anyErr = true
				item["status"] = f.status
				item["error"] = map[string]any{"type": f.typ, "reason": f.reason}
			} else {
				item["_version"] = version
				item["result"] = map[int]string{200: "updated", 201: "created"}[status]
			}
			items = append(items, map[string]any{op: item})
		}
	}
	return 200, map[string]any{"took": 1, "errors": anyErr, "items": items}, nil
}

func (s *standIn) bulkItem(op, index, id string, version *int64, vtype string, src []byte, requireAlias bool) (int, int64, *esFailure) {
	if op != "index" && op != "create" {
		return 0, 0, fail(400, "stand_in_unsupported", "bulk operation [%s]", op)
	}
	if id == "" {
		return 0, 0, fail(400, "stand_in_unsupported", "the stand-in needs an _id")
	}
	name, f := s.resolve(index, requireAlias)
	if f != nil {
		return 0, 0, f
	}
	idx := s.indices[name]
	var source map[string]any
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&source); err != nil {
		return 0, 0, fail(400, "document_parsing_exception", "%v", err)
	}
	for k, v := range source {
		f, ok := idx.fields[k]
		if !ok {
			if idx.strict {
				return 0, 0, fail(400, "strict_dynamic_mapping_exception", "mapping set to strict, dynamic introduction of [%s] within [_doc] is not allowed", k)
			}
			continue
		}
		if err := checkValue(f, k, v); err != nil {
			return 0, 0, err
		}
	}
	old, exists := idx.docs[id]
	next := int64(1)
	switch {
	case op == "create" && exists:
		return 0, 0, fail(409, "version_conflict_engine_exception", "[%s]: version conflict, document already exists", id)
	case vtype == "external":
		if version == nil || *version < 0 {
			return 0, 0, fail(400, "action_request_validation_exception", "an external version is required")
		}
		if exists && *version <= old.version {
			return 0, 0, fail(409, "version_conflict_engine_exception",
				"[%s]: version conflict, current version [%d] is higher or equal to the one provided [%d]", id, old.version, *version)
		}
		next = *version
	case vtype != "":
		return 0, 0, fail(400, "stand_in_unsupported", "version_type [%s]", vtype)
	case exists:
		next = old.version + 1
	}
	idx.docs[id] = &esDoc{source: source, raw: src, version: next}
	if exists {
		return 200, next, nil
	}
	return 201, next, nil
}

func checkValue(f esField, name string, v any) *esFailure {
	if v == nil || f.typ == "object-disabled" {
		return nil
	}
	vals := []any{v}
	if l, ok := v.([]any); ok {
		vals = l
	}
	for _, x := range vals {
		ok := false
		switch f.typ {
		case "keyword", "text":
			_, ok = x.(string)
		case "long":
			n, isNum := x.(json.Number)
			_, err := strconv.ParseInt(string(n), 10, 64)
			ok = isNum && err == nil
		}
		if !ok {
			return fail(400, "document_parsing_exception", "failed to parse field [%s] of type [%s]", name, f.typ)
		}
	}
	return nil
}

func (s *standIn) getDoc(index, id, includes string) (int, any, *esFailure) {
	name, f := s.resolve(index, false)
	if f != nil {
		return 0, nil, f
	}
	d, ok := s.indices[name].docs[id]
	if !ok {
		return 404, map[string]any{"_index": name, "_id": id, "found": false}, nil
	}
	return 200, map[string]any{"_index": name, "_id": id, "_version": d.version, "found": true,
		"_source": filterSource(d.source, strings.Split(includes, ","))}, nil
}

func filterSource(src map[string]any, includes []string) map[string]any {
	if len(includes) == 0 || (len(includes) == 1 && includes[0] == "") {
		return src
	}
	out := map[string]any{}
	for _, k := range includes {
		if v, ok := src[k]; ok {
			out[k] = v
		}
	}
	return out
}

type searchBody struct {
	Size           *int             `json:"size"`
	TrackTotalHits any              `json:"track_total_hits"`
	Source         []string         `json:"_source"`
	Query          map[string]any   `json:"query"`
	Sort           []map[string]any `json:"sort"`
	SearchAfter    []any            `json:"search_after"`
}

func (s *standIn) search(index string, body []byte) (int, any, *esFailure) {
	name, f := s.resolve(index, false)
	if f != nil {
		return 0, nil, f
	}
	idx := s.indices[name]
	var req searchBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return 0, nil, fail(400, "parsing_exception", "%v", err)
	}
	if req.TrackTotalHits != true {
		return 0, nil, fail(400, "stand_in_unsupported", "the stand-in always counts exactly: send track_total_hits: true")
	}
	size := 10
	if req.Size != nil {
		size = *req.Size
	}
	type sortKey struct {
		field string
		desc  bool
		typ   string
	}
	var keys []sortKey
	for _, s := range req.Sort {
		for field, spec := range s {
			order := ""
			switch v := spec.(type) {
			case string:
				order = v
			case map[string]any:
				order, _ = v["order"].(string)
			}
			fd, ok := idx.fields[field]
			if !ok || (fd.typ != "keyword" && fd.typ != "long") {
				return 0, nil, fail(400, "illegal_argument_exception", "no sortable field [%s]", field)
			}
			keys = append(keys, sortKey{field, order == "desc", fd.typ})
		}
	}
	if req.SearchAfter != nil && len(req.SearchAfter) != len(keys) {
		return 0, nil, fail(400, "illegal_argument_exception", "search_after has %d values, sort has %d", len(req.SearchAfter), len(keys))
	}
	var matched []string
	for id, d := range idx.docs {
		ok, f := evalQuery(idx, d, req.Query)
		if f != nil {
			return 0, nil, f
		}
		if ok {
			matched = append(matched, id)
		}
	}
	total := len(matched)
	values := func(id string) []any {
		out := make([]any, len(keys))
		for i, k := range keys {
			vs := docValues(idx.docs[id].source[k.field])
			if len(vs) > 0 {
				out[i] = vs[0]
				if k.typ == "long" {
					n, _ := strconv.ParseInt(vs[0], 10, 64)
					out[i] = n
				}
			}
		}
		return out
	}
	// cmp orders a before b; missing values last in both directions.
	cmp := func(a, b []any) int {
		for i, k := range keys {
			x, y := a[i], b[i]
			switch {
			case x == nil && y == nil:
				continue
			case x == nil:
				return 1
			case y == nil:
				return -1
			}
			c := 0
			if k.typ == "long" {
				c = compareInt(x.(int64), y.(int64))
			} else {
				c = strings.Compare(x.(string), y.(string))
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	sort.Slice(matched, func(i, j int) bool {
		c := cmp(values(matched[i]), values(matched[j]))
		if c != 0 {
			return c < 0
		}
		return matched[i] < matched[j]
	})
	if req.SearchAfter != nil {
		after := make([]any, len(keys))
		for i, k := range keys {
			switch v := req.SearchAfter[i].(type) {
			case json.Number:
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil || k.typ != "long" {
					return 0, nil, fail(400, "illegal_argument_exception", "bad search_after value %v", v)
				}
				after[i] = n
			case string:
				if k.typ != "keyword" {
					return 0, nil, fail(400, "illegal_argument_exception", "bad search_after value %q", v)
				}
				after[i] = v
			default:
				return 0, nil, fail(400, "illegal_argument_exception", "bad search_after value %v", v)
			}
		}
		var rest []string
		for _, id := range matched {
			if cmp(values(id), after) > 0 {
				rest = append(rest, id)
			}
		}
		matched = rest
	}
	if len(matched) > size {
		matched = matched[:size]
	}
	hits := []any{}
	for _, id := range matched {
		hits = append(hits, map[string]any{"_index": name, "_id": id, "_score": nil,
			"_source": filterSource(idx.docs[id].source, req.Source), "sort": values(id)})
	}
	return 200, map[string]any{"took": 1, "timed_out": false,
		"hits": map[string]any{"total": map[string]any{"value": total, "relation": "eq"}, "max_score": nil, "hits": hits}}, nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// docValues are a field's values as strings (numbers in decimal).
func docValues(v any) []string {
	var out []string
	add := func(x any) {
		switch y := x.(type) {
		case string:
			out = append(out, y)
		case json.Number:
			out = append(out, string(y))
		}
	}
	if l, ok := v.([]any); ok {
		for _, x := range l {
			add(x)
		}
	} else if v != nil {
		add(v)
	}
	return out
}

// fieldValues reads a (sub)field: "title.uni" reads the source's "title".
func fieldValues(d *esDoc, field string) []string {
	base, _, _ := strings.Cut(field, ".")
	return docValues(d.source[base])
}

func evalQuery(idx *esIndex, d *esDoc, q map[string]any) (bool, *esFailure) {
	if len(q) != 1 {
		return false, fail(400, "parsing_exception", "a query needs exactly one type, got %d", len(q))
	}
	for typ, body := range q {
		switch typ {
		case "match_all":
			return true, nil
		case "bool":
			return evalBool(idx, d, body)
		case "term", "terms", "match", "range":
			m, _ := body.(map[string]any)
			if len(m) != 1 {
				return false, fail(400, "parsing_exception", "[%s] query needs one field", typ)
			}
			for field, arg := range m {
				fd, ok := idx.fields[field]
				if !ok {
					return false, nil // Elasticsearch matches nothing on an unmapped field
				}
				return evalLeaf(typ, fd, fieldValues(d, field), arg)
			}
		}
		return false, fail(400, "parsing_exception", "unknown query [%s]", typ)
	}
	return false, nil
}

func evalBool(idx *esIndex, d *esDoc, body any) (bool, *esFailure) {
	m, ok := body.(map[string]any)
	if !ok {
		return false, fail(400, "parsing_exception", "bool must be an object")
	}
	clauses := func(k string) ([]map[string]any, *esFailure) {
		switch v := m[k].(type) {
		case nil:
			return nil, nil
		case map[string]any:
			return []map[string]any{v}, nil
		case []any:
			out := make([]map[string]any, len(v))
			for i, x := range v {
				if out[i], ok = x.(map[string]any); !ok {
					return nil, fail(400, "parsing_exception", "bool.%s holds a non-object", k)
				}
			}
			return out, nil
		}
		return nil, fail(400, "parsing_exception", "bool.%s", k)
	}
	for k := range m {
		if !slices.Contains([]string{"filter", "must", "should", "must_not", "minimum_should_match"}, k) {
			return false, fail(400, "parsing_exception", "bool has unknown key [%s]", k)
		}
	}
	for _, k := range []string{"filter", "must"} {
		cs, f := clauses(k)
		if f != nil {
			return false, f
		}
		for _, c := range cs {
			if ok, f := evalQuery(idx, d, c); f != nil || !ok {
				return false, f
			}
		}
	}
	not, f := clauses("must_not")
	if f != nil {
		return false, f
	}
	for _, c := range not {
		if ok, f := evalQuery(idx, d, c); f != nil || ok {
			return false, f
		}
	}
	should, f := clauses("should")
	if f != nil {
		return false, f
	}
	min := 0
	if len(should) > 0 && m["filter"] == nil && m["must"] == nil {
		min = 1
	}
	if v, ok := m["minimum_should_match"]; ok {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return false, fail(400, "stand_in_unsupported", "minimum_should_match must be an integer")
		}
		min = n
	}
	hits := 0
	for _, c := range should {
		ok, f := evalQuery(idx, d, c)
		if f != nil {
			return false, f
		}
		if ok {
			hits++
		}
	}
	return hits >= min, nil
}

func evalLeaf(typ string, fd esField, values []string, arg any) (bool, *esFailure) {
	tokens := func() map[string]bool {
		set := map[string]bool{}
		for _, v := range values {
			if fd.typ == "text" {
				for _, t := range analyze(fd.analyzer, v) {
					set[t] = true
				}
			} else {
				set[v] = true
			}
		}
		return set
	}
	switch typ {
	case "term":
		v := arg
		if m, ok := arg.(map[string]any); ok {
			v = m["value"]
		}
		return tokens()[scalar(v)], nil
	case "terms":
		l, ok := arg.([]any)
		if !ok {
			return false, fail(400, "parsing_exception", "[terms] needs an array")
		}
		set := tokens()
		for _, v := range l {
			if set[scalar(v)] {
				return true, nil
			}
		}
		return false, nil
	case "match":
		m, ok := arg.(map[string]any)
		if !ok {
			m = map[string]any{"query": arg}
		}
		if fd.typ != "text" {
			return tokens()[scalar(m["query"])], nil
		}
		want := analyze(fd.analyzer, scalar(m["query"]))
		if len(want) == 0 {
			return false, nil // zero_terms_query: none
		}
		set := tokens()
		and := m["operator"] == "and"
		for _, t := range want {
			if set[t] && !and {
				return true, nil
			}
			if !set[t] && and {
				return false, nil
			}
		}
		return and, nil
	case "range":
		m, ok := arg.(map[string]any)
		if !ok || fd.typ != "long" {
			return false, fail(400, "stand_in_unsupported", "the stand-in ranges over long fields only")
		}
		for _, v := range values {
			n, _ := strconv.ParseInt(v, 10, 64)
			in := true
			for op, bound := range m {
				b, err := strconv.ParseInt(scalar(bound), 10, 64)
				if err != nil {
					return false, fail(400, "parsing_exception", "range bound %v", bound)
				}
				switch op {
				case "gte":
					in = in && n >= b
				case "gt":
					in = in && n > b
				case "lte":
					in = in && n <= b
				case "lt":
					in = in && n < b
				default:
					return false, fail(400, "parsing_exception", "range has unknown key [%s]", op)
				}
			}
			if in {
				return true, nil
			}
		}
		return false, nil
	}
	return false, nil
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	}
	return fmt.Sprint(v)
}

// englishStop is the stop set of Elasticsearch's cjk analyzer (_english_).
var englishStop = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with") {
		englishStop[w] = true
	}
}

func isCJKRune(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// analyze emulates the "cjk" analyzer and the unigram analyzer (see standIn).
func analyze(analyzer, s string) []string {
	s = strings.ToLower(width.Fold.String(s))
	var out []string
	if analyzer != "cjk" {
		for _, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, string(r))
			}
		}
		return out
	}
	runes := []rune(s)
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case isCJKRune(r):
			j := i
			for j < len(runes) && isCJKRune(runes[j]) {
				j++
			}
			if j-i == 1 {
				out = append(out, string(runes[i]))
			}
			for k := i; k+1 < j; k++ {
				out = append(out, string(runes[k:k+2]))
			}
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(runes) && !isCJKRune(runes[j]) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j])) {
				j++
			}
			if w := string(runes[i:j]); !englishStop[w] {
				out = append(out, w)
			}
			i = j
		default:
			i++
		}
	}
	return out
}
