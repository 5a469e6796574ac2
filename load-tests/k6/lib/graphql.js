// The two named operations over the gateway, as a signed-in viewer (Bearer token from Sign-In with Ethereum).
import http from "k6/http";

/**
 * Posts a named operation; ok means HTTP 200, the root object present, and no errors other than FORBIDDEN
 * on the fields listed in `forbidden` (a doctor may read a patient's records but not who else has access:
 * the gateway answers those fields null with a FORBIDDEN error, as designed).
 */
export function graphql(url, operations, operationName, variables, token, tags, forbidden) {
  const response = http.post(
    url,
    JSON.stringify({ operationName, query: operations[operationName], variables }),
    {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      tags: Object.assign({ operation: operationName }, tags),
    },
  );
  const root = operationName === "PatientFetch" ? "patient" : "doctor";
  let ok = response.status === 200;
  // The common answer, checked on its text: a well-formed answer whose root object comes first and that has
  // no "errors" key anywhere passes the full check below too. Building a 20-patient answer as objects to
  // look at two keys was about a quarter of k6's CPU per request, on the machine it shares with the gateway
  // (docs/performance.md); anything else still goes through the full check.
  if (ok && isPlainAnswer(response.body, root)) return { ok, response };
  if (ok) {
    try {
      const body = response.json();
      const allowed = (error) =>
        forbidden &&
        error.extensions &&
        error.extensions.code === "FORBIDDEN" &&
        Array.isArray(error.path) &&
        forbidden.includes(error.path[1]);
      ok = body.data != null && body.data[root] != null && (body.errors || []).every(allowed);
    } catch (_) {
      ok = false;
    }
  }
  return { ok, response };
}

/** An answer that starts with a non-null root object, ends whole, and has no errors: nothing to parse. */
function isPlainAnswer(text, root) {
  return (
    typeof text === "string" &&
    text.startsWith(`{"data":{"${root}":{`) &&
    /\}\}\}\s*$/.test(text) &&
    text.indexOf('"errors"') === -1
  );
}
