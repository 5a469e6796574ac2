// JSON-RPC over k6's HTTP client: one HTTP request per round of calls (a JSON-RPC batch), as a dapp's
// client batches them.
import http from "k6/http";

let nextId = 1;

export function ethCall(to, data) {
  return { method: "eth_call", params: [{ to, data }, "latest"] };
}
export function getLogs(address, topics, fromBlock) {
  return { method: "eth_getLogs", params: [{ address, topics, fromBlock, toBlock: "latest" }] };
}
export function getBlock(number) {
  return { method: "eth_getBlockByNumber", params: [number, false] };
}

/**
 * Sends the calls as one batch; returns { ok, results } where results[i] is the i-th call's result
 * (undefined when that call failed).
 */
export function batch(url, calls, tags) {
  if (calls.length === 0) return { ok: true, results: [] };
  const first = nextId;
  nextId += calls.length;
  const body = JSON.stringify(
    calls.map((call, i) => ({ jsonrpc: "2.0", id: first + i, method: call.method, params: call.params })),
  );
  const response = http.post(url, body, { headers: { "content-type": "application/json" }, tags });
  if (response.status !== 200) return { ok: false, results: [] };
  let answers;
  try {
    answers = response.json();
  } catch (_) {
    return { ok: false, results: [] };
  }
  if (!Array.isArray(answers)) return { ok: false, results: [] };
  const byId = {};
  for (const answer of answers) byId[answer.id] = answer;
  let ok = true;
  const results = calls.map((_, i) => {
    const answer = byId[first + i];
    if (!answer || answer.error) {
      ok = false;
      return undefined;
    }
    return answer.result;
  });
  return { ok, results };
}
