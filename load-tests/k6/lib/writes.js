// Writes flowing through the chain during the mixed workload: eth_sendTransaction to anvil from accounts it
// impersonates (the runner funds and impersonates them): doctors add records, wearables submit readings.
import { address, randomHex, uint } from "./abi.js";
import { batch } from "./rpc.js";

const RECORD_GAS = "0x7a120"; // 500k
const READINGS_GAS = "0xf4240"; // 1M
const READINGS_PER_TX = 10;

/** addRecord(patient, recordId, recordType, contentHash, storagePointer) from a doctor with a write grant. */
export function writeRecord(chain, writer, tags) {
  const pointer = randomHex(64);
  const data =
    chain.selectors.addRecord +
    address(writer.patient) +
    randomHex(32) +
    uint(1 + Math.floor(Math.random() * 7)) +
    randomHex(32) +
    uint(0xa0) +
    uint(64) +
    pointer;
  return send(chain, { from: writer.doctor, to: chain.contracts.records, data, gas: RECORD_GAS }, tags);
}

/** submitReadings((uint64,uint16,uint16)[]) from a patient's authorized wearable. */
export function writeReadings(chain, device, tags) {
  const now = Math.floor(Date.now() / 1000);
  let data = chain.selectors.submitReadings + uint(0x20) + uint(READINGS_PER_TX);
  for (let k = 0; k < READINGS_PER_TX; k++) {
    const systolic = 100 + Math.floor(Math.random() * 50);
    data +=
      uint(now - (READINGS_PER_TX - k) * 30) + uint(systolic) + uint(60 + Math.floor(Math.random() * 35));
  }
  return send(chain, { from: device.device, to: chain.contracts.vitals, data, gas: READINGS_GAS }, tags);
}

function send(chain, tx, tags) {
  const answer = batch(chain.rpcUrl, [{ method: "eth_sendTransaction", params: [tx] }], tags);
  return { ok: answer.ok && typeof answer.results[0] === "string" };
}
