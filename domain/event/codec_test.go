package event_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"signet/domain/event"
)

type thing interface{ EventType() string }

type opened struct {
	Name string `json:"name"`
}

func (opened) EventType() string { return "Opened" }

// renamed is Opened at schema 2: "name" became "title".
type renamed struct {
	Title string `json:"title"`
}

func (renamed) EventType() string { return "Renamed" }

type impostor struct{}

func (impostor) EventType() string { return "Opened" }

var errUnknown = fmt.Errorf("%w: unknown test event", event.ErrInvalid)

func TestCodecRoundTripAndUpcast(t *testing.T) {
	c := event.NewCodec[thing](errUnknown)
	event.Register[opened](c, "Opened")
	event.RegisterVersion[renamed](c, "Renamed", 2, map[int]func([]byte) (thing, error){
		1: func(data []byte) (thing, error) { // v1 stored {"name": ...}
			var v1 struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(data, &v1); err != nil {
				return nil, err
			}
			return renamed{Title: v1.Name}, nil
		},
	})
	n, err := c.NewEvent("id-1", opened{Name: "x"}, event.Metadata{})
	if err != nil || n.Type != "Opened" || n.Schema != 1 {
		t.Fatalf("%+v %v", n, err)
	}
	back, err := c.DecodeEnvelope(event.Envelope{Stream: "s-1", Version: 1, Type: n.Type, Schema: n.Schema, Data: n.Data})
	if err != nil || !reflect.DeepEqual(back, opened{Name: "x"}) {
		t.Fatalf("%#v %v", back, err)
	}
	if _, schema, _, _ := c.Encode(renamed{Title: "t"}); schema != 2 {
		t.Fatalf("renamed written at schema %d", schema)
	}
	old, err := c.Decode("Renamed", 1, []byte(`{"name":"old"}`))
	if err != nil || old != (renamed{Title: "old"}) {
		t.Fatalf("upcast: %#v %v", old, err)
	}
	if _, _, _, err := c.Encode(impostor{}); !c.IsUnknown(err) {
		t.Fatalf("a foreign Go type named like a registered one was encoded: %v", err)
	}
	for _, bad := range []struct {
		typ    string
		schema int
		data   string
	}{{"Closed", 1, `{}`}, {"Opened", 3, `{}`}} {
		if _, err := c.Decode(bad.typ, bad.schema, []byte(bad.data)); !c.IsUnknown(err) || !errors.Is(err, event.ErrInvalid) {
			t.Errorf("Decode(%s v%d): %v", bad.typ, bad.schema, err)
		}
	}
	if _, err := c.Decode("Opened", 1, []byte(`[`)); !errors.Is(err, event.ErrInvalid) || c.IsUnknown(err) {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestRegisterRefusesAMisnamedType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering Opened under another name did not panic")
		}
	}()
	event.Register[opened](event.NewCodec[thing](errUnknown), "Closed")
}
