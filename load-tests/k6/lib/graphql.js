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
  let ok = response.status === 200;
  if (ok) {
    try {
      const body = response.json();
      const root = operationName === "PatientFetch" ? "patient" : "doctor";
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
