package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/lakerelay/lakerelay"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/ocsf"
)

var update = flag.Bool("update", false, "regenerate the embedded sample CloudTrail logs under sample/")

// The sample: three accounts, three regions, CloudTrail files delivered
// over three UTC days (2026-11-28 to 2026-11-30).
var (
	sampleAccounts = []string{"111122223333", "444455556666", "777788889999"}
	sampleRegions  = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	sampleStart    = time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)
	sampleHours    = 30
)

type ctEvent map[string]any

// sampleEvent is one CloudTrail record of a realistic mix: S3, EC2, KMS,
// Lambda and STS API calls, console sign-ins, role assumptions and IAM user
// changes, with some AccessDenied failures.
func sampleEvent(rng *rand.Rand, account, region string, t time.Time) ctEvent {
	users := []string{"alice", "bob", "deploy-bot", "carol"}
	user := users[rng.IntN(len(users))]
	ip := fmt.Sprintf("198.51.100.%d", 1+rng.IntN(250))
	agent := []string{
		"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
		"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2",
		"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	}[rng.IntN(4)]
	iamUser := ctEvent{
		"type":        "IAMUser",
		"principalId": fmt.Sprintf("AIDA%s%04d", strings.ToUpper(user[:2]), rng.IntN(10000)),
		"arn":         "arn:aws:iam::" + account + ":user/" + user,
		"accountId":   account,
		"accessKeyId": fmt.Sprintf("AKIA%012d", rng.Int64N(1e12)),
		"userName":    user,
	}
	role := ctEvent{
		"type":        "AssumedRole",
		"principalId": fmt.Sprintf("AROA%012d:%s", rng.Int64N(1e12), user),
		"arn":         "arn:aws:sts::" + account + ":assumed-role/Admin/" + user,
		"accountId":   account,
		"accessKeyId": fmt.Sprintf("ASIA%012d", rng.Int64N(1e12)),
		"sessionContext": ctEvent{
			"sessionIssuer": ctEvent{"type": "Role", "principalId": "AROA" + account, "arn": "arn:aws:iam::" + account + ":role/Admin", "accountId": account, "userName": "Admin"},
			"attributes":    ctEvent{"creationDate": t.Add(-37 * time.Minute).Format(time.RFC3339), "mfaAuthenticated": fmt.Sprint(rng.IntN(2) == 0)},
		},
	}
	identity := iamUser
	if rng.IntN(2) == 0 {
		identity = role
	}
	bucket := fmt.Sprintf("corp-data-%s-%s", account[:4], region)
	e := ctEvent{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          t.Format(time.RFC3339),
		"awsRegion":          region,
		"sourceIPAddress":    ip,
		"userAgent":          agent,
		"requestID":          fmt.Sprintf("%016X", rng.Uint64()),
		"eventID":            fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), 0x8000|rng.IntN(1<<14), rng.Int64N(1<<48)),
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": account,
		"eventCategory":      "Management",
		"readOnly":           true,
	}
	tls := ctEvent{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": ""}
	set := func(source, name string, req, resp any) {
		e["eventSource"], e["eventName"] = source, name
		e["requestParameters"], e["responseElements"] = req, resp
		tls["clientProvidedHostHeader"] = strings.TrimSuffix(source, ".amazonaws.com") + "." + region + ".amazonaws.com"
		e["tlsDetails"] = tls
	}
	switch k := rng.IntN(20); {
	case k < 4:
		key := fmt.Sprintf("reports/%d/%02d/part-%05d.csv", t.Year(), t.Month(), rng.IntN(100000))
		name := []string{"GetObject", "PutObject", "HeadObject"}[rng.IntN(3)]
		set("s3.amazonaws.com", name, ctEvent{"bucketName": bucket, "Host": bucket + ".s3." + region + ".amazonaws.com", "key": key}, nil)
		e["eventCategory"], e["managementEvent"], e["readOnly"] = "Data", false, name != "PutObject"
		e["resources"] = []ctEvent{
			{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::" + bucket + "/" + key},
			{"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + bucket},
		}
		e["additionalEventData"] = ctEvent{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "bytesTransferredOut": rng.IntN(5 << 20), "x-amz-id-2": fmt.Sprintf("%x", rng.Uint64())}
	case k < 6:
		set("s3.amazonaws.com", "ListBuckets", ctEvent{"Host": "s3." + region + ".amazonaws.com"}, nil)
	case k < 8:
		set("ec2.amazonaws.com", "DescribeInstances", ctEvent{"instancesSet": ctEvent{}, "filterSet": ctEvent{"items": []ctEvent{{"name": "instance-state-name", "valueSet": ctEvent{"items": []ctEvent{{"value": "running"}}}}}}}, nil)
	case k == 8:
		id := fmt.Sprintf("i-%017x", rng.Uint64()>>4)
		set("ec2.amazonaws.com", "RunInstances", ctEvent{"instanceType": "t3.medium", "imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1},
			ctEvent{"instancesSet": ctEvent{"items": []ctEvent{{"instanceId": id, "instanceState": ctEvent{"code": 0, "name": "pending"}}}}})
		e["readOnly"] = false
		e["resources"] = []ctEvent{{"accountId": account, "type": "AWS::EC2::Instance", "ARN": "arn:aws:ec2:" + region + ":" + account + ":instance/" + id}}
	case k == 9:
		set("ec2.amazonaws.com", "TerminateInstances", ctEvent{"instancesSet": ctEvent{"items": []ctEvent{{"instanceId": fmt.Sprintf("i-%017x", rng.Uint64()>>4)}}}}, nil)
		e["readOnly"] = false
		e["errorCode"] = "Client.UnauthorizedOperation"
		e["errorMessage"] = "You are not authorized to perform this operation."
	case k < 12:
		keyID := fmt.Sprintf("arn:aws:kms:%s:%s:key/%08x-1111-2222-3333-%012x", region, account, rng.Uint32(), rng.Int64N(1<<48))
		set("kms.amazonaws.com", []string{"GenerateDataKey", "Decrypt"}[rng.IntN(2)], ctEvent{"keyId": keyID, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil)
		e["resources"] = []ctEvent{{"accountId": account, "type": "AWS::KMS::Key", "ARN": keyID}}
		e["userIdentity"] = ctEvent{"type": "AWSService", "invokedBy": "s3.amazonaws.com"}
		e["sourceIPAddress"], e["userAgent"] = "s3.amazonaws.com", "s3.amazonaws.com"
	case k == 12:
		set("lambda.amazonaws.com", "ListFunctions20150331", nil, nil)
	case k == 13:
		set("s3.amazonaws.com", "DeleteBucket", ctEvent{"bucketName": bucket + "-archive", "Host": "s3." + region + ".amazonaws.com"}, nil)
		e["readOnly"] = false
		e["errorCode"], e["errorMessage"] = "AccessDenied", "User: "+identity["arn"].(string)+" is not authorized to perform: s3:DeleteBucket"
	case k == 14:
		set("signin.amazonaws.com", "ConsoleLogin", nil, ctEvent{"ConsoleLogin": "Success"})
		e["eventType"], e["readOnly"], e["awsRegion"] = "AwsConsoleSignIn", false, "us-east-1"
		e["userIdentity"] = iamUser
		e["additionalEventData"] = ctEvent{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": []string{"Yes", "No"}[rng.IntN(2)]}
		delete(e, "tlsDetails")
		if rng.IntN(4) == 0 {
			e["errorMessage"] = "Failed authentication"
			e["responseElements"] = ctEvent{"ConsoleLogin": "Failure"}
		}
	case k < 17:
		set("sts.amazonaws.com", "AssumeRole",
			ctEvent{"roleArn": "arn:aws:iam::" + account + ":role/Admin", "roleSessionName": user, "durationSeconds": 3600},
			ctEvent{"credentials": ctEvent{"accessKeyId": fmt.Sprintf("ASIA%012d", rng.Int64N(1e12)), "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE", "expiration": t.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM")},
				"assumedRoleUser": ctEvent{"assumedRoleId": "AROA" + account + ":" + user, "arn": "arn:aws:sts::" + account + ":assumed-role/Admin/" + user}})
		e["userIdentity"] = iamUser
		e["resources"] = []ctEvent{{"accountId": account, "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::" + account + ":role/Admin"}}
	case k == 17:
		newUser := fmt.Sprintf("svc-%04d", rng.IntN(10000))
		set("iam.amazonaws.com", "CreateUser", ctEvent{"userName": newUser},
			ctEvent{"user": ctEvent{"path": "/", "userName": newUser, "userId": fmt.Sprintf("AIDA%012d", rng.Int64N(1e12)), "arn": "arn:aws:iam::" + account + ":user/" + newUser, "createDate": t.Format("Jan 2, 2006, 3:04:05 PM")}})
		e["readOnly"], e["awsRegion"] = false, "us-east-1"
	case k == 18:
		set("iam.amazonaws.com", []string{"CreateAccessKey", "DeleteAccessKey"}[rng.IntN(2)], ctEvent{"userName": user}, nil)
		e["readOnly"], e["awsRegion"] = false, "us-east-1"
	default:
		set("iam.amazonaws.com", "AttachUserPolicy", ctEvent{"userName": user, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, nil)
		e["readOnly"], e["awsRegion"] = false, "us-east-1"
	}
	if e["requestParameters"] == nil {
		e["requestParameters"] = nil
	}
	return e
}

// TestSampleData regenerates the sample with -update, and always checks that
// it covers several accounts, regions and days.
func TestSampleData(t *testing.T) {
	if *update {
		require.NoError(t, os.RemoveAll("sample"))
		rng := rand.New(rand.NewPCG(2026, 11))
		for h := 0; h < sampleHours; h += 3 {
			for _, account := range sampleAccounts {
				for _, region := range sampleRegions {
					delivered := sampleStart.Add(time.Duration(h+3) * time.Hour).Add(time.Duration(rng.IntN(15)) * time.Minute)
					var recs []ctEvent
					n := 4 + rng.IntN(9)
					for range n {
						at := sampleStart.Add(time.Duration(h)*time.Hour + time.Duration(rng.Int64N(int64(3*time.Hour)))).Truncate(time.Second)
						recs = append(recs, sampleEvent(rng, account, region, at))
					}
					name := fmt.Sprintf("%s_CloudTrail_%s_%sZ_%016X.json.gz", account, region, delivered.Format("20060102T1504"), rng.Uint64())
					p := filepath.Join("sample", "AWSLogs", account, "CloudTrail", region, delivered.Format("2006/01/02"), name)
					require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
					var buf bytes.Buffer
					zw := gzip.NewWriter(&buf)
					require.NoError(t, json.NewEncoder(zw).Encode(ctEvent{"Records": recs}))
					require.NoError(t, zw.Close())
					require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
				}
			}
		}
	}
	accounts, regions, days := map[string]bool{}, map[string]bool{}, map[string]bool{}
	records := 0
	require.NoError(t, fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		assert.True(t, strings.HasSuffix(p, ".json.gz"), p)
		f, err := sampleFS.Open(p)
		require.NoError(t, err)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		var doc struct{ Records []map[string]any }
		require.NoError(t, json.Unmarshal(raw, &doc), p)
		for _, r := range doc.Records {
			accounts[r["recipientAccountId"].(string)] = true
			regions[r["awsRegion"].(string)] = true
			days[r["eventTime"].(string)[:10]] = true
			records++
		}
		assert.Contains(t, p, path.Join("AWSLogs", doc.Records[0]["recipientAccountId"].(string), "CloudTrail"))
		return nil
	}))
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, sampleAccounts, keys(accounts))
	assert.Len(t, keys(regions), 3)
	assert.Equal(t, []string{"2026-11-28", "2026-11-29", "2026-11-30"}, keys(days))
	assert.Greater(t, records, 500)
}

// officialExport returns the path of the official OCSF schema export of
// version (../shared/ocsf in this project's checkouts, or the directory
// LAKERELAY_OCSF_SCHEMA_DIR names) and skips the test when it is absent.
func officialExport(t *testing.T, version string) string {
	t.Helper()
	name := "schema-" + version + ".json"
	p := filepath.Join("..", "..", "..", "shared", "ocsf", name)
	if dir := os.Getenv("LAKERELAY_OCSF_SCHEMA_DIR"); dir != "" {
		p = filepath.Join(dir, name)
	}
	p, err := filepath.Abs(p)
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the official OCSF %s schema export is not present at %s; put %s there or set LAKERELAY_OCSF_SCHEMA_DIR to the directory holding it", version, p, name)
	}
	return p
}

// TestSampleValidatesAsOCSF maps every bundled sample record and checks the
// events against the built-in OCSF 1.1.0 definitions and, when present, the
// official 1.1.0 export: no error findings.
func TestSampleValidatesAsOCSF(t *testing.T) {
	var records []json.RawMessage
	require.NoError(t, fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := sampleFS.Open(p)
		require.NoError(t, err)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		var doc struct{ Records []json.RawMessage }
		require.NoError(t, json.NewDecoder(zr).Decode(&doc), p)
		records = append(records, doc.Records...)
		return nil
	}))
	require.Equal(t, sampleRecords(t), len(records))
	events := make([][]byte, len(records))
	classes := map[int]int{}
	for i, rec := range records {
		ev, err := ocsf.MapCloudTrail(rec)
		require.NoError(t, err, "sample record %d", i)
		events[i] = ev
		var c struct {
			ClassUID int `json:"class_uid"`
		}
		require.NoError(t, json.Unmarshal(ev, &c))
		classes[c.ClassUID]++
	}
	assert.Len(t, classes, 3, "API Activity, Authentication and Account Change: %v", classes)

	check := func(t *testing.T, validate func([]byte) ([]ocsf.Finding, error)) {
		for i, ev := range events {
			findings, err := validate(ev)
			require.NoError(t, err, "event of sample record %d", i)
			for _, f := range findings {
				if f.Severity == lakerelay.SeverityError {
					t.Errorf("event of sample record %d: %s", i, f)
				}
			}
		}
	}
	t.Run("builtin", func(t *testing.T) { check(t, ocsf.Validate) })
	t.Run("official", func(t *testing.T) {
		f, err := os.Open(officialExport(t, ocsf.Version))
		require.NoError(t, err)
		defer f.Close()
		s, err := ocsf.LoadSchema(f)
		require.NoError(t, err)
		require.Equal(t, ocsf.Version, s.Version())
		check(t, s.Validate)
	})
}
