// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "../src/interfaces/ICareChainTypes.sol";
import {IVitalsMonitor} from "../src/interfaces/IVitalsMonitor.sol";
import {CareChainTest, VmExtra} from "./utils/CareChainTest.sol";

contract VitalsMonitorTest is CareChainTest {
    address internal device = address(0xDE1CE);
    address[] internal recipients;

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
        vm.prank(patient);
        vitals.authorizeDevice(device);
        recipients.push(doctor);
        recipients.push(hospital);
    }

    function setRange() internal {
        vm.prank(patient);
        vitals.setVitalsRange(patient, 90, 140, 60, 90);
    }

    function setRecipients() internal {
        vm.prank(patient);
        vitals.setAlertRecipients(recipients);
    }

    // ---- success paths

    function test_authorizeDevice() public {
        address other = address(0xD2);
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.DeviceAuthorized(patient, other);
        vm.prank(patient);
        vitals.authorizeDevice(other);
        assertEq(vitals.patientOfDevice(other), patient);
    }

    function test_revokeDevice() public {
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.DeviceRevoked(patient, device);
        vm.prank(patient);
        vitals.revokeDevice(device);
        assertEq(vitals.patientOfDevice(device), address(0));
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.UnknownDevice.selector, device));
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), 120, 80);
    }

    function test_setVitalsRange_byPatient() public {
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.VitalsRangeSet(patient, patient, 90, 140, 60, 90);
        setRange();
        (uint16 a, uint16 b, uint16 c, uint16 d) = vitals.rangeOf(patient);
        assertEq(a, 90);
        assertEq(b, 140);
        assertEq(c, 60);
        assertEq(d, 90);
    }

    function test_setVitalsRange_byDoctorWithWriteGrant() public {
        grant(patient, unverifiedDoctor, CareChainTypes.SCOPE_WRITE_RECORDS, 0);
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.VitalsRangeSet(patient, unverifiedDoctor, 100, 130, 65, 85);
        vm.prank(unverifiedDoctor);
        vitals.setVitalsRange(patient, 100, 130, 65, 85);
    }

    function test_setAlertRecipients() public {
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.AlertRecipientsSet(patient, recipients);
        setRecipients();
        address[] memory stored = vitals.alertRecipientsOf(patient);
        assertEq(stored.length, 2);
        assertEq(stored[1], hospital);
    }

    function test_submitReading_inRange_noAlert() public {
        setRange();
        vmx.recordLogs();
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), 140, 90); // bounds are in range
        VmExtra.Log[] memory logs = vmx.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IVitalsMonitor.VitalsReported.selector);
    }

    function test_submitReading_outOfRange_alert() public {
        setRange();
        setRecipients();
        uint64 at = uint64(block.timestamp - 60);
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.VitalsReported(patient, device, at, 180, 95);
        vm.expectEmit(true, true, true, true, address(vitals));
        emit IVitalsMonitor.VitalsAlert(patient, device, at, 180, 95, recipients);
        vm.prank(device);
        vitals.submitReading(at, 180, 95);
    }

    function test_submitReading_noRange_noAlert() public {
        vmx.recordLogs();
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), 250, 150);
        assertEq(vmx.getRecordedLogs().length, 1);
    }

    function test_submitReadings_batch() public {
        setRange();
        IVitalsMonitor.Reading[] memory batch = new IVitalsMonitor.Reading[](3);
        batch[0] = IVitalsMonitor.Reading(uint64(block.timestamp - 120), 120, 80);
        batch[1] = IVitalsMonitor.Reading(uint64(block.timestamp - 60), 85, 55); // low: alert
        batch[2] = IVitalsMonitor.Reading(uint64(block.timestamp), 130, 85);
        vmx.recordLogs();
        vm.prank(device);
        vitals.submitReadings(batch);
        VmExtra.Log[] memory logs = vmx.getRecordedLogs();
        assertEq(logs.length, 4);
        assertEq(logs[2].topics[0], IVitalsMonitor.VitalsAlert.selector);
    }

    // ---- fuzz: the alert fires exactly when a reading is out of a set range

    function testFuzz_alertExactlyWhenOutOfRange(
        uint16 sMin,
        uint16 sMax,
        uint16 dMin,
        uint16 dMax,
        uint16 systolic,
        uint16 diastolic
    ) public {
        sMin = uint16(bound(sMin, 1, 299));
        sMax = uint16(bound(sMax, sMin + 1, 300));
        dMin = uint16(bound(dMin, 1, 299));
        dMax = uint16(bound(dMax, dMin + 1, 300));
        systolic = uint16(bound(systolic, 2, 300));
        diastolic = uint16(bound(diastolic, 1, systolic - 1));
        vm.prank(patient);
        vitals.setVitalsRange(patient, sMin, sMax, dMin, dMax);
        vmx.recordLogs();
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), systolic, diastolic);
        bool outOfRange = systolic < sMin || systolic > sMax || diastolic < dMin || diastolic > dMax;
        VmExtra.Log[] memory logs = vmx.getRecordedLogs();
        assertEq(logs.length, outOfRange ? 2 : 1);
        assertTrue(vitals.isOutOfRange(patient, systolic, diastolic) == outOfRange);
    }

    function testFuzz_range(uint16 sMin, uint16 sMax, uint16 dMin, uint16 dMax) public {
        bool valid = sMin > 0 && sMin < sMax && sMax <= 300 && dMin > 0 && dMin < dMax && dMax <= 300;
        if (!valid) vm.expectRevert(IVitalsMonitor.BadRange.selector);
        vm.prank(patient);
        vitals.setVitalsRange(patient, sMin, sMax, dMin, dMax);
    }

    function testFuzz_reading(uint16 systolic, uint16 diastolic) public {
        bool valid = diastolic > 0 && diastolic < systolic && systolic <= 300;
        if (!valid) vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.InvalidReading.selector, systolic, diastolic));
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), systolic, diastolic);
    }

    // ---- errors

    function test_error_notAPatient() public {
        vm.startPrank(doctor);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NotAPatient.selector, doctor));
        vitals.authorizeDevice(address(0xD3));
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NotAPatient.selector, doctor));
        vitals.revokeDevice(device);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NotAPatient.selector, doctor));
        vitals.setAlertRecipients(recipients);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NotAPatient.selector, doctor));
        vitals.setVitalsRange(doctor, 90, 140, 60, 90);
        vm.stopPrank();
    }

    function test_error_deviceAlreadyAuthorized() public {
        address other = registerPatient("other patient");
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.DeviceAlreadyAuthorized.selector, device));
        vm.prank(other);
        vitals.authorizeDevice(device);
    }

    function test_error_unknownDevice() public {
        address other = registerPatient("other patient");
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.UnknownDevice.selector, device));
        vm.prank(other);
        vitals.revokeDevice(device); // another patient's device
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.UnknownDevice.selector, address(0)));
        vm.prank(patient);
        vitals.authorizeDevice(address(0));
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.UnknownDevice.selector, stranger));
        vm.prank(stranger);
        vitals.submitReading(uint64(block.timestamp), 120, 80);
    }

    function test_error_noWriteAccess() public {
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NoWriteAccess.selector, patient, doctor));
        vm.prank(doctor);
        vitals.setVitalsRange(patient, 90, 140, 60, 90);
        grant(patient, doctor, CareChainTypes.SCOPE_READ_RECORDS | CareChainTypes.SCOPE_READ_VITALS, 0);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NoWriteAccess.selector, patient, doctor));
        vm.prank(doctor);
        vitals.setVitalsRange(patient, 90, 140, 60, 90);
        grant(patient, insurer, CareChainTypes.SCOPE_WRITE_RECORDS, 0); // write grant, but not a doctor
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NoWriteAccess.selector, patient, insurer));
        vm.prank(insurer);
        vitals.setVitalsRange(patient, 90, 140, 60, 90);
    }

    function test_error_tooManyRecipients_notRegistered() public {
        address[] memory many = new address[](11);
        for (uint256 i; i < many.length; ++i) {
            many[i] = doctor;
        }
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.TooManyRecipients.selector, 11));
        vitals.setAlertRecipients(many);
        address[] memory unknown = new address[](1);
        unknown[0] = stranger;
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.NotRegistered.selector, stranger));
        vitals.setAlertRecipients(unknown);
        vm.stopPrank();
    }

    function test_error_readingInFuture() public {
        uint64 at = uint64(block.timestamp + 5 minutes + 1);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.ReadingInFuture.selector, at));
        vm.prank(device);
        vitals.submitReading(at, 120, 80);
        vm.prank(device);
        vitals.submitReading(at - 1, 120, 80); // exactly 5 minutes ahead is accepted
    }

    function test_error_batchSize() public {
        vm.startPrank(device);
        vm.expectRevert(IVitalsMonitor.EmptyBatch.selector);
        vitals.submitReadings(new IVitalsMonitor.Reading[](0));
        IVitalsMonitor.Reading[] memory big = new IVitalsMonitor.Reading[](101);
        vm.expectRevert(abi.encodeWithSelector(IVitalsMonitor.BatchTooLarge.selector, 101));
        vitals.submitReadings(big);
        vm.stopPrank();
    }

    function test_submitReadings_fullBatch() public {
        setRange();
        setRecipients();
        IVitalsMonitor.Reading[] memory batch = new IVitalsMonitor.Reading[](100);
        for (uint256 i; i < batch.length; ++i) {
            batch[i] = IVitalsMonitor.Reading(uint64(block.timestamp - 100 + i), uint16(100 + i), 70);
        }
        vm.prank(device);
        vitals.submitReadings(batch);
    }
}
