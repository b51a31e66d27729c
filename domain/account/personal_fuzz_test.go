package account

import (
	"strings"
	"testing"

	"signet/domain/fault"
)

// FuzzCarrierInput: whatever a person types as name, ID number and phone,
// the carrier check never panics; a refusal is a 400 on one of the three
// fields and records nothing; an accepted input is normal (it parses to
// itself) and a recorded mismatch never shows the full phone.
func FuzzCarrierInput(f *testing.F) {
	f.Add("张三", idNumber, phone, false)
	f.Add(" 张 三 ", "11010519491231002x", "+86 138-0013-8000", true)
	f.Add("买买提·吐尔逊", "330106199003071236", "８６１３９００１３９０００", false)
	f.Add("John  Smith", "35010019850101032２", "138 0013 8000", true)
	f.Add("张", "110105202612010018", "1380013800", false)
	f.Add("·张", "11010519491231002X\u200b", "13800138000\x00", false)
	a := &Account{}
	for _, e := range given(portrait, emblem) {
		if err := a.Apply(e); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, name, id, ph string, match bool) {
		got, err := a.CheckCarrier(name, id, ph, match, "", t0)
		if err != nil {
			fe, ok := fault.As(err)
			if !ok {
				t.Fatalf("refusal %v is not a fault", err)
			}
			if fe.Code == "carrier_mismatch" && !match && len(got) == 1 {
				failed := got[0].(PersonalCheckFailed)
				p, _, _ := a.PrepareCarrierCheck(name, id, ph, t0)
				if _, _, err := a.PrepareCarrierCheck(p.Name, p.IDNumber, ph, t0); err != nil {
					t.Fatalf("accepted input does not parse again: %v", err)
				}
				if strings.Count(failed.Detail, "*") != 4 || strings.ContainsAny(strings.TrimPrefix(failed.Detail, "phone "), " \t") {
					t.Fatalf("detail %q is not a masked phone", failed.Detail)
				}
				return
			}
			if fe.Kind != fault.Invalid || (fe.Field != "name" && fe.Field != "id_number" && fe.Field != "phone") || len(got) != 0 {
				t.Fatalf("refusal %v (events %v) is not a 400 on name, id_number or phone", err, got)
			}
			return
		}
		if !match || len(got) != 1 {
			t.Fatalf("accepted a mismatch or decided %v", got)
		}
		c := got[0].(PersonalCarrierCheckPassed)
		again, err := a.CheckCarrier(c.Name, c.IDNumber, c.Phone, true, "", t0)
		if err != nil || again[0].(PersonalCarrierCheckPassed) != c {
			t.Fatalf("normal form %+v is not stable: %v %v", c, again, err)
		}
		if len(c.IDNumber) != 18 || len(c.Phone) != 11 || strings.Trim(c.Phone, "0123456789") != "" {
			t.Fatalf("not normalised: %+v", c)
		}
	})
}
