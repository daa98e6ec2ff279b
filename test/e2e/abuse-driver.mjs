// The load half of test/e2e/abuse.test.ts, run as its own process: autocannon with a fixed
// request count over a mixed list of requests, checking every response body it gets back.
// Input (JSON on stdin): { url, amount, connections, requests: [{ method, path, headers, body, expect }], secrets: [] }
// Output (JSON on stdout): { statuses (by HTTP status), unexpected (5xx), leaks, errors, timeouts, total, sent, answered }
import autocannon from 'autocannon';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const config = JSON.parse(input);
const statuses = {};
const unexpected = [];
const leaks = [];
const FRAME = /\n\s+at\s|node:internal|\/dist\/src\/|\.ts:\d+|Error: /;

const requests = config.requests.map((r) => ({
  method: r.method,
  path: r.path,
  headers: r.headers,
  body: r.body,
  onResponse: (status, body) => {
    // By status only: autocannon's per-request callbacks are not reliably paired with the
    // request that caused the response, so the test checks each kind's answer on its own.
    statuses[status] = (statuses[status] ?? 0) + 1;
    const text = String(body ?? '');
    if (status >= 500 && unexpected.length < 20) unexpected.push({ status, body: text.slice(0, 300) });
    if (FRAME.test(text) && leaks.length < 20) leaks.push({ what: 'stack', body: text.slice(0, 300) });
    for (const s of config.secrets) {
      if (text.includes(s) && leaks.length < 20) leaks.push({ what: 'secret', body: text.slice(0, 120) });
    }
  },
}));

const result = await autocannon({
  url: config.url,
  amount: config.amount,
  connections: config.connections,
  timeout: 20,
  requests,
});
process.stdout.write(JSON.stringify({ statuses, unexpected, leaks, errors: result.errors, timeouts: result.timeouts, total: result.requests.total, sent: result.requests.sent, answered: Object.values(statuses).reduce((a, b) => a + b, 0), non2xx: result.non2xx }) + '\n');
