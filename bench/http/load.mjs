// The load generator of the HTTP benchmark, in a process of its own (pinned to its own core by run.mjs):
//   node bench/http/load.mjs <url> <seconds> <connections> <accept|->
// Prints autocannon's result as JSON on stdout.
import autocannon from 'autocannon';

const [url, seconds, connections, accept] = process.argv.slice(2);
const headers = { 'content-type': 'application/json' };
if (accept !== '-') headers.accept = accept;
const opts = { url, method: 'POST', connections: Number(connections), headers, body: '{"a":1,"b":"text"}' };
await autocannon({ ...opts, duration: 2 }); // warm-up
const r = await autocannon({ ...opts, duration: Number(seconds) });
console.log(
  JSON.stringify({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors }),
);
