//go:build !race

package sheet

const slowdown = 1
