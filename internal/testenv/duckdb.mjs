// Runs one SQL statement in an in-memory DuckDB and prints the rows as JSON.
// Usage: node duckdb.mjs TOOLS_NODE_DIR SQL
// Integers are printed as JSON numbers (exact, also beyond 2^53), timestamps
// and other non-JSON values as strings.
import { createRequire } from "node:module";
import path from "node:path";

const [, , toolsDir, sql] = process.argv;
const require = createRequire(path.join(toolsDir, "package.json"));
const { DuckDBInstance } = require("@duckdb/node-api");

const instance = await DuckDBInstance.create(":memory:");
const conn = await instance.connect();
try {
  const reader = await conn.runAndReadAll(sql);
  const rows = reader.getRowObjectsJS();
  const marker = "\u0000bigint:";
  const text = JSON.stringify(rows, (key, value) => {
    if (typeof value === "bigint") return marker + value.toString();
    if (value instanceof Date) return value.toISOString();
    if (value !== null && typeof value === "object" && !Array.isArray(value) &&
        Object.getPrototypeOf(value) !== Object.prototype && typeof value.toString === "function") {
      return value.toString();
    }
    return value;
  });
  process.stdout.write(text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1"));
} catch (err) {
  process.stderr.write(String(err && err.message ? err.message : err) + "\n");
  process.exitCode = 1;
} finally {
  conn.closeSync?.();
}
