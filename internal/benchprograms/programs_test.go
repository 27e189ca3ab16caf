//go:build benchprograms

package benchprograms

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/ocsf"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// envInt reads a size or count from the environment.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// measurement is one run of a program or a primitive.
type measurement struct {
	wall   time.Duration
	cpu    time.Duration // user + system; of a primitive only where it says (timedCPU)
	maxRSS int64         // bytes, programs only
}

type bench struct {
	name, command string
	bytes         int64 // uncompressed input bytes
	records       int
	program       func(t *testing.T) measurement
	primitive     func(t *testing.T) measurement
	primName      string
	// idle is the wait after the last record that a run's wall time
	// includes by design (collect's --exit-when-idle); the ratio is also
	// given without it.
	idle  time.Duration
	runs  []measurement
	prims []measurement
}

// runProgram runs bin with args, stdout to out (nil: /dev/null) and stderr
// to stderr (nil: kept for the failure message), and returns its wall time, CPU time and peak RSS.
func runProgram(t *testing.T, env []string, out io.Writer, stderr *bytes.Buffer, bin string, args ...string) measurement {
	t.Helper()
	cmd, rusage := command(t, bin, args...)
	cmd.Env = env
	if stderr == nil {
		stderr = new(bytes.Buffer)
	}
	cmd.Stderr = stderr
	cmd.Stdout = out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(stderr.String()))
	}
	return rusage(wall)
}

// command runs bin under /usr/bin/time, which reports the program's own
// peak RSS and CPU time: the rusage of a child started by this process
// counts this process's memory too (the child is forked from it before it
// executes the program). Without /usr/bin/time it falls back to that.
// profiles numbers the CPU profiles written under LAKERELAY_BENCH_PROFILE.
var profiles atomic.Int64

