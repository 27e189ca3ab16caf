package ocsf_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay/ocsf"
)

func ExampleMapCloudTrail() {
	record := `{"eventVersion":"1.09","eventTime":"2026-03-02T10:20:00Z","eventSource":"s3.amazonaws.com",
	  "eventName":"GetObject","awsRegion":"us-west-2","sourceIPAddress":"10.0.12.34","eventID":"8d7c6b5a",
	  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},
	  "resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::acme/report.pdf"}],
	  "requestParameters":{"bucketName":"acme","key":"report.pdf"}}`
	out, err := ocsf.MapCloudTrail([]byte(record))
	if err != nil {
		fmt.Println(err)
		return
	}
	var ev ocsf.APIActivity
	if err := json.Unmarshal(out, &ev); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.ClassName, ev.TypeUID, ev.TypeName)
	fmt.Println(ev.Actor.User.UID, ev.SrcEndpoint.IP, ev.Cloud.Region, ev.Time.Time())
	fmt.Println(ev.Resources[0].UID, ev.Unmapped["requestParameters"])
	findings, _ := ocsf.Validate(out)
	fmt.Println("findings:", len(findings))
	// Output:
	// API Activity 600302 API Activity: Read
	// arn:aws:iam::111122223333:user/alice 10.0.12.34 us-west-2 2026-03-02 10:20:00 +0000 UTC
	// arn:aws:s3:::acme/report.pdf map[bucketName:acme key:report.pdf]
	// findings: 0
}

// AppendCloudTrail maps records one after another into one buffer, here as
// NDJSON lines, without an allocation per event; a record it cannot map
// leaves the buffer as it was.
func ExampleAppendCloudTrail() {
	records := []string{
		`{"eventTime":"2026-03-02T10:20:00Z","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com",
		  "responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"}}`,
		`{"eventName":"GetObject","userIdentity":{"arn":"arn:aws:iam::111122223333:user/alice"}}`,
		`{"eventTime":"2026-03-02T10:21:00Z","eventName":"DeleteBucket","eventSource":"s3.amazonaws.com",
		  "errorCode":"AccessDenied","requestParameters":{"bucketName":"acme"}}`,
	}
	var ndjson []byte
	for _, rec := range records {
		out, err := ocsf.AppendCloudTrail(ndjson, []byte(rec))
		if err != nil {
			fmt.Println(err)
			continue
		}
		ndjson = append(out, '\n')
	}
	for _, line := range strings.Split(strings.TrimSpace(string(ndjson)), "\n") {
		var ev struct {
			ocsf.BaseEvent
			IsMFA bool `json:"is_mfa"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.TypeName, ev.Status, ev.StatusCode, ev.IsMFA, ev.Unmapped)
	}
	// Output:
	// ocsf: cloudtrail: lakerelay: invalid record: field eventTime is missing
	// Authentication: Logon Success  true map[additionalEventData:map[MFAUsed:Yes] responseElements:map[ConsoleLogin:Success]]
	// API Activity: Delete Failure AccessDenied false map[requestParameters:map[bucketName:acme]]
}

func ExampleValidate() {
	event := `{"class_uid":6003,"category_uid":6,"activity_id":2,"type_uid":600301,"severity_id":1,
	  "time":1772442312000,"metadata":{"version":"1.1.0","product":{"name":"CloudTrail","vendor_name":"AWS"}},
	  "actor":{"user":{"uid":"arn:aws:iam::111122223333:user/alice"}},"src_endpoint":{"ip":"10.0.0.1"},
	  "api":{"service":{"name":"s3.amazonaws.com"}},"shoe_size":44}`
	findings, err := ocsf.Validate([]byte(event))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// error api.operation: required: required attribute is missing
	// warning shoe_size: unknown_attribute: attribute not defined here in OCSF 1.1.0; writers move it to unmapped
	// error type_uid: uid_mismatch: type_uid 600301 is not class_uid*100 + activity_id = 600302
}

func ExampleArrowSchema() {
	uid, _ := ocsf.ClassUID("API Activity")
	schema, err := ocsf.ArrowSchema(uid)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"time", "time_dt", "type_uid", "severity_id", "unmapped"} {
		f, _ := schema.FieldsByName(name)
		fmt.Println(name, f[0].Type, f[0].Nullable)
	}
	// Output:
	// time int64 true
	// time_dt timestamp[ms, tz=UTC] true
	// type_uid int64 true
	// severity_id int32 true
	// unmapped utf8 true
}

func ExampleParseTagSchema() {
	schema, err := ocsf.ParseTagSchema([]byte(`{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
	  {"Tag":"name=Activity_id, type=INT64, convertedtype=INT_64, repetitiontype=OPTIONAL"},
	  {"Tag":"name=time, type=INT64, convertedtype=TIMESTAMP_MILLIS, repetitiontype=OPTIONAL"},
	  {"Tag":"name=labels, type=LIST, repetitiontype=OPTIONAL","Fields":[
	    {"Tag":"name=element, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=REQUIRED"}]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range schema.Fields() {
		fmt.Println(f.Name, f.Type)
	}
	_, err = ocsf.ParseTagSchema([]byte(`{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT33"}]}`))
	fmt.Println(err)
	// Output:
	// Activity_id int64
	// time timestamp[ms, tz=UTC]
	// labels list<element: utf8>
	// ocsf: tag schema: s.a: unknown type "INT33" (want BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, LIST or MAP) (tag "name=a, type=INT33")
}

func ExampleLoadSchema() {
	// In practice: f, _ := os.Open("schema-1.3.0.json"); ocsf.LoadSchema(f)
	export := `{"version":"1.3.0","types":{"integer_t":{},"long_t":{},"string_t":{},"timestamp_t":{"type":"long_t"}},
	  "objects":{},"classes":{"ping":{"name":"ping","caption":"Ping","uid":1999,"attributes":{
	    "class_uid":{"type":"integer_t","requirement":"required"},
	    "time":{"type":"timestamp_t","requirement":"required"},
	    "host":{"type":"string_t","requirement":"recommended"}}}}}`
	s, err := ocsf.LoadSchema(strings.NewReader(export))
	if err != nil {
		fmt.Println(err)
		return
	}
	as, _ := s.ArrowSchema("Ping")
	fmt.Println(s.Version(), as.Fields())
	findings, _ := s.Validate([]byte(`{"class_uid":1999}`))
	fmt.Println(findings)
	// Output:
	// 1.3.0 [class_uid: type=int32, nullable host: type=utf8, nullable time: type=int64, nullable unmapped: type=utf8, nullable]
	// [error time: required: required attribute is missing]
}
