// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "../src/interfaces/ICareChainTypes.sol";
import {IRecordRegistry} from "../src/interfaces/IRecordRegistry.sol";
import {IVitalsMonitor} from "../src/interfaces/IVitalsMonitor.sol";
import {CareChainTest} from "./utils/CareChainTest.sol";

/// One typical successful call of every external function, for `npm run gas` (forge --gas-report).
/// No assertions beyond "does not revert": the figures are the point.
contract GasBenchmarkTest is CareChainTest {
    bytes32 internal constant ID1 = keccak256("record 1");
    bytes32 internal constant CONTENT = keccak256("encrypted document");
    address internal device = address(0xDE1CE);

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
    }

    function _grantWrite() internal {
        grant(patient, doctor, CareChainTypes.SCOPE_READ_RECORDS | CareChainTypes.SCOPE_WRITE_RECORDS, 0);
    }

    function _device() internal {
        vm.prank(patient);
        vitals.authorizeDevice(device);
        vm.prank(patient);
        vitals.setVitalsRange(patient, 90, 140, 60, 90);
        address[] memory recipients = new address[](2);
        recipients[0] = doctor;
        recipients[1] = hospital;
        vm.prank(patient);
        vitals.setAlertRecipients(recipients);
    }

    function test_identity() public {
        vm.prank(address(0xA1));
        identity.registerPatient(PROFILE, KEY);
        vm.prank(address(0xA2));
        identity.registerDoctor(PROFILE, KEY, LICENSE);
        vm.prank(address(0xA3));
        identity.registerOrganization(CareChainTypes.ORG_HOSPITAL, PROFILE, KEY);
        vm.prank(patient);
        identity.updateProfile(keccak256("p2"), keccak256("k2"));
        identity.setRegistrar(address(0xA3), true);
        vm.prank(hospital);
        identity.verifyDoctor(address(0xA2));
        vm.prank(hospital);
        identity.revokeDoctorVerification(address(0xA2));
        identity.roleOf(patient);
        identity.organizationKindOf(hospital);
        identity.isVerifiedDoctor(doctor);
        identity.isRegistrar(hospital);
        identity.encryptionKeyOf(patient);
        identity.profileHashOf(patient);
        identity.licenseHashOf(doctor);
        identity.owner();
        identity.transferOwnership(address(0xAD));
        vm.prank(address(0xAD));
        identity.renounceOwnership();
    }

    function test_consent() public {
        grant(patient, doctor, CareChainTypes.SCOPE_READ_RECORDS, uint64(block.timestamp + 30 days));
        vm.prank(patient);
        consent.changeAccess(doctor, CareChainTypes.ALL_SCOPES, 0);
        consent.hasAccess(patient, doctor, CareChainTypes.SCOPE_WRITE_RECORDS);
        consent.grantOf(patient, doctor);
        consent.isGrantActive(patient, doctor);
        vm.prank(patient);
        consent.revokeAccess(doctor);
        vm.prank(doctor);
        consent.openEmergencyAccess(patient, keccak256("reason"), 4 hours);
        consent.emergencyAccessUntil(patient, doctor);
        consent.MAX_EMERGENCY_DURATION();
        consent.EMERGENCY_SCOPES();
        consent.identity();
        vm.prank(patient);
        consent.closeEmergencyAccess(doctor);
    }

    function test_records() public {
        _grantWrite();
        vm.prank(doctor);
        records.addRecord(patient, ID1, CareChainTypes.RECORD_LAB_RESULT, CONTENT, POINTER);
        vm.prank(doctor);
        records.amendRecord(ID1, keccak256("record 2"), CONTENT, POINTER);
        IRecordRegistry.RecordAuthorization memory a = IRecordRegistry.RecordAuthorization({
            patient: patient,
            recordId: keccak256("record 3"),
            recordType: CareChainTypes.RECORD_PRESCRIPTION,
            contentHash: CONTENT,
            storagePointer: POINTER,
            previousRecordId: bytes32(0),
            author: doctor,
            nonce: records.nonces(doctor),
            deadline: block.timestamp + 1 hours
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(doctorKey, records.hashRecordAuthorization(a));
        vm.prank(hospital);
        records.addRecordBySig(a, abi.encodePacked(r, s, v));
        records.recordOf(ID1);
        records.rootRecordOf(ID1);
        records.recordCount(patient);
        records.recordIdAt(patient, 0);
        records.domainSeparator();
        records.eip712Domain();
        records.MAX_POINTER_LENGTH();
        records.RECORD_AUTHORIZATION_TYPEHASH();
        records.identity();
        records.consent();
    }

    function test_vitals() public {
        _device();
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), 120, 80); // in range
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), 170, 100); // alert to 2 recipients
        vitals.patientOfDevice(device);
        vitals.rangeOf(patient);
        vitals.alertRecipientsOf(patient);
        vitals.isOutOfRange(patient, 120, 80);
        vitals.MAX_PRESSURE();
        vitals.MAX_RECIPIENTS();
        vitals.MAX_BATCH();
        vitals.MAX_CLOCK_SKEW();
        vitals.identity();
        vitals.consent();
        vm.prank(patient);
        vitals.revokeDevice(device);
    }

    function test_vitals_batch10() public {
        _device();
        IVitalsMonitor.Reading[] memory batch = new IVitalsMonitor.Reading[](10);
        for (uint256 i; i < batch.length; ++i) {
            batch[i] = IVitalsMonitor.Reading(uint64(block.timestamp - 600 + 60 * i), 120, 80);
        }
        vm.prank(device);
        vitals.submitReadings(batch);
    }

    function test_vitals_batch100() public {
        _device();
        IVitalsMonitor.Reading[] memory batch = new IVitalsMonitor.Reading[](100);
        for (uint256 i; i < batch.length; ++i) {
            batch[i] = IVitalsMonitor.Reading(uint64(block.timestamp - 6000 + 60 * i), 120, 80);
        }
        vm.prank(device);
        vitals.submitReadings(batch);
    }
}
