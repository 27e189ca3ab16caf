// Starts local-aws-sqs on 127.0.0.1 and prints "listening PORT" when ready.
// Usage: node sqs.mjs TOOLS_NODE_DIR PORT
import { createRequire } from "node:module";
import path from "node:path";

const [, , toolsDir, port] = process.argv;
const require = createRequire(path.join(toolsDir, "package.json"));
const { createSqsServer } = require("local-aws-sqs");

const server = await createSqsServer({
  port: Number(port),
  hostname: "127.0.0.1",
  region: "us-east-1",
  accountId: "123456789012",
  emulateQueueCreationLifecycle: false,
});
const addr = server.address();
process.stdout.write(`listening ${addr && typeof addr === "object" ? addr.port : port}\n`);
process.stdin.on("close", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
