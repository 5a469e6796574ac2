// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "../src/interfaces/ICareChainTypes.sol";
import {IConsentManager} from "../src/interfaces/IConsentManager.sol";
import {CareChainTest} from "./utils/CareChainTest.sol";

contract ConsentManagerTest is CareChainTest {
    uint8 internal constant READ = CareChainTypes.SCOPE_READ_RECORDS;
    uint8 internal constant WRITE = CareChainTypes.SCOPE_WRITE_RECORDS;
    uint8 internal constant VITALS = CareChainTypes.SCOPE_READ_VITALS;
    bytes32 internal constant REASON = keccak256("unconscious in the emergency room");

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
    }

    function test_grantAccess() public {
        uint64 expiry = uint64(block.timestamp + 1 days);
        vm.expectEmit(true, true, true, true, address(consent));
        emit IConsentManager.AccessGranted(patient, doctor, READ | WRITE, expiry);
        grant(patient, doctor, READ | WRITE, expiry);
        (uint8 scopes, uint64 expiresAt, bool revoked) = consent.grantOf(patient, doctor);
        assertEq(scopes, READ | WRITE);
        assertEq(expiresAt, expiry);
        assertTrue(!revoked);
        assertTrue(consent.hasAccess(patient, doctor, READ));
        assertTrue(consent.hasAccess(patient, doctor, READ | WRITE));
        assertTrue(!consent.hasAccess(patient, doctor, VITALS));
        assertTrue(consent.isGrantActive(patient, doctor));
    }

    function test_default_patientHasAccessToThemself() public view {
        assertTrue(consent.hasAccess(patient, patient, CareChainTypes.ALL_SCOPES));
        assertTrue(!consent.hasAccess(doctor, doctor, READ)); // not a patient
        assertTrue(!consent.hasAccess(patient, patient, 0));
    }

    function test_grantAccess_toAnyRegisteredAccount() public {
        grant(patient, insurer, READ, 0);
        assertTrue(consent.hasAccess(patient, insurer, READ));
    }

    function test_grantAccess_againAfterRevokeOrExpiry() public {
        grant(patient, doctor, READ, uint64(block.timestamp + 10));
        vm.warp(block.timestamp + 10);
        grant(patient, doctor, WRITE, 0); // expired: a new grant replaces it
        vm.prank(patient);
        consent.revokeAccess(doctor);
        grant(patient, doctor, READ, 0); // revoked: a new grant replaces it
        (uint8 scopes,, bool revoked) = consent.grantOf(patient, doctor);
        assertEq(scopes, READ);
        assertTrue(!revoked);
    }

    function test_changeAccess() public {
        grant(patient, doctor, READ, 0);
        uint64 expiry = uint64(block.timestamp + 1 hours);
        vm.expectEmit(true, true, true, true, address(consent));
        emit IConsentManager.AccessChanged(patient, doctor, WRITE | VITALS, expiry);
        vm.prank(patient);
        consent.changeAccess(doctor, WRITE | VITALS, expiry);
        assertTrue(!consent.hasAccess(patient, doctor, READ));
        assertTrue(consent.hasAccess(patient, doctor, WRITE | VITALS));
    }

    function test_revokeAccess_effectiveInTheSameBlock() public {
        grant(patient, doctor, READ | WRITE, 0);
        uint256 blockBefore = block.number;
        vm.expectEmit(true, true, true, true, address(consent));
        emit IConsentManager.AccessRevoked(patient, doctor);
        vm.prank(patient);
        consent.revokeAccess(doctor);
        assertEq(block.number, blockBefore);
        assertTrue(!consent.hasAccess(patient, doctor, READ));
        (,, bool revoked) = consent.grantOf(patient, doctor);
        assertTrue(revoked);
    }

    function test_revokeAccess_expiredGrant() public {
        grant(patient, doctor, READ, uint64(block.timestamp + 5));
        vm.warp(block.timestamp + 6);
        vm.prank(patient);
        consent.revokeAccess(doctor);
    }

    function test_openEmergencyAccess() public {
        uint64 until = uint64(block.timestamp + 2 hours);
        vm.expectEmit(true, true, true, true, address(consent));
        emit IConsentManager.EmergencyAccessOpened(patient, doctor, until, REASON);
        vm.prank(doctor);
        consent.openEmergencyAccess(patient, REASON, 2 hours);
        assertEq(consent.emergencyAccessUntil(patient, doctor), until);
        assertTrue(consent.hasAccess(patient, doctor, READ));
        assertTrue(consent.hasAccess(patient, doctor, READ | VITALS));
        assertTrue(!consent.hasAccess(patient, doctor, WRITE)); // read scopes only
        vm.warp(until);
        assertTrue(!consent.hasAccess(patient, doctor, READ)); // lapsed
    }

    function test_emergencyAccess_endsWhenVerificationIsRevoked() public {
        vm.prank(doctor);
        consent.openEmergencyAccess(patient, REASON, 1 hours);
        vm.prank(hospital);
        identity.revokeDoctorVerification(doctor);
        assertTrue(!consent.hasAccess(patient, doctor, READ));
    }

    function test_closeEmergencyAccess() public {
        vm.prank(doctor);
        consent.openEmergencyAccess(patient, REASON, 1 hours);
        vm.expectEmit(true, true, true, true, address(consent));
        emit IConsentManager.EmergencyAccessClosed(patient, doctor);
        vm.prank(patient);
        consent.closeEmergencyAccess(doctor);
        assertTrue(!consent.hasAccess(patient, doctor, READ));
        assertEq(consent.emergencyAccessUntil(patient, doctor), 0);
    }

    // ---- fuzz

    /// hasAccess(scope) holds exactly when the granted mask holds every bit of scope, until expiry.
    function testFuzz_scopesAndExpiry(uint8 granted, uint8 asked, uint32 lifetime, uint32 elapsed) public {
        granted = uint8(bound(granted, 1, CareChainTypes.ALL_SCOPES));
        asked = uint8(bound(asked, 1, CareChainTypes.ALL_SCOPES));
        lifetime = uint32(bound(lifetime, 1, 365 days));
        uint64 expiry = uint64(block.timestamp) + lifetime;
        grant(patient, doctor, granted, expiry);
        vm.warp(block.timestamp + elapsed);
        bool expected = granted & asked == asked && block.timestamp < expiry;
        assertTrue(consent.hasAccess(patient, doctor, asked) == expected, "hasAccess differs from the rule");
    }

    function testFuzz_error_invalidScopes(uint8 scopes) public {
        vm.assume(scopes == 0 || scopes > CareChainTypes.ALL_SCOPES);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.InvalidScopes.selector, scopes));
        grant(patient, doctor, scopes, 0);
    }

    function testFuzz_error_expiryInPast(uint64 expiresAt) public {
        expiresAt = uint64(bound(expiresAt, 1, block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.ExpiryInPast.selector, expiresAt));
        grant(patient, doctor, READ, expiresAt);
    }

    function testFuzz_emergencyDuration(uint64 duration) public {
        vm.prank(doctor);
        if (duration == 0 || duration > 24 hours) {
            vm.expectRevert(abi.encodeWithSelector(IConsentManager.BadEmergencyDuration.selector, duration));
            consent.openEmergencyAccess(patient, REASON, duration);
        } else {
            consent.openEmergencyAccess(patient, REASON, duration);
            assertEq(consent.emergencyAccessUntil(patient, doctor), block.timestamp + duration);
        }
    }

    // ---- errors

    function test_error_notAPatient() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAPatient.selector, doctor));
        grant(doctor, patient, READ, 0);
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAPatient.selector, stranger));
        consent.changeAccess(doctor, READ, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAPatient.selector, stranger));
        consent.revokeAccess(doctor);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAPatient.selector, stranger));
        consent.closeEmergencyAccess(doctor);
        vm.stopPrank();
    }

    function test_error_selfGrant() public {
        vm.expectRevert(IConsentManager.SelfGrant.selector);
        grant(patient, patient, READ, 0);
    }

    function test_error_granteeNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotRegistered.selector, stranger));
        grant(patient, stranger, READ, 0);
    }

    function test_error_grantAlreadyActive() public {
        grant(patient, doctor, READ, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.GrantAlreadyActive.selector, patient, doctor));
        grant(patient, doctor, WRITE, 0);
    }

    function test_error_noActiveGrant() public {
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoActiveGrant.selector, patient, doctor));
        consent.changeAccess(doctor, READ, 0);
        consent.grantAccess(doctor, READ, uint64(block.timestamp + 1));
        vm.warp(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoActiveGrant.selector, patient, doctor));
        consent.changeAccess(doctor, READ, 0);
        vm.stopPrank();
    }

    function test_error_changeAccess_badTerms() public {
        grant(patient, doctor, READ, 0);
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.InvalidScopes.selector, 8));
        consent.changeAccess(doctor, 8, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.ExpiryInPast.selector, uint64(block.timestamp)));
        consent.changeAccess(doctor, READ, uint64(block.timestamp));
        vm.stopPrank();
    }

    function test_error_noGrant() public {
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoGrant.selector, patient, doctor));
        consent.revokeAccess(doctor);
        consent.grantAccess(doctor, READ, 0);
        consent.revokeAccess(doctor);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoGrant.selector, patient, doctor));
        consent.revokeAccess(doctor);
        vm.stopPrank();
    }

    function test_error_notAVerifiedDoctor() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAVerifiedDoctor.selector, unverifiedDoctor));
        vm.prank(unverifiedDoctor);
        consent.openEmergencyAccess(patient, REASON, 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAVerifiedDoctor.selector, hospital));
        vm.prank(hospital);
        consent.openEmergencyAccess(patient, REASON, 1 hours);
    }

    function test_error_emergency_notAPatient_zeroHash() public {
        vm.startPrank(doctor);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NotAPatient.selector, insurer));
        consent.openEmergencyAccess(insurer, REASON, 1 hours);
        vm.expectRevert(IConsentManager.ZeroHash.selector);
        consent.openEmergencyAccess(patient, bytes32(0), 1 hours);
        vm.stopPrank();
    }

    function test_error_noEmergencyAccess() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoEmergencyAccess.selector, patient, doctor));
        vm.prank(patient);
        consent.closeEmergencyAccess(doctor);
        vm.prank(doctor);
        consent.openEmergencyAccess(patient, REASON, 1 hours);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NoEmergencyAccess.selector, patient, doctor));
        vm.prank(patient);
        consent.closeEmergencyAccess(doctor);
    }
}
