// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {CareChainTypes} from "../src/interfaces/ICareChainTypes.sol";
import {IIdentityRegistry} from "../src/interfaces/IIdentityRegistry.sol";
import {CareChainTest} from "./utils/CareChainTest.sol";

contract IdentityRegistryTest is CareChainTest {
    address internal newcomer = address(0xA11CE);

    function test_default_adminIsDeployer() public view {
        assertEq(identity.owner(), admin);
    }

    function test_registerPatient() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.PatientRegistered(newcomer, PROFILE, KEY);
        vm.prank(newcomer);
        identity.registerPatient(PROFILE, KEY);
        assertEq(identity.roleOf(newcomer), CareChainTypes.ROLE_PATIENT);
        assertEq(identity.profileHashOf(newcomer), PROFILE);
        assertEq(identity.encryptionKeyOf(newcomer), KEY);
    }

    function test_registerDoctor() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.DoctorRegistered(newcomer, PROFILE, KEY, LICENSE);
        vm.prank(newcomer);
        identity.registerDoctor(PROFILE, KEY, LICENSE);
        assertEq(identity.roleOf(newcomer), CareChainTypes.ROLE_DOCTOR);
        assertEq(identity.licenseHashOf(newcomer), LICENSE);
        assertTrue(!identity.isVerifiedDoctor(newcomer));
    }

    function test_registerOrganization() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.OrganizationRegistered(newcomer, CareChainTypes.ORG_LABORATORY, PROFILE, KEY);
        vm.prank(newcomer);
        identity.registerOrganization(CareChainTypes.ORG_LABORATORY, PROFILE, KEY);
        assertEq(identity.roleOf(newcomer), CareChainTypes.ROLE_ORGANIZATION);
        assertEq(identity.organizationKindOf(newcomer), CareChainTypes.ORG_LABORATORY);
    }

    function test_updateProfile() public {
        bytes32 profile2 = keccak256("profile 2");
        bytes32 key2 = keccak256("key 2");
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.ProfileUpdated(patient, profile2, key2);
        vm.prank(patient);
        identity.updateProfile(profile2, key2);
        assertEq(identity.profileHashOf(patient), profile2);
        assertEq(identity.encryptionKeyOf(patient), key2);
    }

    function test_setRegistrar() public {
        address other = registerOrganization("hospital 2", CareChainTypes.ORG_HOSPITAL);
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.RegistrarSet(other, true);
        identity.setRegistrar(other, true);
        assertTrue(identity.isRegistrar(other));
        identity.setRegistrar(other, false);
        assertTrue(!identity.isRegistrar(other));
    }

    function test_verifyDoctor_and_revoke() public {
        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.DoctorVerified(unverifiedDoctor, hospital);
        vm.prank(hospital);
        identity.verifyDoctor(unverifiedDoctor);
        assertTrue(identity.isVerifiedDoctor(unverifiedDoctor));

        vm.expectEmit(true, true, true, true, address(identity));
        emit IIdentityRegistry.DoctorVerificationRevoked(unverifiedDoctor, hospital);
        vm.prank(hospital);
        identity.revokeDoctorVerification(unverifiedDoctor);
        assertTrue(!identity.isVerifiedDoctor(unverifiedDoctor));
    }

    // ---- errors

    function test_error_alreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.AlreadyRegistered.selector, patient));
        vm.prank(patient);
        identity.registerDoctor(PROFILE, KEY, LICENSE);
    }

    function test_error_zeroHashes() public {
        vm.startPrank(newcomer);
        vm.expectRevert(IIdentityRegistry.ZeroHash.selector);
        identity.registerPatient(bytes32(0), KEY);
        vm.expectRevert(IIdentityRegistry.ZeroEncryptionKey.selector);
        identity.registerPatient(PROFILE, bytes32(0));
        vm.expectRevert(IIdentityRegistry.ZeroHash.selector);
        identity.registerDoctor(PROFILE, KEY, bytes32(0));
        vm.stopPrank();
        vm.prank(patient);
        vm.expectRevert(IIdentityRegistry.ZeroEncryptionKey.selector);
        identity.updateProfile(PROFILE, bytes32(0));
    }

    function testFuzz_error_invalidOrganizationKind(uint8 kind) public {
        vm.assume(kind == 0 || kind > CareChainTypes.MAX_ORG_KIND);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.InvalidOrganizationKind.selector, kind));
        vm.prank(newcomer);
        identity.registerOrganization(kind, PROFILE, KEY);
    }

    function test_error_updateProfile_notRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotRegistered.selector, newcomer));
        vm.prank(newcomer);
        identity.updateProfile(PROFILE, KEY);
    }

    function test_error_setRegistrar_notOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, hospital));
        vm.prank(hospital);
        identity.setRegistrar(hospital, false);
    }

    function test_error_setRegistrar_notAHospital() public {
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotAHospital.selector, insurer));
        identity.setRegistrar(insurer, true);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotAHospital.selector, doctor));
        identity.setRegistrar(doctor, true);
    }

    function test_error_verifyDoctor_notARegistrar() public {
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotARegistrar.selector, insurer));
        vm.prank(insurer);
        identity.verifyDoctor(unverifiedDoctor);
        identity.setRegistrar(hospital, false);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotARegistrar.selector, hospital));
        vm.prank(hospital);
        identity.revokeDoctorVerification(doctor);
    }

    function test_error_verifyDoctor_notADoctor() public {
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotADoctor.selector, patient));
        identity.verifyDoctor(patient);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotADoctor.selector, patient));
        identity.revokeDoctorVerification(patient);
        vm.stopPrank();
    }

    function test_error_alreadyVerified_notVerified() public {
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.AlreadyVerified.selector, doctor));
        identity.verifyDoctor(doctor);
        vm.expectRevert(abi.encodeWithSelector(IIdentityRegistry.NotVerified.selector, unverifiedDoctor));
        identity.revokeDoctorVerification(unverifiedDoctor);
        vm.stopPrank();
    }
}
