package securitylake

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// testSchema is a hand-built subset of OCSF API Activity (6003) following
// the project's Arrow conventions, so that the converter is tested
// independently of the ocsf package.
func testSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	i32 := arrow.PrimitiveTypes.Int32
	i64 := arrow.PrimitiveTypes.Int64
	f := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	st := func(fs ...arrow.Field) arrow.DataType { return arrow.StructOf(fs...) }
	account := st(f("uid", str), f("name", str), f("type_id", i32))
	return arrow.NewSchema([]arrow.Field{
		f("activity_id", i32),
		f("activity_name", str),
		f("category_uid", i32),
		f("class_uid", i32),
		f("severity_id", i32),
		f("type_uid", i64),
		f("time", i64),
		f("time_dt", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}),
		f("status", str),
		f("status_id", i32),
		f("message", str),
		f("actor", st(
			f("user", st(f("name", str), f("uid", str), f("type", str), f("account", account))),
			f("session", st(f("issuer", str), f("is_mfa", arrow.FixedWidthTypes.Boolean), f("created_time", i64))),
			f("invoked_by", str),
		)),
		f("api", st(
			f("operation", str),
			f("service", st(f("name", str))),
			f("request", st(f("uid", str), f("data", str))),
			f("response", st(f("error", str), f("message", str))),
		)),
		f("cloud", st(f("provider", str), f("region", str), f("account", account))),
		f("src_endpoint", st(f("ip", str), f("domain", str), f("port", i32))),
		f("http_request", st(f("user_agent", str))),
		f("resources", arrow.ListOf(st(f("uid", str), f("type", str), f("name", str), f("modified_time_dt", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})))),
		f("metadata", st(
			f("product", st(f("name", str), f("vendor_name", str))),
			f("version", str),
			f("uid", str),
			f("profiles", arrow.ListOf(str)),
			f("logged_time", i64),
		)),
		f("risk_score", arrow.PrimitiveTypes.Float64),
		f("unmapped", str),
	}, nil)
}

var (
	testRegions  = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	testAccounts = []string{"111122223333", "444455556666", "777788889999"}
	testOps      = []string{"GetObject", "ListBuckets", "CreateUser", "DeleteRole", "DescribeInstances", "PutObject", "AssumeRole", "GenerateDataKey"}
)

// testBase is the start of the generated events' time range.
var testBase = time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)

// genEvent returns a realistic OCSF API Activity event; i selects region,
// account and time (spread over three UTC days, not in order). With objData
// api.request.data is a JSON object (stored as JSON text), else a string,
// which arrow-go's generic JSON reader also accepts.
func genEvent(rng *rand.Rand, i int, objData bool) []byte {
	region := testRegions[i%len(testRegions)]
	account := testAccounts[(i/3)%len(testAccounts)]
	t := testBase.Add(time.Duration(rng.Int64N(int64(50 * time.Hour)))).Truncate(time.Millisecond)
	op := testOps[rng.IntN(len(testOps))]
	act := 1 + rng.IntN(4)
	ms := t.UnixMilli()
	data := fmt.Sprintf(`{"bucketName":"logs-%d","key":"AWSLogs/%s/x.json.gz"}`, i%7, account)
	if !objData {
		data = strconv.Quote(data)
	}
	resources := fmt.Sprintf(`[{"uid":"arn:aws:s3:::logs-%d","type":"AWS::S3::Bucket"},{"uid":"arn:aws:s3:::logs-%d/AWSLogs/x.json.gz","type":"AWS::S3::Object","name":"x.json.gz"}]`, i%7, i%7)
	if i%5 == 0 {
		resources = "[]" // no resources: all-null leaves inside the list
	}
	status, statusID, resp := "Success", 1, ""
	if rng.IntN(10) == 0 {
		status, statusID = "Failure", 2
		resp = `,"response":{"error":"AccessDenied","message":"User: arn:aws:iam::` + account + `:user/alice is not authorized to perform: ` + op + `"}`
	}
	return fmt.Appendf(nil, `{"activity_id":%d,"activity_name":"Read","category_uid":6,"class_uid":6003,"severity_id":1,"type_uid":%d,"time":%d,"time_dt":"%s","status":"%s","status_id":%d,`+
		`"message":"%s called on s3.amazonaws.com","actor":{"user":{"name":"alice-%d","uid":"AIDA%016d","type":"IAMUser","account":{"uid":"%s"}},"session":{"issuer":"arn:aws:iam::%s:role/Admin","is_mfa":%t,"created_time":%d},"invoked_by":null},`+
		`"api":{"operation":"%s","service":{"name":"s3.amazonaws.com"},"request":{"uid":"%s","data":%s}%s},`+
		`"cloud":{"provider":"AWS","region":"%s","account":{"uid":"%s"}},"src_endpoint":{"ip":"198.51.100.%d","domain":null},"http_request":{"user_agent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 botocore/2.4.5"},`+
		`"resources":%s,`+
		`"metadata":{"product":{"name":"CloudTrail","vendor_name":"AWS"},"version":"1.1.0","uid":"%08x-%04x-4%03x-a%03x-%012x","profiles":["cloud","datetime"],"logged_time":%d},"risk_score":%g}`,
		act, 600300+act, ms, t.Format("2006-01-02T15:04:05.000Z"), status, statusID,
		op, rng.IntN(40), rng.Int64N(1e16), account, account, rng.IntN(2) == 0, ms-3600000,
		op, strconv.FormatInt(rng.Int64(), 36), data, resp,
		region, account, rng.IntN(250),
		resources,
		rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Int64N(1<<48), ms+1500, float64(rng.IntN(1000))/10)
}

// scaled returns n, or an eighth of it under the race detector.
func scaled(n int) int {
	if raceEnabled {
		return max(n/8, 1)
	}
	return n
}
