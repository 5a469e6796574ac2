// The two reads done the old way: straight from the contracts over JSON-RPC, as a dapp without an indexer
// does it. Each round is one JSON-RPC batch; a round needs the answers of the one before.
import { address, toAddress, toNumber, topicOf, uint, words } from "./abi.js";
import { batch, ethCall, getBlock, getLogs } from "./rpc.js";

const MAX_RECORDS = 10;
const MAX_PATIENTS = 20;

/** Patient profile, latest 10 records (with pointers and times), grants, vitals range and latest vitals. */
export function legacyPatientFetch(chain, patient, tags) {
  const c = chain.contracts;
  const s = chain.selectors;
  const t = chain.topics;
  const from = chain.fromBlock;
  const p = address(patient);
  const rounds = [];

  // Round 1: the patient's own views, and the logs that hold what no view returns.
  const r1 = batch(
    chain.rpcUrl,
    [
      ethCall(c.identity, s.profileHashOf + p),
      ethCall(c.identity, s.encryptionKeyOf + p),
      ethCall(c.records, s.recordCount + p),
      ethCall(c.vitals, s.rangeOf + p),
      getLogs(c.identity, [t.PatientRegistered, topicOf(patient)], from),
      getLogs(c.consent, [[t.AccessGranted, t.AccessChanged, t.AccessRevoked], topicOf(patient)], from),
      getLogs(c.vitals, [t.VitalsReported, topicOf(patient)], from),
    ],
    tags,
  );
  rounds.push(r1.ok);
  if (!r1.ok) return { ok: false, rounds };
  const [, , countHex, , registered, consentLogs, readings] = r1.results;
  const count = toNumber(words(countHex)[0]);
  const grantees = unique(consentLogs.map((log) => toAddress(log.topics[2].slice(2))));
  const lastReading = readings[readings.length - 1];
  const latestVitals = lastReading ? words(lastReading.data).map(toNumber) : null;

  // Round 2: the latest record ids, each grantee's current grant and role, the registration time.
  const latest = [];
  for (let k = 1; k <= Math.min(MAX_RECORDS, count); k++) latest.push(count - k);
  const r2 = batch(
    chain.rpcUrl,
    [
      ...latest.map((index) => ethCall(c.records, s.recordIdAt + p + uint(index))),
      ...grantees.flatMap((grantee) => [
        ethCall(c.consent, s.grantOf + p + address(grantee)),
        ethCall(c.identity, s.roleOf + address(grantee)),
      ]),
      ...(registered[0] ? [getBlock(registered[0].blockNumber)] : []),
    ],
    tags,
  );
  rounds.push(r2.ok);
  if (!r2.ok) return { ok: false, rounds };
  const ids = r2.results.slice(0, latest.length);
  const grants = grantees
    .map((grantee, k) => {
      const g = words(r2.results[latest.length + 2 * k]);
      return { grantee, scopes: toNumber(g[0]), expiresAt: toNumber(g[1]), revoked: toNumber(g[2]) === 1 };
    })
    .filter((g) => g.scopes !== 0 && !g.revoked);

  // Round 3: the records themselves, and their RecordAdded logs (storage pointer, block).
  const r3 = batch(
    chain.rpcUrl,
    [
      ...ids.map((id) => ethCall(c.records, s.recordOf + id.slice(2))),
      ...(ids.length > 0 ? [getLogs(c.records, [t.RecordAdded, ids], from)] : []),
    ],
    tags,
  );
  rounds.push(r3.ok);
  if (!r3.ok) return { ok: false, rounds };
  const added = ids.length > 0 ? r3.results[ids.length] : [];

  // Round 4: when each record was added (block timestamps).
  const blocks = unique(added.map((log) => log.blockNumber));
  const r4 = batch(chain.rpcUrl, blocks.map(getBlock), tags);
  rounds.push(r4.ok);
  return {
    ok: r4.ok && ids.length === Math.min(MAX_RECORDS, count),
    rounds,
    records: ids.length,
    grants: grants.length,
    latestVitals,
  };
}

/** Doctor profile, verification, and the patients with an active grant, each with profile and latest vitals. */
export function legacyDoctorFetch(chain, doctor, tags) {
  const c = chain.contracts;
  const s = chain.selectors;
  const t = chain.topics;
  const from = chain.fromBlock;
  const d = address(doctor);
  const rounds = [];

  // Round 1: the doctor's views and logs; every patient who ever granted them access (log scan).
  const r1 = batch(
    chain.rpcUrl,
    [
      ethCall(c.identity, s.roleOf + d),
      ethCall(c.identity, s.isVerifiedDoctor + d),
      ethCall(c.identity, s.profileHashOf + d),
      getLogs(c.identity, [t.DoctorRegistered, topicOf(doctor)], from),
      getLogs(c.identity, [t.DoctorVerified, topicOf(doctor)], from),
      getLogs(c.consent, [t.AccessGranted, null, topicOf(doctor)], from),
    ],
    tags,
  );
  rounds.push(r1.ok);
  if (!r1.ok) return { ok: false, rounds };
  const [, , , registered, verified, granted] = r1.results;
  const candidates = unique(granted.map((log) => toAddress(log.topics[1].slice(2))));

  // Round 2: which of those grants are still active, and the registration / verification times.
  const r2 = batch(
    chain.rpcUrl,
    [
      ...candidates.map((patient) => ethCall(c.consent, s.grantOf + address(patient) + d)),
      ...[registered[0], verified[verified.length - 1]]
        .filter(Boolean)
        .map((log) => getBlock(log.blockNumber)),
    ],
    tags,
  );
  rounds.push(r2.ok);
  if (!r2.ok) return { ok: false, rounds };
  const now = Math.floor(Date.now() / 1000);
  const active = candidates.filter((_, k) => {
    const g = words(r2.results[k]);
    const expiresAt = toNumber(g[1]);
    return toNumber(g[0]) !== 0 && toNumber(g[2]) === 0 && (expiresAt === 0 || expiresAt > now);
  });
  const first = active.slice(0, MAX_PATIENTS);

  // Round 3: each listed patient's profile and readings (the latest is the last log).
  const r3 = batch(
    chain.rpcUrl,
    [
      ...first.map((patient) => ethCall(c.identity, s.profileHashOf + address(patient))),
      ...(first.length > 0 ? [getLogs(c.vitals, [t.VitalsReported, first.map(topicOf)], from)] : []),
    ],
    tags,
  );
  rounds.push(r3.ok);
  return { ok: r3.ok, rounds, patients: first.length };
}

function unique(values) {
  return [...new Set(values)];
}
