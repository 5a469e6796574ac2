import { deployFixture } from "../ts/testing.ts";
import { scopes, recordTypes, randomBytes32, ContractRevertedError } from "../ts/index.ts";
const t0 = Date.now();
const fx = await deployFixture(process.env.RPC_URL!);
console.log("deploy", Date.now() - t0);
let t = Date.now();
const [patient, doctor, hospital, stranger] = await Promise.all([fx.createActor("patient"), fx.createActor("verifiedDoctor"), fx.createActor("hospital"), fx.createActor("unregistered")]);
console.log("actors", Date.now() - t);
t = Date.now();
const many = await fx.createActors("patient", 20);
console.log("20 patients", Date.now() - t, many.length);
t = Date.now();
const r = await patient.client.grantAccess({ grantee: doctor.address, scopes: scopes.READ_RECORDS | scopes.WRITE_RECORDS });
console.log("grant", Date.now() - t, r.events.map(e => e.eventName));
const rec = await doctor.client.addRecord({ patient: patient.address, recordType: recordTypes.labResult, contentHash: randomBytes32(), storagePointer: "0x1234" });
console.log(rec.events[0]);
const signed = await doctor.client.signRecordAuthorization({ patient: patient.address, recordType: recordTypes.labResult, contentHash: randomBytes32(), storagePointer: "0xabcd", previousRecordId: rec.recordId });
const r2 = await hospital.client.addRecordBySig(signed);
console.log(r2.events[0]?.args);
try { await hospital.client.addRecordBySig(signed); } catch (e) { console.log(e instanceof ContractRevertedError, (e as any).errorName, (e as any).args, (e as Error).message); }
try { await stranger.client.grantAccess({ grantee: doctor.address, scopes: 1 }); } catch (e) { console.log((e as Error).message); }
