// Starts local-aws-sqs on 127.0.0.1 and prints "listening PORT" when ready.
// Usage: node sqs.mjs TOOLS_NODE_DIR PORT
import { createRequire } from "node:module";
import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import path from "node:path";

const [, , toolsDir, port] = process.argv;
const require = createRequire(path.join(toolsDir, "package.json"));
const { createRequestHandler } = require("local-aws-sqs");

const { requestHandler, service } = createRequestHandler({
  port: Number(port),
  hostname: "127.0.0.1",
  region: "us-east-1",
  accountId: "123456789012",
  emulateQueueCreationLifecycle: false,
});

// SQS answers a long poll as soon as at least one message is available, with
// up to MaxNumberOfMessages of them ("Amazon SQS sends a response after it
// collects at least one available message, up to the maximum number of
// messages specified in the request"). local-aws-sqs instead holds the
// messages it has taken (already invisible to other consumers) until it has
// MaxNumberOfMessages of them or the wait time ends, so a consumer asking for
// 10 would see a few messages stall for up to 20 s. Its queues' receive is
// made to follow SQS: short polls (which answer with what is visible) until
// one returns a message or the wait time is over, 20 ms apart. A long poll
// whose client went away (a consumer that exited) stops polling, so it does
// not take messages that nobody will receive: they would stay invisible for
// their visibility timeout.
const patched = new WeakSet();
const request = new AsyncLocalStorage();
function followSQSLongPolling() {
  for (const queue of service.Queues) {
    const proto = Object.getPrototypeOf(queue);
    if (patched.has(proto)) continue;
    patched.add(proto);
    const receive = proto.receive;
    proto.receive = async function (opts) {
      const wait = Number(opts.WaitTimeSeconds ?? this.ReceiveMessageWaitTimeSeconds ?? 0);
      const deadline = Date.now() + wait * 1000;
      const state = request.getStore();
      for (;;) {
        if (state?.gone) return [];
        const got = await receive.call(this, { ...opts, WaitTimeSeconds: 0 });
        if (got.length > 0 || Date.now() >= deadline) return got;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
  }
}

const server = http.createServer((req, res) => {
  followSQSLongPolling();
  const state = { gone: false };
  res.on("close", () => {
    if (!res.writableFinished) state.gone = true;
  });
  return request.run(state, () => requestHandler(req, res));
});
server.listen(Number(port), "127.0.0.1", () => {
  const addr = server.address();
  service.PORT = addr.port;
  process.stdout.write(`listening ${addr.port}\n`);
});
process.stdin.on("close", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
