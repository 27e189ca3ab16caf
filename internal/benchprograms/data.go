// Package benchprograms generates the data sets of the program benchmark
// (scripts/bench-programs) and holds the benchmark itself, a test behind
// the build tag benchprograms that runs every example program as a user
// does, next to the bare primitive it wraps on the same bytes:
//
//	go test -tags benchprograms -run TestPrograms -v -timeout 60m ./internal/benchprograms
//
// The data sets are deterministic: the same sizes give the same bytes.
package benchprograms

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/klauspost/compress/gzip"
)

// CloudTrailRecord appends the i-th CloudTrail-like event (about 1.4 KiB)
// drawn from r: random identifiers, so that it compresses about as well as
// real CloudTrail (roughly 7 to 10 times), recorded in one of 3 accounts
// (recipientAccountId: a Security Lake partition key) on one day.
func CloudTrailRecord(dst []byte, i int, r *rand.Rand) []byte {
	names := [...]string{"GetObject", "PutObject", "AssumeRole", "DescribeInstances", "ListBuckets", "Decrypt", "GenerateDataKey", "ConsoleLogin"}
	return fmt.Appendf(dst, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA%016X:session-%d","arn":"arn:aws:sts::%012d:assumed-role/app-role-%d/session-%d","accountId":"%012d","accessKeyId":"ASIA%016X","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA%016X","arn":"arn:aws:iam::%012d:role/app-role-%d","accountId":"%012d","userName":"app-role-%d"},"attributes":{"creationDate":"2024-01-01T%02d:%02d:%02dZ","mfaAuthenticated":"false"}}},"eventTime":"2024-01-01T%02d:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%d.%d.%d.%d","userAgent":"[aws-sdk-go-v2/1.%d.0 os/linux lang/go#1.22 md/GOOS#linux]","requestParameters":{"bucketName":"data-bucket-%d","key":"path/%x/object-%d.json","Host":"data-bucket.s3.us-east-1.amazonaws.com"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"bytesTransferredOut":%d,"x-amz-id-2":"%016x%016x\/%016x\u003d"},"requestID":"%016X","eventID":"%08x-%04x-%04x-%04x-%012x","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-bucket/path/%x/object-%d.json"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"%012d","eventCategory":"Data"}`,
		r.Uint64(), r.IntN(100), r.IntN(1000)+123456789000, r.IntN(20), r.IntN(100), r.IntN(1000)+123456789000, r.Uint64(), r.Uint64(), r.IntN(1000)+123456789000, r.IntN(20), r.IntN(1000)+123456789000, r.IntN(20),
		i/3600%24, i/60%60, i%60, i/3600%24, i/60%60, i%60, names[r.IntN(len(names))], r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(40),
		r.IntN(10), r.Uint32(), i, r.IntN(1<<20), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff, r.Uint32(), i, r.IntN(3)+123456789000)
}

// Records calls f with CloudTrail-like events, the same sequence for the
// same seed, until they add up to at least size bytes, and returns how
// many there were. The slice passed to f is reused after f returns.
func Records(seed uint64, size int64, f func(rec []byte) error) (n int, err error) {
	r := rand.New(rand.NewPCG(seed, 2))
	var buf []byte
	for total := int64(0); total < size; n++ {
		buf = CloudTrailRecord(buf[:0], n, r)
		total += int64(len(buf)) + 1
		if err := f(buf); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Format is how WriteRecords lays out the events.
type Format int

const (
	// NDJSON is one event per line.
	NDJSON Format = iota
	// CloudTrailFile is one CloudTrail log file, {"Records":[...]}.
	CloudTrailFile
)

// WriteRecords writes the events of Records(seed, size) to w in format f,
// gzip-compressed (klauspost, default level) when gz is set, and returns the
// number of events and of uncompressed bytes written.
func WriteRecords(w io.Writer, seed uint64, size int64, f Format, gz bool) (records int, raw int64, err error) {
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(w)
		w = zw
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	if f == CloudTrailFile {
		io.WriteString(cw, `{"Records":[`)
	}
	records, err = Records(seed, size, func(rec []byte) error {
		if f == CloudTrailFile && cw.n > int64(len(`{"Records":[`)) {
			cw.Write([]byte{','})
		}
		cw.Write(rec)
		if f == NDJSON {
			cw.Write([]byte{'\n'})
		}
		return cw.err
	})
	if f == CloudTrailFile {
		io.WriteString(cw, "]}\n")
	}
	if err == nil {
		err = cw.err
	}
	if err == nil {
		err = bw.Flush()
	}
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	return records, cw.n, err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
