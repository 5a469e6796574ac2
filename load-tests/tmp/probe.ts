import { randomBytes } from "node:crypto";
import { signIn } from "@carechain/gateway/client";
import { operations } from "@carechain/gateway/operations";
import { privateKeyToAccount } from "viem/accounts";
import { Population, populationSize } from "../src/population.ts";
import { pipelineNames, startGateway } from "../src/services.ts";
import { say } from "../src/paths.ts";
const pop = new Population("carechain-load", populationSize(0.002));
const gw = await startGateway({ databaseUrl: process.env.DATABASE_URL!, kafkaBrokers: process.env.KAFKA_BROKERS!.split(","), chainId: 31337, names: pipelineNames(process.argv[2]!), logsDir: "/tmp/lt/probe", jwtSecret: randomBytes(32).toString("hex"), say });
try {
  const p = privateKeyToAccount(pop.patientKey(0));
  const d = privateKeyToAccount(pop.doctorKey(0));
  const tp = (await signIn({ url: gw.url, account: p })).token;
  const td = (await signIn({ url: gw.url, account: d })).token;
  const q = async (op: "PatientFetch" | "DoctorFetch", address: string, token: string) => {
    const t = performance.now();
    const r = await fetch(gw.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ operationName: op, query: operations[op], variables: { address } }) });
    const body = await r.text();
    return { ms: performance.now() - t, body };
  };
  for (let i = 0; i < 5; i++) { const r = await q("PatientFetch", p.address, tp); console.log("patient", r.ms.toFixed(1), r.body.slice(0, 150)); }
  for (let i = 0; i < 5; i++) { const r = await q("DoctorFetch", d.address, td); console.log("doctor", r.ms.toFixed(1), r.body.slice(0, 150)); }
  const r = await q("PatientFetch", pop.patient(pop.patientsOfDoctor(0)[0]!), td); console.log("doctor->patient", r.ms.toFixed(1), r.body.slice(0, 600));
} finally { await gw.stop(); }
