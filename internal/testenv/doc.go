// Package testenv starts the real servers the tests talk to, on free
// 127.0.0.1 ports, once per test binary, and stops them when the tests end:
//
//   - MinIO for S3 and STS AssumeRole (with IAM session-policy enforcement);
//   - local-aws-sqs for SQS (JSON protocol, visibility timeout, DLQ redrive);
//   - DuckDB (through node and @duckdb/node-api) as an independent reader of
//     the Parquet files the sinks write.
//
// The tools are installed by scripts/install-tools into a cache directory
// outside the repository ($LAKERELAY_TOOLS, default
// $XDG_CACHE_HOME/lakerelay or ~/.cache/lakerelay); scripts/test runs it
// before the tests. A test that needs a tool that is missing fails with a
// message saying so; it never skips.
//
// A package whose tests use servers declares
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// so that the servers started by its test binary are stopped at exit.
package testenv
