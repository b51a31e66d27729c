package identity

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaskIP keeps a client address's network and hides the host: the last
// octet of an IPv4 address ("203.0.113.*"), all but the /64 prefix of an
// IPv6 one ("2001:db8:1:2::*"). What does not parse is dropped.
func MaskIP(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.*", b[0], b[1], b[2])
	}
	p := netip.PrefixFrom(a, 64).Masked().Addr().String()
	if !strings.HasSuffix(p, "::") {
		p += ":"
	}
	return p + "*"
}
