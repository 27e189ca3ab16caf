package metrics_test

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// parseExposition checks text strictly against the Prometheus text
// exposition format 0.0.4 as this package writes it, and returns every
// sample as `name{k="v",...}` (labels sorted, values unescaped and
// re-quoted) → value. Checked: no empty or unknown lines; HELP then TYPE
// before the samples of a family; families contiguous, unique and sorted;
// valid metric and label names, no duplicate label; only the escapes \\ \"
// \n in label values; parseable values; counters ≥ 0; histograms with
// increasing le bounds, cumulative counts, +Inf bucket = _count, and _sum.
func parseExposition(text string) (map[string]float64, error) {
	if text == "" || !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("exposition must be non-empty and end in a newline")
	}
	nameRE := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE := regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	out := make(map[string]float64)
	seen := make(map[string]bool)
	var family, typ, help string
	type hist struct {
		lastLE    float64
		lastCount float64
		inf       float64
		hasInf    bool
		hasSum    bool
		count     float64
		hasCount  bool
	}
	hists := map[string]*hist{}
	checkHists := func() error {
		for k, h := range hists {
			if !h.hasInf || !h.hasSum || !h.hasCount || h.inf != h.count {
				return fmt.Errorf("histogram %s incomplete or +Inf bucket %v != count %v", k, h.inf, h.count)
			}
		}
		hists = map[string]*hist{}
		return nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		where := fmt.Sprintf("line %d %q", i+1, line)
		switch {
		case strings.HasPrefix(line, "# HELP "):
			f := strings.SplitN(strings.TrimPrefix(line, "# HELP "), " ", 2)
			if len(f) != 2 || !nameRE.MatchString(f[0]) {
				return nil, fmt.Errorf("%s: bad HELP", where)
			}
			if err := checkHists(); err != nil {
				return nil, err
			}
			if seen[f[0]] || (family != "" && f[0] <= family) {
				return nil, fmt.Errorf("%s: family repeated or out of order", where)
			}
			seen[f[0]] = true
			family, typ, help = f[0], "", f[1]
			if strings.Contains(help, "\\") && !regexp.MustCompile(`^([^\\]|\\\\|\\n)*$`).MatchString(help) {
				return nil, fmt.Errorf("%s: bad escape in HELP", where)
			}
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Split(strings.TrimPrefix(line, "# TYPE "), " ")
			if len(f) != 2 || f[0] != family || typ != "" {
				return nil, fmt.Errorf("%s: TYPE must follow the HELP of its family once", where)
			}
			switch f[1] {
			case "counter", "gauge", "histogram":
				typ = f[1]
			default:
				return nil, fmt.Errorf("%s: unexpected type", where)
			}
		case strings.HasPrefix(line, "#") || line == "":
			return nil, fmt.Errorf("%s: unexpected line", where)
		default:
			if typ == "" {
				return nil, fmt.Errorf("%s: sample before HELP and TYPE", where)
			}
			name, labels, value, err := splitSample(line, labelRE)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			v, err := parseValue(value)
			if err != nil {
				return nil, fmt.Errorf("%s: value: %v", where, err)
			}
			suffix := strings.TrimPrefix(name, family)
			if !strings.HasPrefix(name, family) || (suffix != "" && (typ != "histogram" || (suffix != "_bucket" && suffix != "_sum" && suffix != "_count"))) ||
				(typ == "histogram" && suffix == "") {
				return nil, fmt.Errorf("%s: sample name does not belong to %s family %s", where, typ, family)
			}
			if typ == "counter" && (v < 0 || math.IsNaN(v)) {
				return nil, fmt.Errorf("%s: negative counter", where)
			}
			if typ == "histogram" {
				le, hasLE := labels["le"]
				delete(labels, "le")
				hk := family + canonical(labels)
				h := hists[hk]
				if h == nil {
					h = &hist{lastLE: math.Inf(-1)}
					hists[hk] = h
				}
				switch suffix {
				case "_bucket":
					if !hasLE {
						return nil, fmt.Errorf("%s: bucket without le", where)
					}
					b, err := parseValue(le)
					if err != nil || b <= h.lastLE || v < h.lastCount || h.hasInf {
						return nil, fmt.Errorf("%s: buckets not increasing or not cumulative", where)
					}
					h.lastLE, h.lastCount = b, v
					if math.IsInf(b, 1) {
						h.hasInf, h.inf = true, v
					}
				case "_sum":
					h.hasSum = true
				case "_count":
					h.hasCount, h.count = true, v
				}
				if hasLE {
					labels["le"] = le
				}
			}
			key := name + canonical(labels)
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("%s: duplicate series", where)
			}
			out[key] = v
		}
	}
	if err := checkHists(); err != nil {
		return nil, err
	}
	return out, nil
}

func splitSample(line string, labelRE *regexp.Regexp) (name string, labels map[string]string, value string, err error) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return "", nil, "", fmt.Errorf("no metric name")
	}
	name, rest := line[:i], line[i:]
	if !regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`).MatchString(name) {
		return "", nil, "", fmt.Errorf("bad metric name %q", name)
	}
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 || !labelRE.MatchString(rest[:eq]) {
				return "", nil, "", fmt.Errorf("bad label name in %q", rest)
			}
			k := rest[:eq]
			rest = rest[eq+2:]
			var b strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' {
					if j+1 >= len(rest) {
						return "", nil, "", fmt.Errorf("dangling escape")
					}
					switch rest[j+1] {
					case '\\':
						b.WriteByte('\\')
					case '"':
						b.WriteByte('"')
					case 'n':
						b.WriteByte('\n')
					default:
						return "", nil, "", fmt.Errorf("bad escape \\%c", rest[j+1])
					}
					j++
					continue
				}
				if c == '\n' {
					return "", nil, "", fmt.Errorf("raw newline in label value")
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return "", nil, "", fmt.Errorf("unterminated label value")
			}
			if _, dup := labels[k]; dup {
				return "", nil, "", fmt.Errorf("duplicate label %s", k)
			}
			labels[k] = b.String()
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return "", nil, "", fmt.Errorf("expected , or } in %q", rest)
			}
		}
	}
	if !strings.HasPrefix(rest, " ") || strings.Contains(rest[1:], " ") {
		return "", nil, "", fmt.Errorf("expected one space then the value (no timestamp)")
	}
	return name, labels, rest[1:], nil
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

func canonical(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(labels[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
