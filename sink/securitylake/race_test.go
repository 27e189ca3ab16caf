//go:build race

package securitylake

// raceEnabled makes the volume tests smaller under the race detector, which
// slows this code down about tenfold.
const raceEnabled = true
