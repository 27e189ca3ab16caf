package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// bucketPolicy allows everything on one bucket only.
func bucketPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}`
}

// TestSourceLocationRoles routes two classes of the sample to two buckets,
// each written through its own role and ExternalId (MinIO's STS behind a
// front that checks role and ExternalId and restricts each role to its own
// bucket): each class lands in its bucket. Swapping the buckets fails to
// deliver (each role may write only its own bucket), and a wrong ExternalId
// or an unknown role fails the run before any data is read, with an error
// naming the location and the role.
func TestSourceLocationRoles(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	lakeA, lakeB := m.NewBucket(t), m.NewBucket(t)
	const roleA, roleB = "arn:aws:iam::123456789012:role/lake-api", "arn:aws:iam::210987654321:role/lake-auth"
	roles := m.NewRoleSTS(t,
		testenv.Role{ARN: roleA, ExternalID: "ext-api-1", Policy: bucketPolicy(lakeA)},
		testenv.Role{ARN: roleB, ExternalID: "ext-auth-2", Policy: bucketPolicy(lakeB)})
	env := append(m.Env(), "AWS_ENDPOINT_URL_STS="+roles.URL())
	locA := "s3://" + lakeA + "/ext/ct-api/1.0/"
	locB := "s3://" + lakeB + "/ext/ct-auth/1.0/"

	t.Run("each location its role", func(t *testing.T) {
		dir := t.TempDir()
		res := runProg(t, dir, env,
			"--source-location", "api_activity="+locA+";role="+roleA+";external-id=ext-api-1",
			"--source-location", "authentication="+locB+";role="+roleB+";external-id=ext-auth-2",
			"--quarantine", filepath.Join(dir, "q.ndjson"))
		require.Equal(t, 0, res.code, res.stderr)
		assert.GreaterOrEqual(t, roles.Requests(), 2, "both roles were assumed")
		assert.NotContains(t, res.stderr+res.stdout, "ext-api-1", "external ids are not printed")

		local := t.TempDir()
		nA := download(t, client, lakeA, "", local)
		nB := download(t, client, lakeB, "", local)
		require.Greater(t, nA, 0)
		require.Greater(t, nB, 0)
		assert.Equal(t, num(res.summary["objects"]), nA+nB)
		globA := filepath.Join(local, "ext/ct-api/1.0") + "/**/*.parquet"
		globB := filepath.Join(local, "ext/ct-auth/1.0") + "/**/*.parquet"
		assert.Equal(t, []map[string]any{{"class_uid": json.Number("6003")}}, testenv.DuckDB(t, "SELECT DISTINCT class_uid FROM read_parquet('"+globA+"')"))
		assert.Equal(t, []map[string]any{{"class_uid": json.Number("3002")}}, testenv.DuckDB(t, "SELECT DISTINCT class_uid FROM read_parquet('"+globB+"')"))
		assert.Equal(t, num(res.summary["records"])-num(res.summary["quarantined"]), duckCount(t, globA)+duckCount(t, globB))
	})

	t.Run("a role writes only its own bucket", func(t *testing.T) {
		dir := t.TempDir()
		other := "s3://" + lakeB + "/ext/swapped/"
		res := runProg(t, dir, env, "--class", "api_activity",
			"--source-location", "api_activity="+other+";role="+roleA+";external-id=ext-api-1",
			"--quarantine", filepath.Join(dir, "q.ndjson"))
		assert.Equal(t, 1, res.code, res.stderr)
		assert.Contains(t, res.stderr, other)
		assert.Contains(t, res.stderr, "not delivered")
		assert.Contains(t, res.stderr, "AccessDenied")
		assert.Equal(t, 0, download(t, client, lakeB, "ext/swapped/", t.TempDir()))
	})

	for name, loc := range map[string]string{
		"wrong external id": "api_activity=" + locA + ";role=" + roleA + ";external-id=ext-wrong",
		"no external id":    "api_activity=" + locA + ";role=" + roleA,
		"unknown role":      "api_activity=" + locA + ";role=arn:aws:iam::123456789012:role/nobody",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			before := download(t, client, lakeA, "", t.TempDir())
			res := runProg(t, dir, env, "--source-location", loc,
				"--source-location", "authentication="+locB+";role="+roleB+";external-id=ext-auth-2",
				"--quarantine", filepath.Join(dir, "q.ndjson"))
			assert.Equal(t, 1, res.code, res.stderr)
			role := strings.TrimPrefix(loc[strings.Index(loc, ";role=")+len(";role="):], "")
			role, _, _ = strings.Cut(role, ";")
			msg, _ := res.summary["error"].(string)
			assert.Contains(t, msg, "--source-location "+locA, "the error names the location")
			assert.Contains(t, msg, "assume role "+role, "the error names the role")
			assert.Contains(t, msg, "AccessDenied")
			assert.Equal(t, 0, num(res.summary["records"]), "nothing was read")
			assert.Equal(t, before, download(t, client, lakeA, "", t.TempDir()), "nothing was written")
		})
	}
}

func TestParseSourceLocation(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/lake"
	for in, want := range map[string]sourceLocation{
		"s3://b/ext/x/":               {location: "s3://b/ext/x/"},
		"s3://b/ext/a=b/":             {location: "s3://b/ext/a=b/"},
		"api_activity=s3://b/ext/x/":  {class: "api_activity", location: "s3://b/ext/x/"},
		"3002=s3://b/x/;role=" + role: {class: "3002", location: "s3://b/x/", role: role},
		"api_activity=s3://b/x/;role=" + role + ";external-id=a=b,c@d": {class: "api_activity", location: "s3://b/x/", role: role, externalID: "a=b,c@d"},
		"s3://b/x/;external-id=ext-1;role=" + role:                     {location: "s3://b/x/", role: role, externalID: "ext-1"},
	} {
		got, err := parseSourceLocation(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, in := range []string{
		"", "=s3://b/x/", "api_activity=", "s3://b/x/;", "s3://b/x/;role=", "s3://b/x/;role=" + role + ";role=" + role,
		"s3://b/x/;region=us-east-1", "s3://b/x/;external-id=ext-1", "s3://b/x/;role=arn:aws:iam::1:user/x",
		"s3://b/x/;role=" + role + ";external-id=a b", "/tmp/dir;role=" + role,
	} {
		_, err := parseSourceLocation(in)
		assert.Error(t, err, in)
	}
}

// FuzzParseSourceLocation: no panic; an accepted value has a location, a
// class without ";", and an external id only with a role; printing it back
// parses to the same value.
func FuzzParseSourceLocation(f *testing.F) {
	for _, s := range []string{
		"s3://b/ext/x/", "api_activity=s3://b/x/;role=arn:aws:iam::123456789012:role/lake;external-id=e-1",
		"x=;role=", ";;", "s3://b/x/;external-id=a=b", "a=b=c;role=arn:aws:iam::123456789012:role/r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sl, err := parseSourceLocation(in)
		if err != nil {
			return
		}
		if sl.location == "" || strings.Contains(sl.class, ";") || strings.Contains(sl.location, ";") || (sl.externalID != "" && sl.role == "") {
			t.Fatalf("parseSourceLocation(%q) = %+v", in, sl)
		}
		s := sl.location
		if sl.class != "" {
			s = sl.class + "=" + s
		}
		if sl.role != "" {
			s += ";role=" + sl.role
		}
		if sl.externalID != "" {
			s += ";external-id=" + sl.externalID
		}
		again, err := parseSourceLocation(s)
		if err != nil || again != sl {
			t.Fatalf("%q parsed to %+v, printed as %q, parsed again to %+v, %v", in, sl, s, again, err)
		}
	})
}
