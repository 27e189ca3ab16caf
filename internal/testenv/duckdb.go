package testenv

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// DuckDB runs sql in an in-memory DuckDB (through node and @duckdb/node-api)
// and returns the rows. Values are JSON-decoded: integers as json.Number
// (exact), strings, bools, nil, nested maps and slices; timestamps as
// strings. It fails t on any error, including a SQL error.
func DuckDB(t testing.TB, sql string) []map[string]any {
	t.Helper()
	rows, err := QueryDuckDB(sql)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// QueryDuckDB is DuckDB returning the error instead of failing a test.
func QueryDuckDB(sql string) ([]map[string]any, error) {
	dir, err := nodeDir("@duckdb/node-api")
	if err != nil {
		return nil, err
	}
	path, err := script("duckdb.mjs")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", path, dir, sql)
	cmd.SysProcAttr = procAttr()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &DuckDBError{SQL: sql, Message: string(bytes.TrimSpace(stderr.Bytes())), Err: err}
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, &DuckDBError{SQL: sql, Message: "decode output", Err: err}
	}
	return rows, nil
}

// DuckDBError is a failed DuckDB query.
type DuckDBError struct {
	SQL     string
	Message string
	Err     error
}

func (e *DuckDBError) Error() string {
	return "testenv: duckdb: " + e.Message + " (query: " + e.SQL + "): " + e.Err.Error()
}

func (e *DuckDBError) Unwrap() error { return e.Err }
