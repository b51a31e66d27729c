package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Typed is a domain event: it names its stored type explicitly (never by
// reflection on its Go name).
type Typed interface{ EventType() string }

// Codec maps one package's domain events (E) to stored type names, schema
// versions and JSON, and back. Each type registers a decoder per schema
// version it has ever had, so an old payload is upcast when it is read.
type Codec[E Typed] struct {
	unknown error
	types   map[string]codecType[E]
}

type codecType[E Typed] struct {
	goType   reflect.Type // the Go type written at the latest schema
	latest   int
	decoders map[int]func([]byte) (E, error)
}

// NewCodec returns an empty codec; unknown is the error (wrapping
// ErrInvalid) that names the package in refusals of unknown types.
func NewCodec[E Typed](unknown error) *Codec[E] {
	return &Codec[E]{unknown: unknown, types: map[string]codecType[E]{}}
}

// Register adds type T, written as JSON at schema version 1.
func Register[T Typed, E Typed](c *Codec[E], typ string) {
	RegisterVersion[T](c, typ, 1, nil)
}

// RegisterVersion adds type T at schema version latest. older decodes
// stored payloads of earlier versions (upcasters), by version.
func RegisterVersion[T Typed, E Typed](c *Codec[E], typ string, latest int, older map[int]func([]byte) (E, error)) {
	var zero T
	if _, ok := any(zero).(E); !ok || zero.EventType() != typ {
		panic(fmt.Sprintf("event codec: %T is not a %s event named %q", zero, reflect.TypeFor[E](), typ))
	}
	decoders := map[int]func([]byte) (E, error){latest: func(data []byte) (E, error) {
		var t T
		if err := json.Unmarshal(data, &t); err != nil {
			var none E
			return none, err
		}
		return any(t).(E), nil
	}}
	for v, d := range older {
		decoders[v] = d
	}
	c.types[typ] = codecType[E]{goType: reflect.TypeFor[T](), latest: latest, decoders: decoders}
}

// Has reports whether typ is registered.
func (c *Codec[E]) Has(typ string) bool { _, ok := c.types[typ]; return ok }

// Types lists the registered type names.
func (c *Codec[E]) Types() []string {
	out := make([]string, 0, len(c.types))
	for t := range c.types {
		out = append(out, t)
	}
	return out
}

// Encode returns e's stored type name, its latest schema version and JSON.
func (c *Codec[E]) Encode(e E) (typ string, schema int, data []byte, err error) {
	typ = e.EventType()
	t, ok := c.types[typ]
	if !ok || reflect.TypeOf(e) != t.goType {
		return "", 0, nil, fmt.Errorf("%w: cannot encode %T as %q", c.unknown, e, typ)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return typ, t.latest, data, nil
}

// Decode turns a stored type name, schema version and payload back into a
// domain event, upcasting older versions.
func (c *Codec[E]) Decode(typ string, schema int, data []byte) (E, error) {
	var none E
	t, ok := c.types[typ]
	if !ok {
		return none, fmt.Errorf("%w: type %q", c.unknown, typ)
	}
	dec, ok := t.decoders[schema]
	if !ok {
		return none, fmt.Errorf("%w: %s schema version %d", c.unknown, typ, schema)
	}
	e, err := dec(data)
	if err != nil {
		return none, fmt.Errorf("%w: decode %s v%d: %v", ErrInvalid, typ, schema, err)
	}
	return e, nil
}

// DecodeEnvelope decodes a stored event, naming it in errors.
func (c *Codec[E]) DecodeEnvelope(env Envelope) (E, error) {
	e, err := c.Decode(env.Type, env.Schema, env.Data)
	if err != nil {
		var none E
		return none, fmt.Errorf("%s@%d: %w", env.Stream, env.Version, err)
	}
	return e, nil
}

// NewEvent encodes e as an event to append with the given ID and metadata.
func (c *Codec[E]) NewEvent(id string, e E, meta Metadata) (New, error) {
	typ, schema, data, err := c.Encode(e)
	if err != nil {
		return New{}, err
	}
	return New{ID: id, Type: typ, Schema: schema, Data: data, Meta: meta.Normalize()}, nil
}

// IsUnknown reports whether err says an event type or version is unknown
// to this codec.
func (c *Codec[E]) IsUnknown(err error) bool { return errors.Is(err, c.unknown) }
