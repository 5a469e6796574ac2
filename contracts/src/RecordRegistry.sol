// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {CareChainTypes} from "./interfaces/ICareChainTypes.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";

/// @title RecordRegistry
/// @notice Append-only medical records. Each record is a content hash of the encrypted document plus an
/// encrypted storage pointer (the pointer travels in the event only). An amendment is a new record that
/// supersedes the latest version of its chain; nothing is ever overwritten or deleted.
contract RecordRegistry is IRecordRegistry, EIP712, Nonces {
    /// Longest encrypted storage pointer accepted, in bytes.
    uint256 public constant MAX_POINTER_LENGTH = 512;

    bytes32 public constant RECORD_AUTHORIZATION_TYPEHASH = keccak256(
        "RecordAuthorization(address patient,bytes32 recordId,uint16 recordType,bytes32 contentHash,"
        "bytes storagePointer,bytes32 previousRecordId,address author,uint256 nonce,uint256 deadline)"
    );

    /// An amendment signed for a record type other than the one of the record it supersedes.
    error RecordTypeMismatch(bytes32 recordId, uint16 recordType);

    struct Record {
        address patient;
        uint16 recordType;
        uint32 version;
        address author;
        bytes32 contentHash;
        bytes32 previousRecordId;
        bytes32 rootRecordId; // zero for an original (its own root): saves a storage slot
        bytes32 supersededBy;
    }

    /// Everything _store needs, grouped to keep the stack small.
    struct NewRecord {
        address patient;
        bytes32 recordId;
        uint16 recordType;
        bytes32 contentHash;
        bytes32 previousRecordId;
        bytes32 rootRecordId;
        uint32 version;
        address author;
    }

    IIdentityRegistry public immutable identity;
    IConsentManager public immutable consent;

    mapping(bytes32 recordId => Record) private _records;
    mapping(address patient => bytes32[]) private _recordIds;

    constructor(IIdentityRegistry identity_, IConsentManager consent_) EIP712("CareChain RecordRegistry", "1") {
        identity = identity_;
        consent = consent_;
    }

    /// @inheritdoc IRecordRegistry
    function addRecord(
        address patient,
        bytes32 recordId,
        uint16 recordType,
        bytes32 contentHash,
        bytes calldata storagePointer
    ) external {
        _store(_original(patient, recordId, recordType, contentHash, msg.sender), storagePointer);
    }

    /// @inheritdoc IRecordRegistry
    function amendRecord(bytes32 previousRecordId, bytes32 recordId, bytes32 contentHash, bytes calldata storagePointer)
        external
    {
        _store(_amendment(previousRecordId, recordId, contentHash, msg.sender), storagePointer);
    }

    /// @inheritdoc IRecordRegistry
    function addRecordBySig(RecordAuthorization calldata authorization, bytes calldata signature) external {
        if (
            identity.roleOf(msg.sender) != CareChainTypes.ROLE_ORGANIZATION
                || identity.organizationKindOf(msg.sender) != CareChainTypes.ORG_HOSPITAL
        ) revert NotARelayer(msg.sender);
        if (block.timestamp > authorization.deadline) revert SignatureExpired(authorization.deadline);
        address author = authorization.author;
        uint256 expected = _useNonce(author);
        if (authorization.nonce != expected) revert InvalidNonce(author, expected);
        if (!SignatureChecker.isValidSignatureNow(author, hashRecordAuthorization(authorization), signature)) {
            revert InvalidSignature();
        }

        NewRecord memory r;
        if (authorization.previousRecordId == bytes32(0)) {
            r = _original(
                authorization.patient,
                authorization.recordId,
                authorization.recordType,
                authorization.contentHash,
                author
            );
        } else {
            r = _amendment(authorization.previousRecordId, authorization.recordId, authorization.contentHash, author);
            if (r.patient != authorization.patient) {
                revert PatientMismatch(authorization.previousRecordId, authorization.patient);
            }
            if (r.recordType != authorization.recordType) {
                revert RecordTypeMismatch(authorization.previousRecordId, authorization.recordType);
            }
        }
        _store(r, authorization.storagePointer);
    }

    /// @notice The EIP-712 digest an author signs for `addRecordBySig`.
    function hashRecordAuthorization(RecordAuthorization calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECORD_AUTHORIZATION_TYPEHASH,
                    a.patient,
                    a.recordId,
                    a.recordType,
                    a.contentHash,
                    keccak256(a.storagePointer),
                    a.previousRecordId,
                    a.author,
                    a.nonce,
                    a.deadline
                )
            )
        );
    }

    /// @notice The EIP-712 domain separator (name "CareChain RecordRegistry", version "1").
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IRecordRegistry
    function nonces(address author) public view override(IRecordRegistry, Nonces) returns (uint256) {
        return super.nonces(author);
    }

    function recordOf(bytes32 recordId)
        external
        view
        returns (
            address patient,
            address author,
            uint16 recordType,
            bytes32 contentHash,
            uint32 version,
            bytes32 previousRecordId,
            bytes32 supersededBy
        )
    {
        Record storage r = _records[recordId];
        return (r.patient, r.author, r.recordType, r.contentHash, r.version, r.previousRecordId, r.supersededBy);
    }

    /// @notice The first version of the chain `recordId` belongs to (zero for an unknown record).
    function rootRecordOf(bytes32 recordId) external view returns (bytes32) {
        Record storage r = _records[recordId];
        if (r.version == 0) return bytes32(0);
        return r.version == 1 ? recordId : r.rootRecordId;
    }

    function recordCount(address patient) external view returns (uint256) {
        return _recordIds[patient].length;
    }

    function recordIdAt(address patient, uint256 index) external view returns (bytes32) {
        return _recordIds[patient][index];
    }

    function _original(address patient, bytes32 recordId, uint16 recordType, bytes32 contentHash, address author)
        private
        view
        returns (NewRecord memory)
    {
        if (identity.roleOf(patient) != CareChainTypes.ROLE_PATIENT) revert NotAPatient(patient);
        if (recordType == 0 || recordType > CareChainTypes.MAX_RECORD_TYPE) revert UnknownRecordType(recordType);
        return NewRecord({
            patient: patient,
            recordId: recordId,
            recordType: recordType,
            contentHash: contentHash,
            previousRecordId: bytes32(0),
            rootRecordId: recordId,
            version: 1,
            author: author
        });
    }

    function _amendment(bytes32 previousRecordId, bytes32 recordId, bytes32 contentHash, address author)
        private
        view
        returns (NewRecord memory)
    {
        Record storage previous = _records[previousRecordId];
        if (previous.version == 0) revert UnknownRecord(previousRecordId);
        if (previous.supersededBy != bytes32(0)) revert AlreadySuperseded(previousRecordId, previous.supersededBy);
        return NewRecord({
            patient: previous.patient,
            recordId: recordId,
            recordType: previous.recordType,
            contentHash: contentHash,
            previousRecordId: previousRecordId,
            rootRecordId: previous.version == 1 ? previousRecordId : previous.rootRecordId,
            version: previous.version + 1,
            author: author
        });
    }

    /// Checks shared by every path, then the write and the event.
    function _store(NewRecord memory r, bytes calldata storagePointer) private {
        if (r.recordId == bytes32(0)) revert ZeroRecordId();
        if (r.contentHash == bytes32(0)) revert ZeroHash();
        if (storagePointer.length == 0) revert EmptyPointer();
        if (storagePointer.length > MAX_POINTER_LENGTH) revert PointerTooLong(storagePointer.length);
        if (_records[r.recordId].version != 0) revert RecordExists(r.recordId);
        if (!consent.hasAccess(r.patient, r.author, CareChainTypes.SCOPE_WRITE_RECORDS)) {
            revert NoWriteAccess(r.patient, r.author);
        }

        _records[r.recordId] = Record({
            patient: r.patient,
            recordType: r.recordType,
            version: r.version,
            author: r.author,
            contentHash: r.contentHash,
            previousRecordId: r.previousRecordId,
            rootRecordId: r.version == 1 ? bytes32(0) : r.rootRecordId,
            supersededBy: bytes32(0)
        });
        if (r.previousRecordId != bytes32(0)) _records[r.previousRecordId].supersededBy = r.recordId;
        _recordIds[r.patient].push(r.recordId);

        emit RecordAdded(
            r.recordId,
            r.patient,
            r.author,
            r.recordType,
            r.contentHash,
            storagePointer,
            r.previousRecordId,
            r.rootRecordId,
            r.version,
            msg.sender
        );
    }
}
