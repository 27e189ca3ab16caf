//go:build !race

package securitylake

const raceEnabled = false
