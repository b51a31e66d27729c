package identity

import "testing"

func TestMaskIP(t *testing.T) {
	cases := map[string]string{
		"203.0.113.45":                         "203.0.113.*",
		" 10.0.0.1 ":                           "10.0.0.*",
		"::ffff:198.51.100.7":                  "198.51.100.*",
		"2001:db8:85a3:8d3:1319:8a2e:370:7348": "2001:db8:85a3:8d3::*",
		"2001:db8::1":                          "2001:db8::*",
		"fe80::1%eth0":                         "fe80::*",
		"::1":                                  "::*",
		"":                                     "",
		"unknown":                              "",
		"203.0.113.45:8080":                    "",
		"2001:db8:85a3:8d3:1319:8a2e:370:7348/64": "",
	}
	for in, want := range cases {
		if got := MaskIP(in); got != want {
			t.Errorf("MaskIP(%q) = %q, want %q", in, got, want)
		}
	}
}
