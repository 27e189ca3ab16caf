package testenv

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Role is an IAM role as [RoleSTS] knows it: its ARN, the ExternalId its
// trust policy demands ("" for none) and its permissions policy.
type Role struct {
	ARN, ExternalID, Policy string
}

// RoleSTS is an STS endpoint that plays the part of IAM which MinIO does
// not: MinIO's AssumeRole ignores RoleArn and ExternalId. RoleSTS checks
// them against its roles, answering AccessDenied for an unknown role or a
// wrong ExternalId, and otherwise returns temporary credentials of the real
// MinIO, obtained by MinIO's own AssumeRole with the role's policy as the
// session policy, so MinIO enforces exactly that policy on every request
// made with them. The caller's signature is not checked.
type RoleSTS struct {
	url      string
	requests atomic.Int64
}

// NewRoleSTS starts a RoleSTS on 127.0.0.1 in front of m; it stops at the
// end of the test. Point AWS_ENDPOINT_URL_STS at its URL.
func (m *MinIO) NewRoleSTS(t testing.TB, roles ...Role) *RoleSTS {
	t.Helper()
	byARN := map[string]Role{}
	for _, r := range roles {
		byARN[r.ARN] = r
	}
	client := sts.NewFromConfig(m.Config(t))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: role STS listen: %v", err)
	}
	s := &RoleSTS{url: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.requests.Add(1)
		if err := req.ParseForm(); err != nil || req.Form.Get("Action") != "AssumeRole" {
			stsError(w, http.StatusBadRequest, "InvalidAction", "only AssumeRole is served")
			return
		}
		role, ok := byARN[req.Form.Get("RoleArn")]
		switch {
		case !ok:
			stsError(w, http.StatusForbidden, "AccessDenied", "not authorized to perform: sts:AssumeRole on resource: "+req.Form.Get("RoleArn"))
			return
		case role.ExternalID != req.Form.Get("ExternalId"):
			stsError(w, http.StatusForbidden, "AccessDenied", "not authorized to perform: sts:AssumeRole on resource: "+role.ARN+" (the trust policy's sts:ExternalId condition does not match)")
			return
		}
		out, err := client.AssumeRole(req.Context(), &sts.AssumeRoleInput{
			RoleArn:         aws.String(role.ARN),
			RoleSessionName: aws.String("lakerelay-test"),
			DurationSeconds: aws.Int32(3600),
			Policy:          aws.String(role.Policy),
		})
		if err != nil {
			stsError(w, http.StatusInternalServerError, "InternalError", err.Error())
			return
		}
		c := out.Credentials
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<AssumedRoleUser><Arn>%s/lakerelay-test</Arn><AssumedRoleId>AROATEST:lakerelay-test</AssumedRoleId></AssumedRoleUser>`+
			`</AssumeRoleResult><ResponseMetadata><RequestId>testenv</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			esc(aws.ToString(c.AccessKeyId)), esc(aws.ToString(c.SecretAccessKey)), esc(aws.ToString(c.SessionToken)),
			aws.ToTime(c.Expiration).UTC().Format(time.RFC3339), esc(role.ARN))
	})}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return s
}

// URL is the endpoint's base URL.
func (s *RoleSTS) URL() string { return s.url }

// Requests is the number of requests served so far.
func (s *RoleSTS) Requests() int { return int(s.requests.Load()) }

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>testenv</RequestId></ErrorResponse>`, esc(code), esc(msg))
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
