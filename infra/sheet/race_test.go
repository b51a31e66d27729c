//go:build race

package sheet

// The race detector slows encoding/xml about tenfold.
const slowdown = 10
