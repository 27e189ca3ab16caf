package ocsf

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/lakerelay/lakerelay"
)

func FuzzParseTagSchema(f *testing.F) {
	f.Add([]byte(issueExample))
	f.Add([]byte(`{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32, repetitiontype=OPTIONAL"}]}`))
	f.Add([]byte(`{"Tag":"name=s","Fields":[{"Tag":"name=m, type=MAP","Fields":[{"Tag":"name=key_value, repetitiontype=REPEATED","Fields":[{"Tag":"name=key, type=BYTE_ARRAY, convertedtype=UTF8"},{"Tag":"name=value, type=INT64, convertedtype=TIMESTAMP_MILLIS"}]}]}]}`))
	f.Add([]byte(`{"Tag":"name=s","Fields":[{"Tag":"name=d, type=FIXED_LEN_BYTE_ARRAY, length=16, convertedtype=DECIMAL, precision=30, scale=4"}]}`))
	f.Add([]byte(`{"Tag":"name=s, , ,","Fields":[{"Tag":"name=a=b, type=BOOLEAN"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseTagSchema(data)
		if err != nil {
			var te *TagError
			if !errors.As(err, &te) || !errors.Is(err, ErrTagSchema) {
				t.Fatalf("error %v is not a *TagError", err)
			}
			return
		}
		if s == nil || len(s.Fields()) == 0 {
			t.Fatal("nil or empty schema without an error")
		}
		// Every accepted schema must be writable as Parquet.
		w, err := pqarrow.NewFileWriter(s, io.Discard, nil, pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatalf("accepted schema is not writable as Parquet: %v\n%s", err, s)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzValidate(f *testing.F) {
	mini, err := LoadSchema(strings.NewReader(miniExport))
	if err != nil {
		f.Fatal(err)
	}
	schemas := []*Schema{mini, mustBuiltin(f)}
	if off := officialSchema(f, Version); off != nil {
		schemas = append(schemas, off)
	}
	for _, rec := range corpus(f) {
		out, err := MapCloudTrail(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(out)
	}
	f.Add([]byte(`{"class_uid":1099,"activity_id":1,"time":1,"head":{"label":"x","next":{"next":{}}},"nodes":[null,{"id":"x"}]}`))
	f.Add([]byte(`{"class_uid":2004,"finding_info":{"uid":1},"metadata":{"profiles":["security_control",7]}}`))
	f.Add([]byte(`{"class_uid":6003.5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range schemas {
			findings, err := s.Validate(data)
			if err != nil {
				if !errors.Is(err, lakerelay.ErrInvalidRecord) {
					t.Fatalf("error %v does not wrap ErrInvalidRecord", err)
				}
				continue
			}
			var m map[string]any
			if json.Unmarshal(data, &m) != nil {
				t.Fatalf("Validate accepted %q, which is not a JSON object", data)
			}
			for _, fd := range findings {
				if fd.Code == "" || fd.Message == "" || (fd.Severity != lakerelay.SeverityError && fd.Severity != lakerelay.SeverityWarning) {
					t.Fatalf("malformed finding %+v", fd)
				}
			}
		}
	})
}

func FuzzMapCloudTrail(f *testing.F) {
	for _, rec := range corpus(f) {
		f.Add(rec)
	}
	f.Add([]byte(`{"eventName":"X","eventTime":"2026-03-02T00:00:00Z","userIdentity":{},"resources":[{}],"sourceIPAddress":""}`))
	f.Add([]byte(`{"eventName":"UpdateAccessKey","eventSource":"iam.amazonaws.com","eventTime":"2026-03-02T00:00:00+02:00","requestParameters":{"status":"Inactive"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := MapCloudTrail(data)
		if err != nil {
			if !errors.Is(err, lakerelay.ErrInvalidRecord) {
				t.Fatalf("error %v does not wrap ErrInvalidRecord", err)
			}
			return
		}
		checkCompact(t, out)
		findings, err := Validate(out)
		if err != nil {
			t.Fatalf("output does not validate: %v", err)
		}
		for _, fd := range findings {
			if fd.Severity == lakerelay.SeverityError {
				t.Errorf("mapped event does not conform: %s\ninput %s\noutput %s", fd, data, out)
			}
		}
	})
}

func FuzzLoadSchema(f *testing.F) {
	f.Add([]byte(miniExport))
	f.Add([]byte(`{"version":"1","types":{"string_t":{},"x_t":{"type":"x_t"}},"objects":{},"classes":{"c":{"uid":1,"attributes":{"a":{"type":"x_t"}}}}}`))
	f.Add([]byte(`{"version":"1","types":{"integer_t":{}},"objects":{"o":{"attributes":{"o":{"type":"o","object_type":"o","is_array":true}}}},"classes":{"c":{"uid":1,"attributes":{"o":{"object_type":"o"}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadSchema(strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ocsf: load schema") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		for _, name := range s.Classes() {
			as, err := s.ArrowSchema(name)
			if err != nil {
				t.Fatalf("class %s of a loaded schema has no Arrow schema: %v", name, err)
			}
			if _, ok := as.FieldsByName(UnmappedColumn); !ok {
				t.Fatalf("class %s: no unmapped column", name)
			}
			uid, err := s.ClassUID(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Validate([]byte(`{"class_uid":` + strconv.Itoa(uid) + `,"o":{"o":[{"o":[]}]}}`)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
