package elastic

import (
	"time"

	"signet/infra/search"
)

type obj = map[string]any

func term(field, value string) obj { return obj{"term": obj{field: value}} }

func terms(field string, values []string) obj { return obj{"terms": obj{field: values}} }

func filter(qs ...obj) obj { return obj{"bool": obj{"filter": qs}} }

func anyOf(qs ...obj) obj { return obj{"bool": obj{"should": qs, "minimum_should_match": 1}} }

// text is the conjunction of the terms on field (see search.Terms): one
// character on the unigram subfield, anything longer as a match of all its
// cjk tokens. nil when there is no term.
func text(field string, ts []search.Term) obj {
	var qs []obj
	for _, t := range ts {
		if t.Single {
			qs = append(qs, term(field+".uni", t.Text))
			continue
		}
		qs = append(qs, obj{"match": obj{field: obj{"query": t.Text, "operator": "and"}}})
	}
	switch len(qs) {
	case 0:
		return nil
	case 1:
		return qs[0]
	}
	return filter(qs...)
}

func textOrExact(fields []string, ts []search.Term, exact []string, raw string) obj {
	var qs []obj
	for _, f := range fields {
		if q := text(f, ts); q != nil {
			qs = append(qs, q)
		}
	}
	for _, f := range exact {
		qs = append(qs, term(f, raw))
	}
	return anyOf(qs...)
}

// timeRange is [from, to) in microseconds.
func timeRange(field string, from, to *time.Time) obj {
	r := obj{}
	if from != nil {
		r["gte"] = search.Micros(*from)
	}
	if to != nil {
		r["lt"] = search.Micros(*to)
	}
	return obj{"range": obj{field: r}}
}

func contractQuery(q search.ContractQuery, p search.Prepared) obj {
	must := []obj{terms("visible", p.Principals)}
	if t := text("title", p.Text); t != nil {
		must = append(must, t)
	}
	if q.Sender != "" {
		must = append(must, textOrExact([]string{"sender_name", "sender_person"}, p.Sender,
			[]string{"sender_account", "sender_enterprise"}, q.Sender))
	}
	if q.Receiver != "" {
		must = append(must, textOrExact([]string{"receivers"}, p.Receiver, []string{"receiver_keys"}, q.Receiver))
	}
	if len(q.Status) > 0 {
		must = append(must, terms("status", q.Status))
	}
	if q.SentFrom != nil || q.SentTo != nil {
		must = append(must, timeRange("sent_us", q.SentFrom, q.SentTo))
	}
	if q.Number != "" {
		must = append(must, term("number", q.Number))
	}
	for _, tag := range q.Tags {
		must = append(must, term("tags", tag))
	}
	if q.Folder != "" {
		must = append(must, term("folders", q.Folder))
	}
	return filter(must...)
}

func auditQuery(q search.AuditQuery, p search.Prepared) obj {
	var must []obj
	if !p.Platform {
		must = append(must, terms("visible", p.Principals))
	}
	for _, f := range []struct{ field, value string }{
		{"actor", q.Actor}, {"enterprise", q.Enterprise}, {"type", q.Type}, {"stream", q.Stream},
	} {
		if f.value != "" {
			must = append(must, term(f.field, f.value))
		}
	}
	if t := text("summary", p.Text); t != nil {
		must = append(must, t)
	}
	if q.From != nil || q.To != nil {
		must = append(must, timeRange("at_us", q.From, q.To))
	}
	return filter(must...)
}

// body sorts by key then id, both in the query's direction, and continues
// after the cursor; it asks for one hit more than the page.
func body(query obj, p search.Prepared, key string) obj {
	order := "asc"
	if p.Desc {
		order = "desc"
	}
	b := obj{
		"size":             p.Limit + 1,
		"track_total_hits": true,
		"_source":          []string{"doc"},
		"query":            query,
		"sort":             []obj{{key: obj{"order": order}}, {"id": obj{"order": order}}},
	}
	if c := p.After; c != nil {
		b["search_after"] = []any{c.Key, c.ID}
	}
	return b
}
