// RecordRegistry -> Record (every version), ContractInfo (EIP-712 domain changes).
// Mirrors the projector's records table: an amendment is a new Record; the previous version gets
// supersededBy (and isLatest false); version is 1 for an original, previous.version + 1 for an amendment.
import { BigInt, log } from "@graphprotocol/graph-ts";
import { EIP712DomainChanged, RecordAdded } from "../generated/RecordRegistry/RecordRegistry";
import { ContractInfo, Record } from "../generated/schema";
import { isZero } from "./helpers";

export function handleRecordAdded(event: RecordAdded): void {
  const id = event.params.recordId;
  if (Record.load(id) !== null) {
    // The contract reverts RecordExists, so this cannot happen on a canonical chain.
    log.warning("RecordAdded for an existing record {}", [id.toHexString()]);
    return;
  }
  const record = new Record(id);
  record.patient = event.params.patient;
  record.author = event.params.author;
  record.submitter = event.params.submitter;
  record.recordType = event.params.recordType;
  record.contentHash = event.params.contentHash;
  record.storagePointer = event.params.storagePointer;
  // uint32: beyond GraphQL Int (i32), as the projector's bigint column.
  record.version = event.params.version;
  record.supersededBy = null;
  record.isLatest = true;
  record.blockNumber = event.block.number;
  record.blockTime = event.block.timestamp;
  record.logIndex = event.logIndex;
  record.transactionHash = event.transaction.hash;

  // The event names the root (the record itself for an original); like the projector, zero means itself.
  record.root = isZero(event.params.rootRecordId) ? id : event.params.rootRecordId;
  const previousId = event.params.previousRecordId;
  if (isZero(previousId)) {
    record.previous = null;
  } else {
    record.previous = previousId;
    const previous = Record.load(previousId);
    if (previous === null) {
      log.warning("Amendment {} of unknown record {}", [id.toHexString(), previousId.toHexString()]);
    } else {
      const expected = previous.version.plus(BigInt.fromI32(1));
      if (expected.notEqual(record.version)) {
        log.warning("Amendment {} has version {}, expected {}", [
          id.toHexString(),
          record.version.toString(),
          expected.toString(),
        ]);
      }
      previous.supersededBy = id;
      previous.isLatest = false;
      previous.save();
    }
  }
  record.save();
}

/** IERC5267 (OpenZeppelin EIP712): signals that the EIP-712 domain may have changed. */
export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  let info = ContractInfo.load(event.address);
  if (info === null) {
    info = new ContractInfo(event.address);
    info.name = "RecordRegistry";
  }
  info.eip712DomainChangedAt = event.block.timestamp;
  info.save();
}
