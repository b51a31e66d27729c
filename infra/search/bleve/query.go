package bleve

import (
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"signet/infra/search"
)

func term(field, value string) query.Query {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}

func anyTerm(field string, values []string) query.Query {
	qs := make([]query.Query, len(values))
	for i, v := range values {
		qs[i] = term(field, v)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// text is the conjunction of the terms on field (see search.Terms), nil when
// there is none.
func text(field string, terms []search.Term) query.Query {
	var qs []query.Query
	for _, t := range terms {
		if t.Single {
			qs = append(qs, term(field+uniSuffix, t.Text))
			continue
		}
		m := bleve.NewMatchQuery(t.Text)
		m.SetField(field)
		m.Analyzer = cjk.AnalyzerName
		m.SetOperator(query.MatchQueryOperatorAnd)
		qs = append(qs, m)
	}
	switch len(qs) {
	case 0:
		return nil
	case 1:
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

// textOrExact matches the text on any of fields, or raw exactly on any of
// exact.
func textOrExact(fields []string, terms []search.Term, exact []string, raw string) query.Query {
	var qs []query.Query
	for _, f := range fields {
		if q := text(f, terms); q != nil {
			qs = append(qs, q)
		}
	}
	for _, f := range exact {
		qs = append(qs, term(f, raw))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func micros(v int64) *float64 {
	f := float64(v)
	return &f
}

// timeRange is [from, to) on a numeric field of microseconds.
func timeRange(field string, from, to *int64) query.Query {
	var lo, hi *float64
	if from != nil {
		lo = micros(*from)
	}
	if to != nil {
		hi = micros(*to)
	}
	t, f := true, false
	q := bleve.NewNumericRangeInclusiveQuery(lo, hi, &t, &f)
	q.SetField(field)
	return q
}

func contractQuery(q search.ContractQuery, p search.Prepared) query.Query {
	must := []query.Query{term(fieldKind, kindContract), anyTerm("visible", p.Principals)}
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
		must = append(must, anyTerm("status", q.Status))
	}
	if q.SentFrom != nil || q.SentTo != nil {
		must = append(must, timeRange(sentField, unixMicros(q.SentFrom), unixMicros(q.SentTo)))
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
	return bleve.NewConjunctionQuery(must...)
}

func auditQuery(q search.AuditQuery, p search.Prepared) query.Query {
	must := []query.Query{term(fieldKind, kindAudit)}
	if !p.Platform {
		must = append(must, anyTerm("visible", p.Principals))
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
		must = append(must, timeRange(atField, unixMicros(q.From), unixMicros(q.To)))
	}
	return bleve.NewConjunctionQuery(must...)
}

// request sorts by key field then bleve ID, both in the query's direction,
// and continues after the cursor.
func request(q query.Query, p search.Prepared, keyField, kind string) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(q, p.Limit+1, 0, false)
	req.Score = bleve.ScoreNone
	req.Fields = []string{fieldDoc}
	req.SortByCustom(bsearch.SortOrder{
		&bsearch.SortField{Field: keyField, Type: bsearch.SortFieldAsNumber, Desc: p.Desc},
		&bsearch.SortDocID{Desc: p.Desc},
	})
	if c := p.After; c != nil {
		req.SearchAfter = []string{strconv.FormatFloat(float64(c.Key), 'f', -1, 64), bleveID(kind, c.ID)}
	}
	return req
}
