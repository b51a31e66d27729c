package elastic

import (
	"encoding/json"

	"signet/infra/search"
)

// Index kinds; each is a concrete index "<prefix><kind>-<n>" behind the alias
// "<prefix><kind>". The meta index holds checkpoints.
var kinds = []string{"contracts", "audit", "meta"}

const (
	kindContracts = 0
	kindAudit     = 1
	kindMeta      = 2
)

// settings: the unigram analyzer (one token per letter or digit, lower case)
// for the ".uni" subfields; "cjk" is built into Elasticsearch.
var settings = map[string]any{
	"analysis": map[string]any{
		"tokenizer": map[string]any{
			"signet_char": map[string]any{
				"type": "ngram", "min_gram": 1, "max_gram": 1, "token_chars": []string{"letter", "digit"},
			},
		},
		"analyzer": map[string]any{
			"signet_unigram": map[string]any{"type": "custom", "tokenizer": "signet_char", "filter": []string{"lowercase"}},
		},
	},
}

var (
	keyword   = map[string]any{"type": "keyword"}
	long      = map[string]any{"type": "long"}
	textField = map[string]any{
		"type": "text", "analyzer": "cjk",
		"fields": map[string]any{"uni": map[string]any{"type": "text", "analyzer": "signet_unigram"}},
	}
	// doc is the whole document, kept in _source, not indexed.
	doc = map[string]any{"type": "object", "enabled": false}
)

func mappings(kind int) map[string]any {
	var props map[string]any
	switch kind {
	case kindContracts:
		props = map[string]any{
			"id": keyword, "number": keyword, "title": textField, "status": keyword,
			"sender_name": textField, "sender_person": textField, "sender_account": keyword, "sender_enterprise": keyword,
			"receivers": textField, "receiver_keys": keyword, "tags": keyword, "folders": keyword, "visible": keyword,
			"sent_us": long, "sent_key": long, "deadline_us": long, "version": long, "doc": doc,
		}
	case kindAudit:
		props = map[string]any{
			"id": keyword, "actor": keyword, "enterprise": keyword, "type": keyword, "stream": keyword,
			"summary": textField, "visible": keyword, "at_us": long, "position": long, "doc": doc,
		}
	default:
		props = map[string]any{"name": keyword, "position": long}
	}
	return map[string]any{"dynamic": "strict", "properties": props}
}

// template is the composable index template of kind for prefix.
func template(prefix string, kind int) map[string]any {
	tpl := map[string]any{"mappings": mappings(kind)}
	if kind != kindMeta {
		tpl["settings"] = settings
	}
	return map[string]any{
		"index_patterns": []string{prefix + kinds[kind] + "-*"},
		"priority":       500, // above Elasticsearch's built-in templates
		"template":       tpl,
	}
}

func contractSource(d search.ContractDoc) map[string]any {
	m := map[string]any{
		"id": d.ID, "number": d.Number, "title": d.Title, "status": d.Status,
		"sender_name": d.SenderName, "sender_person": d.SenderPerson,
		"sender_account": d.SenderAccount, "sender_enterprise": d.SenderEnterprise,
		"receivers": d.Receivers, "receiver_keys": d.ReceiverKeys, "tags": d.Tags, "folders": d.Folders,
		"visible": d.Visible, "sent_key": search.SentKey(d), "deadline_us": search.Micros(d.Deadline),
		"version": d.Version, "doc": d,
	}
	if d.SentAt != nil {
		m["sent_us"] = search.Micros(*d.SentAt)
	}
	return m
}

func auditSource(r search.AuditRecord) map[string]any {
	return map[string]any{
		"id": r.ID, "actor": r.Actor, "enterprise": r.Enterprise, "type": r.Type, "stream": r.Stream,
		"summary": r.Summary, "visible": r.Visible, "at_us": search.Micros(r.At), "position": r.Position, "doc": r,
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values and the port's types
	}
	return b
}
