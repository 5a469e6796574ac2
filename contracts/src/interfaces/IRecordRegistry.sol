// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Append-only medical records: a content hash of the encrypted document and an encrypted storage
/// pointer. An amendment is a new record (new id) that supersedes the latest version of an existing one.
interface IRecordRegistry {
    /// version is 1 for an original; previousRecordId and rootRecordId are zero / the record itself then.
    /// author is the doctor (or the patient, for uploads) whose key signed the record; submitter is who sent
    /// the transaction (the author, or a hospital relaying the author's EIP-712 signature).
    event RecordAdded(
        bytes32 indexed recordId,
        address indexed patient,
        address indexed author,
        uint16 recordType,
        bytes32 contentHash,
        bytes storagePointer,
        bytes32 previousRecordId,
        bytes32 rootRecordId,
        uint32 version,
        address submitter
    );

    /// EIP-712 typed data a doctor signs so that a hospital can submit the record for them:
    /// RecordAuthorization(address patient,bytes32 recordId,uint16 recordType,bytes32 contentHash,
    ///   bytes storagePointer,bytes32 previousRecordId,address author,uint256 nonce,uint256 deadline)
    /// Domain: name "CareChain RecordRegistry", version "1", chainId, verifyingContract.
    struct RecordAuthorization {
        address patient;
        bytes32 recordId;
        uint16 recordType;
        bytes32 contentHash;
        bytes storagePointer;
        bytes32 previousRecordId; // zero for an original
        address author;
        uint256 nonce;
        uint256 deadline;
    }

    error NotAPatient(address account);
    error NoWriteAccess(address patient, address author);
    error ZeroHash();
    error ZeroRecordId();
    error EmptyPointer();
    error PointerTooLong(uint256 length);
    error UnknownRecordType(uint16 recordType);
    error RecordExists(bytes32 recordId);
    error UnknownRecord(bytes32 recordId);
    error AlreadySuperseded(bytes32 recordId, bytes32 supersededBy);
    error PatientMismatch(bytes32 recordId, address patient);
    error SignatureExpired(uint256 deadline);
    error InvalidNonce(address author, uint256 expected);
    error InvalidSignature();
    error NotARelayer(address account);

    /// The author (msg.sender) needs an active write grant, or is the patient (self upload).
    function addRecord(address patient, bytes32 recordId, uint16 recordType, bytes32 contentHash, bytes calldata storagePointer)
        external;
    /// Supersedes the latest version `previousRecordId`; same patient and record type, same access rule.
    function amendRecord(bytes32 previousRecordId, bytes32 recordId, bytes32 contentHash, bytes calldata storagePointer)
        external;
    /// Meta-transaction: msg.sender must be a registered hospital; the author's signature, nonce and deadline
    /// are checked, then the same rules as addRecord / amendRecord apply to the author.
    function addRecordBySig(RecordAuthorization calldata authorization, bytes calldata signature) external;

    function nonces(address author) external view returns (uint256);
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
        );
    function recordCount(address patient) external view returns (uint256);
    function recordIdAt(address patient, uint256 index) external view returns (bytes32);
}