func command(t *testing.T, bin string, args ...string) (*exec.Cmd, func(wall time.Duration) measurement) {
	t.Helper()
	if dir := os.Getenv("LAKERELAY_BENCH_PROFILE"); dir != "" {
		n := profiles.Add(1)
		prof := filepath.Join(dir, fmt.Sprintf("%s-%d.cpu.prof", filepath.Base(bin), n))
		t.Logf("CPU profile of %s: %s", filepath.Base(bin), prof)
		args = append([]string{"--cpuprofile", prof}, args...)
		if os.Getenv("LAKERELAY_BENCH_TRACE") != "" {
			tr := filepath.Join(dir, fmt.Sprintf("%s-%d.trace", filepath.Base(bin), n))
			t.Logf("execution trace of %s: %s", filepath.Base(bin), tr)
			args = append([]string{"--trace", tr}, args...)
		}
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		cmd := exec.Command(bin, args...)
		return cmd, func(wall time.Duration) measurement {
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			return measurement{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), maxRSS: ru.Maxrss << 10}
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "rusage-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command("/usr/bin/time", append([]string{"-o", f.Name(), "-f", "%M %U %S", bin}, args...)...)
	return cmd, func(wall time.Duration) measurement {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var kib int64
		var user, sys float64
		if _, err := fmt.Sscan(lines[len(lines)-1], &kib, &user, &sys); err != nil {
			t.Fatalf("/usr/bin/time output %q: %v", b, err)
		}
		return measurement{wall: wall, cpu: time.Duration((user + sys) * float64(time.Second)), maxRSS: kib << 10}
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// gunzipSplit is the primitive of the collect runs: klauspost gunzip of r
// and finding every line in place (bytes.IndexByte over a reused buffer;
// a line longer than the buffer is crossed without being copied).
func gunzipSplit(r io.Reader) (lines int, err error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, err
	}
	return splitLines(zr, make([]byte, 256<<10))
}

// splitLines reads r to its end through buf, finding every line in place,
// and returns how many it found.
func splitLines(r io.Reader, buf []byte) (lines int, err error) {
	for {
		n, err := r.Read(buf)
		for p := buf[:n]; ; {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				break
			}
			lines++
			p = p[i+1:]
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

func timed(t *testing.T, f func() error) measurement {
	t.Helper()
	start := time.Now()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	return measurement{wall: time.Since(start)}
}

// timedCPU is timed with the CPU time of this process (user + system) while f
// runs: the test process is otherwise idle.
func timedCPU(t *testing.T, f func() error) measurement {
	t.Helper()
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		t.Fatal(err)
	}
	m := timed(t, f)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		t.Fatal(err)
	}
	cpu := func(ru *syscall.Rusage) time.Duration {
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	m.cpu = cpu(&after) - cpu(&before)
	return m
}

func gunzipSplitFile(path string) func() error {
	return func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = gunzipSplit(f)
		return err
	}
}

// readMeta reads the record count and uncompressed size a previous run
// kept in meta.
func readMeta(meta string) (n int, raw int64, ok bool) {
	b, err := os.ReadFile(meta)
	if err != nil {
		return 0, 0, false
	}
	_, err = fmt.Sscan(string(b), &n, &raw)
	return n, raw, err == nil
}

// dataset writes path with gen unless it exists (a previous run made it),
// and returns its record count and uncompressed size, kept beside it.
func dataset(t *testing.T, path string, gen func(w io.Writer) (int, int64, error)) (int, int64) {
	t.Helper()
	meta := path + ".meta"
	if n, raw, ok := readMeta(meta); ok {
		return n, raw
	}
	start := time.Now()
	f, err := os.Create(path + ".tmp")
	if err != nil {
		t.Fatal(err)
	}
	n, raw, err := gen(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err == nil {
		err = os.WriteFile(meta, fmt.Appendf(nil, "%d %d\n", n, raw), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %s: %d records, %d MB uncompressed, in %v", filepath.Base(path), n, raw/1e6, time.Since(start).Round(time.Second))
	return n, raw
}

// gunzipSplitFiles is the primitive of the small-files run: gunzipSplit
// of every file in dir, with one gzip reader and one buffer for all.
func gunzipSplitFiles(dir string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var zr gzip.Reader
	buf := make([]byte, 256<<10)
	for _, e := range files {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err = zr.Reset(bufio.NewReader(f)); err == nil {
			_, err = splitLines(&zr, buf)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// smallFiles writes count gzip NDJSON files of about size bytes
// (uncompressed) each into dir, unless a previous run did, and returns their
// records and uncompressed bytes.
func smallFiles(t *testing.T, dir string, count int, size int64) (int, int64) {
	t.Helper()
	meta := dir + ".meta"
	if n, raw, ok := readMeta(meta); ok {
		return n, raw
	}
	start := time.Now()
	tmp := dir + ".tmp"
	if err := errors.Join(os.RemoveAll(dir), os.RemoveAll(tmp), os.MkdirAll(tmp, 0o755)); err != nil {
		t.Fatal(err)
	}
	var n int
	var raw int64
	for i := range count {
		f, err := os.Create(filepath.Join(tmp, fmt.Sprintf("%05d.json.gz", i)))
		if err != nil {
			t.Fatal(err)
		}
		fn, fraw, err := WriteRecords(f, uint64(100+i), size, NDJSON, true)
		if err := errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
		n, raw = n+fn, raw+fraw
	}
	if err := errors.Join(os.Rename(tmp, dir), os.WriteFile(meta, fmt.Appendf(nil, "%d %d\n", n, raw), 0o644)); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %s: %d files, %d records, %d MB uncompressed, in %v", filepath.Base(dir), count, n, raw/1e6, time.Since(start).Round(time.Second))
	return n, raw
}

// ocsfAPIActivity writes CloudTrail-like events mapped to OCSF by
// ocsf.MapCloudTrail, API Activity (6003) only, one per line, until size.
func ocsfAPIActivity(w io.Writer, size int64) (int, int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var n int
	var raw int64
	_, err := Records(3, 1<<62, func(rec []byte) error {
		if raw >= size {
			return io.EOF
		}
		out, err := ocsf.MapCloudTrail(rec)
		if err != nil {
			return err
		}
		if !bytes.Contains(out, []byte(`"class_uid":6003`)) {
			return nil
		}
		// unmapped (OCSF json_t) as a JSON string: arrow-go's JSON
		// reader, the primitive, reads json_t columns only as strings.
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(out, &ev); err != nil {
			return err
		}
		if u, ok := ev["unmapped"]; ok {
			ev["unmapped"], _ = json.Marshal(string(u))
		}
		if out, err = json.Marshal(ev); err != nil {
			return err
		}
		bw.Write(out)
		bw.WriteByte('\n')
		n++
		raw += int64(len(out)) + 1
		return nil
	})
	if err == io.EOF {
		err = nil
	}
	if err == nil {
		err = bw.Flush()
	}
	return n, raw, err
}

// arrowJSONToParquet is the primitive of the securitylake --mapper none
// run: arrow-go's generic JSON reader on the built-in API Activity schema,
// into a zstd Parquet file written by pqarrow.
func arrowJSONToParquet(in, out string) error {
	schema, err := ocsf.ArrowSchema(6003)
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer os.Remove(out)
	defer o.Close()
	rd := array.NewJSONReader(bufio.NewReaderSize(f, 1<<20), schema, array.WithChunk(4096))
	defer rd.Release()
	fw, err := pqarrow.NewFileWriter(schema, o, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)), pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	for rd.Next() {
		if err := fw.WriteBuffered(rd.RecordBatch()); err != nil {
			return err
		}
	}
	if rd.Err() != nil {
		return rd.Err()
	}
	return fw.Close()
}

func median(ms []measurement, f func(measurement) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func TestPrograms(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := os.Getenv("LAKERELAY_BENCH_DIR")
	if dataDir == "" {
		dataDir = filepath.Join(os.TempDir(), "lakerelay-bench")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mb := int64(envInt(t, "LAKERELAY_BENCH_MB", 200))
	bigMB := int64(envInt(t, "LAKERELAY_BENCH_BIG_MB", 1024))
	ocsfMB := int64(envInt(t, "LAKERELAY_BENCH_OCSF_MB", 100))
	sqsObjects := envInt(t, "LAKERELAY_BENCH_SQS_OBJECTS", 20)
	smallFileCount := envInt(t, "LAKERELAY_BENCH_SMALL_FILES", 5000)
	rounds := envInt(t, "LAKERELAY_BENCH_ROUNDS", 2)
	only := os.Getenv("LAKERELAY_BENCH_RUNS") // comma-separated names; empty: all
	want := func(name string) bool {
		return only == "" || slices.Contains(strings.Split(only, ","), name)
	}

	// The programs are built from this tree, or from the checkout named by
	// LAKERELAY_BENCH_SRC (another commit's programs measured by this
	// harness, on the same data: the "before" of a change).
	src := root
	if d := os.Getenv("LAKERELAY_BENCH_SRC"); d != "" {
		src = d
	}
	bin := t.TempDir()
	prog := map[string]string{}
	for _, p := range []string{"collect", "export", "securitylake"} {
		prog[p] = filepath.Join(bin, p)
		cmd := exec.Command("go", "build", "-o", prog[p], "./examples/"+p)
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./examples/%s: %v\n%s", p, err, out)
		}
	}
	env := os.Environ()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	work := t.TempDir()
	outDir := func() string {
		d, err := os.MkdirTemp(work, "out-")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// collectDir is collect --dir path next to gunzip + line split of path.
	collectDir := func(name, path string, records int, raw int64, args ...string) *bench {
		return &bench{
			name: name, bytes: raw, records: records,
			command:  strings.Join(append([]string{"collect --dir", filepath.Base(path)}, args...), " ") + " > /dev/null",
			primName: "klauspost gunzip + line split",
			program: func(t *testing.T) measurement {
				return runProgram(t, env, devNull, nil, prog["collect"], append([]string{"--dir", path}, args...)...)
			},
			primitive: func(t *testing.T) measurement { return timed(t, gunzipSplitFile(path)) },
		}
	}
	var benches []*bench
	if want("collect-ndjson") || want("export-gzip") {
		path := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-%dMB.ndjson.gz", mb))
		n, raw := dataset(t, path, func(w io.Writer) (int, int64, error) { return WriteRecords(w, 1, mb*1e6, NDJSON, true) })
		if want("collect-ndjson") {
			benches = append(benches, collectDir("collect-ndjson", path, n, raw, "--stream-type", "ndjson"))
		}
		if want("export-gzip") {
			plain := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-%dMB.ndjson", mb))
			dataset(t, plain, func(w io.Writer) (int, int64, error) { return WriteRecords(w, 1, mb*1e6, NDJSON, false) })
			benches = append(benches, &bench{
				name: "export-gzip", bytes: raw, records: n,
				command:  fmt.Sprintf("export --out-dir D --connector-type bench --connector-id c --stream s --compression gzip --input %s", filepath.Base(plain)),
				primName: "klauspost gzip (default level) to a file",
				program: func(t *testing.T) measurement {
					d := outDir()
					defer os.RemoveAll(d)
					return runProgram(t, env, devNull, nil, prog["export"], "--out-dir", d, "--connector-type", "bench", "--connector-id", "c", "--stream", "s", "--compression", "gzip", "--input", plain)
				},
				primitive: func(t *testing.T) measurement {
					return timed(t, func() error {
						in, err := os.Open(plain)
						if err != nil {
							return err
						}
						defer in.Close()
						out, err := os.CreateTemp(work, "gz-")
						if err != nil {
							return err
						}
						defer os.Remove(out.Name())
						defer out.Close()
						zw := gzip.NewWriter(out)
						if _, err := io.Copy(zw, in); err != nil {
							return err
						}
						return zw.Close()
					})
				},
			})
		}
	}
	if want("collect-cloudtrail") || want("securitylake-cloudtrail") {
		path := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-%dMB.json.gz", mb))
		n, raw := dataset(t, path, func(w io.Writer) (int, int64, error) { return WriteRecords(w, 1, mb*1e6, CloudTrailFile, true) })
		if want("collect-cloudtrail") {
			benches = append(benches, collectDir("collect-cloudtrail", path, n, raw))
		}
		if want("securitylake-cloudtrail") {
			benches = append(benches, &bench{
				name: "securitylake-cloudtrail", bytes: raw, records: n,
				command:  fmt.Sprintf("securitylake --input %s --mapper cloudtrail --class api_activity --out-dir D/out --quarantine D/q.ndjson", filepath.Base(path)),
				primName: "the packages in one goroutine (source.Reader, ocsf.MapCloudTrail, securitylake.Sink, quarantine.Writer)",
				program: func(t *testing.T) measurement {
					d := outDir()
					defer os.RemoveAll(d)
					return runProgram(t, env, devNull, nil, prog["securitylake"], "--input", path, "--mapper", "cloudtrail", "--class", "api_activity", "--out-dir", filepath.Join(d, "out"), "--quarantine", filepath.Join(d, "q.ndjson"))
				},
				primitive: func(t *testing.T) measurement {
					d := outDir()
					defer os.RemoveAll(d)
					return timedCPU(t, func() error { return cloudTrailToLake(path, d, n) })
				},
			})
		}
	}
	if want("collect-big") {
		path := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-%dMB-big.ndjson.gz", bigMB))
		n, raw := dataset(t, path, func(w io.Writer) (int, int64, error) { return WriteRecords(w, 2, bigMB*1e6, NDJSON, true) })
		benches = append(benches, collectDir("collect-big", path, n, raw))
	}
	if want("collect-small") {
		dir := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-small-%d", smallFileCount))
		n, raw := smallFiles(t, dir, smallFileCount, 8<<10)
		benches = append(benches, &bench{
			name: "collect-small", bytes: raw, records: n,
			command:  fmt.Sprintf("collect --dir %s --stream-type ndjson > /dev/null, %d gzip NDJSON files of 8 KiB", filepath.Base(dir), smallFileCount),
			primName: "each file: open, klauspost gunzip (one reader, reset) + line split (one buffer)",
			program: func(t *testing.T) measurement {
				return runProgram(t, env, devNull, nil, prog["collect"], "--dir", dir, "--stream-type", "ndjson")
			},
			primitive: func(t *testing.T) measurement {
				return timed(t, func() error { return gunzipSplitFiles(dir) })
			},
		})
	}
	if want("securitylake-none") {
		path := filepath.Join(dataDir, fmt.Sprintf("ocsf-api-activity-%dMB.ndjson", ocsfMB))
		n, raw := dataset(t, path, func(w io.Writer) (int, int64, error) { return ocsfAPIActivity(w, ocsfMB*1e6) })
		benches = append(benches, &bench{
			name: "securitylake-none", bytes: raw, records: n,
			command:  fmt.Sprintf("securitylake --input %s --mapper none --class 6003 --out-dir D/out --batch-records 100000 --quarantine D/q.ndjson", filepath.Base(path)),
			primName: "arrow-go JSONReader → pqarrow zstd",
			program: func(t *testing.T) measurement {
				d := outDir()
				defer os.RemoveAll(d)
				return runProgram(t, env, devNull, nil, prog["securitylake"], "--input", path, "--mapper", "none", "--class", "6003", "--out-dir", filepath.Join(d, "out"), "--batch-records", "100000", "--quarantine", filepath.Join(d, "q.ndjson"))
			},
			primitive: func(t *testing.T) measurement {
				return timed(t, func() error { return arrowJSONToParquet(path, filepath.Join(work, "arrow.parquet")) })
			},
		})
	}
	if want("collect-sqs") {
		benches = append(benches, sqsBench(t, prog["collect"], sqsObjects))
	}
	if want("collect-list") {
		dir := filepath.Join(dataDir, fmt.Sprintf("cloudtrail-small-%d", smallFileCount))
		n, raw := smallFiles(t, dir, smallFileCount, 8<<10)
		benches = append(benches, listBench(t, prog["collect"], dir, n, raw))
	}

	for round := range rounds {
		for _, b := range benches {
			// Program and primitive alternate, starting with each in turn.
			order := []bool{true, false}
			if round%2 == 1 {
				order = []bool{false, true}
			}
			for _, isProgram := range order {
				switch {
				case isProgram:
					m := b.program(t)
					b.runs = append(b.runs, m)
					t.Logf("round %d %s: program %.2fs (cpu %.2fs, peak RSS %d MiB)", round+1, b.name, m.wall.Seconds(), m.cpu.Seconds(), m.maxRSS>>20)
				case b.primitive != nil:
					// A program starts with no memory and pays a page
					// fault for each page its heap grows into; the
					// primitive runs in this process, whose heap kept the
					// pages of its previous runs. Giving them back first
					// starts it as cold.
					debug.FreeOSMemory()
					m := b.primitive(t)
					b.prims = append(b.prims, m)
					t.Logf("round %d %s: primitive %.2fs", round+1, b.name, m.wall.Seconds())
				}
			}
		}
	}
	report(t, benches, rounds)
}

func report(t *testing.T, benches []*bench, rounds int) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nmedians of %d rounds; MB/s of uncompressed input bytes; records/s per core = records / (user+sys CPU time)\n\n", rounds)
	fmt.Fprintln(&sb, "| run | program | records/s (per core) | peak RSS | primitive, same bytes | ratio |")
	fmt.Fprintln(&sb, "|---|---|---|---|---|---|")
	for _, b := range benches {
		wall := median(b.runs, func(m measurement) float64 { return m.wall.Seconds() })
		cpu := median(b.runs, func(m measurement) float64 { return m.cpu.Seconds() })
		rss := median(b.runs, func(m measurement) float64 { return float64(m.maxRSS) })
		mbs := float64(b.bytes) / 1e6 / wall
		prim, ratio := "—", "—"
		if len(b.prims) > 0 {
			pw := median(b.prims, func(m measurement) float64 { return m.wall.Seconds() })
			pmbs := float64(b.bytes) / 1e6 / pw
			prim = fmt.Sprintf("%s: %.0f MB/s", b.primName, pmbs)
			ratio = fmt.Sprintf("%.2f", mbs/pmbs)
			if b.idle > 0 {
				ratio += fmt.Sprintf(" (%.2f less the %s idle wait)", pw/(wall-b.idle.Seconds()), b.idle)
			}
			if pcpu := median(b.prims, func(m measurement) float64 { return m.cpu.Seconds() }); pcpu > 0 {
				// A primitive measured with its CPU time (timedCPU):
				// records per CPU-second, and the program's per core
				// against it.
				prim += fmt.Sprintf(", %.1f k records per CPU-second", float64(b.records)/pcpu/1e3)
				ratio += fmt.Sprintf("; per core %.2f", pcpu/cpu)
			}
		}
		fmt.Fprintf(&sb, "| `%s` (%d MB, %d records) | %.1f MB/s | %.1f k (%.1f k) | %.0f MiB | %s | %s |\n",
			b.command, b.bytes/1e6, b.records, mbs, float64(b.records)/wall/1e3, float64(b.records)/cpu/1e3, rss/(1<<20), prim, ratio)
	}
	fmt.Print(sb.String())
	if out := os.Getenv("LAKERELAY_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// listBench puts the small gzip files of dir into MinIO, one object each,
// for a backfill: collect --bucket B --prefix P (the List source, which
// fetches and decodes small objects ahead). The primitive is GetObject +
// gunzip (one reader, reset) + line split of each object in turn.
func listBench(t *testing.T, collect, dir string, records int, raw int64) *bench {
	mi := testenv.StartMinIO(t)
	bucket := mi.NewBucket(t)
	s3c := mi.S3(t)
	ctx := context.Background()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(files))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range errs {
		wg.Go(func() {
			for i := w; i < len(files) && errs[w] == nil; i += len(errs) {
				data, err := os.ReadFile(filepath.Join(dir, files[i].Name()))
				if err != nil {
					errs[w] = err
					return
				}
				keys[i] = "small/" + files[i].Name()
				_, errs[w] = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i]), Body: bytes.NewReader(data)})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return &bench{
		name: "collect-list", bytes: raw, records: records,
		command:  fmt.Sprintf("collect --bucket B --prefix small/ --stream-type ndjson > /dev/null, %d gzip NDJSON objects of 8 KiB in MinIO", len(keys)),
		primName: "each object in turn: GetObject, klauspost gunzip (one reader, reset) + line split (one buffer)",
		program: func(t *testing.T) measurement {
			var stderr bytes.Buffer
			m := runProgram(t, mi.Env(), nil, &stderr, collect, "--bucket", bucket, "--prefix", "small/", "--stream-type", "ndjson")
			var sum struct{ Records, Errors int }
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Records != records || sum.Errors != 0 {
				t.Fatalf("collect --bucket: summary %+v (%v), want %d records\n%s", sum, err, records, tail(stderr.String()))
			}
			return m
		},
		primitive: func(t *testing.T) measurement {
			return timed(t, func() error {
				var zr gzip.Reader
				buf := make([]byte, 256<<10)
				for _, k := range keys {
					o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
					if err != nil {
						return err
					}
					if err = zr.Reset(bufio.NewReader(o.Body)); err == nil {
						_, err = splitLines(&zr, buf)
					}
					io.Copy(io.Discard, o.Body) // what the gzip stream left: the connection is reused
					o.Body.Close()
					if err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

// sqsBench puts n gzip NDJSON objects of 10 MB (uncompressed) into MinIO
// and, for every program run, announces them on a local-aws-sqs queue. The
// program's time is until it exits, with --exit-when-idle 100ms (it exits
// 100 ms after its last record, once every object is read: the only way it
// can tell that the queue is drained), so the ratio is also given without
// those 100 ms; the primitive is GetObject + gunzip + line split of the same
// objects on 2 goroutines, which knows the objects in advance.
func sqsBench(t *testing.T, collect string, n int) *bench {
	mi := testenv.StartMinIO(t)
	sq := testenv.StartSQS(t)
	bucket := mi.NewBucket(t)
	q := sq.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 5 * time.Minute})
	s3c := mi.S3(t)
	sqsc := sq.Client(t)
	ctx := context.Background()
	var keys []string
	var records int
	var raw int64
	for i := range n {
		var buf bytes.Buffer
		nr, nb, err := WriteRecords(&buf, uint64(100+i), 10e6, NDJSON, true)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("logs/%03d.ndjson.gz", i)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		records += nr
		raw += nb
	}
	env := append(sq.Env(), mi.Env()...) // MinIO's last: its credentials win
	return &bench{
		name: "collect-sqs", bytes: raw, records: records, idle: 100 * time.Millisecond,
		command:  fmt.Sprintf("collect --queue-url URL --workers 2 --exit-when-idle 100ms > /dev/null, %d × 10 MB gzip NDJSON objects in MinIO announced on local-aws-sqs", n),
		primName: "GetObject + klauspost gunzip + line split, 2 goroutines",
		program: func(t *testing.T) measurement {
			for _, k := range keys {
				body := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"` + bucket + `"},"object":{"key":"` + k + `","size":1}}}]}`
				if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(body)}); err != nil {
					t.Fatal(err)
				}
			}
			// Standard output goes to /dev/null, as in the other runs (a pipe
			// to this process would time this process's reading too). The
			// program exits 100 ms after its last record once every object is
			// read, so its wall time includes that wait; its summary says how
			// many records it read.
			var stderr bytes.Buffer
			m := runProgram(t, env, nil, &stderr, collect, "--queue-url", q.URL, "--workers", "2", "--exit-when-idle", "100ms")
			var sum struct{ Records, Nacked, Errors int }
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Records != records || sum.Nacked != 0 || sum.Errors != 0 {
				t.Fatalf("collect --queue-url: summary %+v (%v), want %d records, none nacked\n%s", sum, err, records, tail(stderr.String()))
			}
			return m
		},
		primitive: func(t *testing.T) measurement {
			return timed(t, func() error {
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for w := range 2 {
					wg.Go(func() {
						for i := w; i < len(keys); i += 2 {
							o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i])})
							if err != nil {
								errs[w] = err
								return
							}
							_, err = gunzipSplit(o.Body)
							o.Body.Close()
							if err != nil {
								errs[w] = err
								return
							}
						}
					})
				}
				wg.Wait()
				return errors.Join(errs...)
			})
		},
	}
}
