package contract

import (
	"testing"

	"signet/domain/fault"
)

// FuzzCreate feeds outside input (title, contacts, names, values) to
// Create: it never panics, and refuses with a *fault.Error or opens a
// contract whose parties are normalised.
func FuzzCreate(f *testing.F) {
	f.Add("采购合同", "张三", "138 0013 8000", "杭州甲公司", "1,200", "年付")
	f.Add("", "", "", "", "", "")
	f.Add("x\x00", "张\n三", "+8613800138000", " ", "1e9", "月付")
	f.Fuzz(func(t *testing.T, title, name, contact, ent, amount, choice string) {
		s := spec(false)
		s.Title = title
		s.Parties["r2"] = PartyInput{Name: name, Contact: contact}
		s.Parties["r1"] = PartyInput{Name: name, Contact: "wang@example.com", EnterpriseName: ent}
		s.Values = map[string]string{"f3": amount, "f4": choice}
		evs, err := Create(s, t0)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("not a fault: %v", err)
			}
			return
		}
		c := evs[0].(ContractCreated)
		for _, p := range c.Parties {
			if p.Name == "" || p.Contact.Value == "" {
				t.Fatalf("party %+v", p)
			}
		}
	})
}
