// The two named operations over the gateway, as a signed-in viewer (Bearer token from Sign-In with Ethereum).
import http from "k6/http";

/** Posts a named operation; returns { ok, response } where ok means HTTP 200, no errors and the root present. */
export function graphql(url, operations, operationName, variables, token, tags) {
  const response = http.post(
    url,
    JSON.stringify({ operationName, query: operations[operationName], variables }),
    {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      tags: Object.assign({ operation: operationName }, tags),
    },
  );
  let ok = response.status === 200;
  if (ok) {
    try {
      const body = response.json();
      const root = operationName === "PatientFetch" ? "patient" : "doctor";
      ok = !body.errors && body.data != null && body.data[root] != null;
    } catch (_) {
      ok = false;
    }
  }
  return { ok, response };
}
