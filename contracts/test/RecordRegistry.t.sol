// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "../src/interfaces/ICareChainTypes.sol";
import {IRecordRegistry} from "../src/interfaces/IRecordRegistry.sol";
import {RecordRegistry} from "../src/RecordRegistry.sol";
import {CareChainTest} from "./utils/CareChainTest.sol";

contract RecordRegistryTest is CareChainTest {
    uint16 internal constant LAB = CareChainTypes.RECORD_LAB_RESULT;
    bytes32 internal constant ID1 = keccak256("record 1");
    bytes32 internal constant ID2 = keccak256("record 2");
    bytes32 internal constant ID3 = keccak256("record 3");
    bytes32 internal constant CONTENT = keccak256("encrypted document");

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
        grant(patient, doctor, CareChainTypes.SCOPE_READ_RECORDS | CareChainTypes.SCOPE_WRITE_RECORDS, 0);
    }

    function add(address author, bytes32 id) internal {
        vm.prank(author);
        records.addRecord(patient, id, LAB, CONTENT, POINTER);
    }

    function authorization(bytes32 id, bytes32 previous, uint256 nonce, uint256 deadline)
        internal
        view
        returns (IRecordRegistry.RecordAuthorization memory)
    {
        return IRecordRegistry.RecordAuthorization({
            patient: patient,
            recordId: id,
            recordType: LAB,
            contentHash: CONTENT,
            storagePointer: POINTER,
            previousRecordId: previous,
            author: doctor,
            nonce: nonce,
            deadline: deadline
        });
    }

    /// The EIP-712 digest computed here independently of the contract.
    function digestOf(IRecordRegistry.RecordAuthorization memory a) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("CareChain RecordRegistry"),
                keccak256("1"),
                block.chainid,
                address(records)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "RecordAuthorization(address patient,bytes32 recordId,uint16 recordType,bytes32 contentHash,bytes storagePointer,bytes32 previousRecordId,address author,uint256 nonce,uint256 deadline)"
                ),
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
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function sign(uint256 key, IRecordRegistry.RecordAuthorization memory a) internal returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digestOf(a));
        return abi.encodePacked(r, s, v);
    }

    // ---- success paths

    function test_addRecord() public {
        vm.expectEmit(true, true, true, true, address(records));
        emit IRecordRegistry.RecordAdded(ID1, patient, doctor, LAB, CONTENT, POINTER, bytes32(0), ID1, 1, doctor);
        add(doctor, ID1);
        (address p, address author, uint16 recordType, bytes32 content, uint32 version, bytes32 prev, bytes32 by) =
            records.recordOf(ID1);
        assertEq(p, patient);
        assertEq(author, doctor);
        assertEq(recordType, LAB);
        assertEq(content, CONTENT);
        assertEq(version, 1);
        assertEq(prev, bytes32(0));
        assertEq(by, bytes32(0));
        assertEq(records.rootRecordOf(ID1), ID1);
        assertEq(records.recordCount(patient), 1);
        assertEq(records.recordIdAt(patient, 0), ID1);
    }

    function test_addRecord_patientSelfUpload() public {
        vm.expectEmit(true, true, true, true, address(records));
        emit IRecordRegistry.RecordAdded(
            ID1, patient, patient, CareChainTypes.RECORD_PATIENT_UPLOAD, CONTENT, POINTER, bytes32(0), ID1, 1, patient
        );
        vm.prank(patient);
        records.addRecord(patient, ID1, CareChainTypes.RECORD_PATIENT_UPLOAD, CONTENT, POINTER);
    }

    function test_amendRecord_chain() public {
        add(doctor, ID1);
        vm.expectEmit(true, true, true, true, address(records));
        emit IRecordRegistry.RecordAdded(ID2, patient, doctor, LAB, CONTENT, POINTER, ID1, ID1, 2, doctor);
        vm.prank(doctor);
        records.amendRecord(ID1, ID2, CONTENT, POINTER);
        vm.prank(patient); // the patient may amend too
        records.amendRecord(ID2, ID3, CONTENT, POINTER);
        (,,,, uint32 version, bytes32 prev,) = records.recordOf(ID3);
        assertEq(version, 3);
        assertEq(prev, ID2);
        assertEq(records.rootRecordOf(ID3), ID1);
        (,,,,,, bytes32 by1) = records.recordOf(ID1);
        (,,,,,, bytes32 by2) = records.recordOf(ID2);
        assertEq(by1, ID2);
        assertEq(by2, ID3);
        assertEq(records.recordCount(patient), 3);
    }

    function test_addRecordBySig() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp + 1 hours);
        assertEq(records.hashRecordAuthorization(a), digestOf(a));
        bytes memory signature = sign(doctorKey, a);
        vm.expectEmit(true, true, true, true, address(records));
        emit IRecordRegistry.RecordAdded(ID1, patient, doctor, LAB, CONTENT, POINTER, bytes32(0), ID1, 1, hospital);
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
        assertEq(records.nonces(doctor), 1);
    }

    function test_addRecordBySig_amendment() public {
        add(doctor, ID1);
        IRecordRegistry.RecordAuthorization memory a = authorization(ID2, ID1, 0, block.timestamp);
        bytes memory signature = sign(doctorKey, a);
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
        (,,,, uint32 version,,) = records.recordOf(ID2);
        assertEq(version, 2);
    }

    // ---- meta-transaction refusals

    function test_error_bySig_replay() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp + 1 hours);
        bytes memory signature = sign(doctorKey, a);
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.InvalidNonce.selector, doctor, 1));
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_wrongSigner() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp + 1 hours);
        (, uint256 otherKey) = accountOf("someone else");
        bytes memory signature = sign(otherKey, a);
        vm.expectRevert(IRecordRegistry.InvalidSignature.selector);
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_tamperedField() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp + 1 hours);
        bytes memory signature = sign(doctorKey, a);
        a.contentHash = keccak256("another document");
        vm.expectRevert(IRecordRegistry.InvalidSignature.selector);
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_expired() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp - 1);
        bytes memory signature = sign(doctorKey, a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.SignatureExpired.selector, block.timestamp - 1));
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_futureNonce() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 1, block.timestamp);
        bytes memory signature = sign(doctorKey, a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.InvalidNonce.selector, doctor, 0));
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_notARelayer() public {
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp);
        bytes memory signature = sign(doctorKey, a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotARelayer.selector, insurer));
        vm.prank(insurer);
        records.addRecordBySig(a, signature);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotARelayer.selector, doctor));
        vm.prank(doctor);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_authorWithoutGrant() public {
        vm.prank(patient);
        consent.revokeAccess(doctor);
        IRecordRegistry.RecordAuthorization memory a = authorization(ID1, bytes32(0), 0, block.timestamp);
        bytes memory signature = sign(doctorKey, a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWriteAccess.selector, patient, doctor));
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    function test_error_bySig_patientMismatch_typeMismatch() public {
        add(doctor, ID1);
        address other = registerPatient("other patient");
        IRecordRegistry.RecordAuthorization memory a = authorization(ID2, ID1, 0, block.timestamp);
        a.patient = other;
        bytes memory signature = sign(doctorKey, a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.PatientMismatch.selector, ID1, other));
        vm.prank(hospital);
        records.addRecordBySig(a, signature);

        a = authorization(ID2, ID1, 0, block.timestamp);
        a.recordType = CareChainTypes.RECORD_IMAGING;
        signature = sign(doctorKey, a);
        vm.expectRevert(
            abi.encodeWithSelector(RecordRegistry.RecordTypeMismatch.selector, ID1, CareChainTypes.RECORD_IMAGING)
        );
        vm.prank(hospital);
        records.addRecordBySig(a, signature);
    }

    // ---- rules

    function test_error_noWriteAccess() public {
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWriteAccess.selector, patient, unverifiedDoctor));
        add(unverifiedDoctor, ID1);
        grant(patient, unverifiedDoctor, CareChainTypes.SCOPE_READ_RECORDS, 0); // read only
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWriteAccess.selector, patient, unverifiedDoctor));
        add(unverifiedDoctor, ID1);
    }

    function test_error_noWriteAccess_afterRevokeSameBlock() public {
        add(doctor, ID1);
        vm.prank(patient);
        consent.revokeAccess(doctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWriteAccess.selector, patient, doctor));
        vm.prank(doctor);
        records.amendRecord(ID1, ID2, CONTENT, POINTER);
    }

    function test_error_noWriteAccess_emergencyIsReadOnly() public {
        vm.prank(hospital);
        identity.verifyDoctor(unverifiedDoctor);
        vm.prank(unverifiedDoctor);
        consent.openEmergencyAccess(patient, keccak256("reason"), 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NoWriteAccess.selector, patient, unverifiedDoctor));
        add(unverifiedDoctor, ID1);
    }

    function test_error_notAPatient() public {
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotAPatient.selector, doctor));
        vm.prank(doctor);
        records.addRecord(doctor, ID1, LAB, CONTENT, POINTER);
    }

    function test_error_zeroValues() public {
        vm.startPrank(doctor);
        vm.expectRevert(IRecordRegistry.ZeroRecordId.selector);
        records.addRecord(patient, bytes32(0), LAB, CONTENT, POINTER);
        vm.expectRevert(IRecordRegistry.ZeroHash.selector);
        records.addRecord(patient, ID1, LAB, bytes32(0), POINTER);
        vm.expectRevert(IRecordRegistry.EmptyPointer.selector);
        records.addRecord(patient, ID1, LAB, CONTENT, "");
        vm.stopPrank();
    }

    function testFuzz_pointerLength(uint16 length) public {
        length = uint16(bound(length, 1, 2048));
        bytes memory pointer = new bytes(length);
        if (length > records.MAX_POINTER_LENGTH()) {
            vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.PointerTooLong.selector, length));
        }
        vm.prank(doctor);
        records.addRecord(patient, ID1, LAB, CONTENT, pointer);
    }

    function testFuzz_recordType(uint16 recordType) public {
        if (recordType == 0 || recordType > CareChainTypes.MAX_RECORD_TYPE) {
            vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownRecordType.selector, recordType));
        }
        vm.prank(doctor);
        records.addRecord(patient, ID1, recordType, CONTENT, POINTER);
    }

    function test_error_recordExists() public {
        add(doctor, ID1);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordExists.selector, ID1));
        add(doctor, ID1);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordExists.selector, ID1));
        vm.prank(doctor);
        records.amendRecord(ID1, ID1, CONTENT, POINTER);
    }

    function test_error_unknownRecord() public {
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, ID1));
        vm.prank(doctor);
        records.amendRecord(ID1, ID2, CONTENT, POINTER);
    }

    function test_error_alreadySuperseded() public {
        add(doctor, ID1);
        vm.prank(doctor);
        records.amendRecord(ID1, ID2, CONTENT, POINTER);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.AlreadySuperseded.selector, ID1, ID2));
        vm.prank(doctor);
        records.amendRecord(ID1, ID3, CONTENT, POINTER);
    }
}
