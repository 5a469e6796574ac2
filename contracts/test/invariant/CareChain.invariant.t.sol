// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTest} from "../utils/CareChainTest.sol";
import {CareChainHandler} from "./CareChainHandler.sol";

contract CareChainInvariantTest is CareChainTest {
    CareChainHandler internal handler;

    function setUp() public override {
        super.setUp();
        vm.warp(1_700_000_000);
        address[] memory patients = new address[](2);
        patients[0] = patient;
        patients[1] = registerPatient("second patient");
        address[] memory authors = new address[](3);
        uint256[] memory keys = new uint256[](3);
        (authors[0], keys[0]) = (doctor, doctorKey);
        (authors[1], keys[1]) = accountOf("second doctor");
        vm.prank(authors[1]);
        identity.registerDoctor(PROFILE, KEY, LICENSE);
        (authors[2], keys[2]) = accountOf("laboratory");
        vm.prank(authors[2]);
        identity.registerOrganization(3, PROFILE, KEY);
        address device = address(0xDE1CE);
        vm.prank(patient);
        vitals.authorizeDevice(device);

        handler = new CareChainHandler(consent, records, vitals, hospital, device, patients, authors, keys);
        targetContract(address(handler));
    }

    function invariant_nothingWrittenWithoutActiveWriteGrant() public view {
        assertEq(handler.writesWithoutActiveGrant(), 0, "a write succeeded without an active write grant");
        assertEq(handler.refusedWritesWithActiveGrant(), 0, "a write with an active write grant was refused");
    }

    function invariant_revokedGranteeRefusedAtOnce() public view {
        assertEq(handler.writesAfterRevokeInSameBlock(), 0, "a revoked grantee wrote in the same block");
    }

    function invariant_metaTxReplayAndForgeryRefused() public view {
        assertEq(handler.replaysAccepted(), 0, "a replayed signature was accepted");
        assertEq(handler.forgeriesAccepted(), 0, "a signature by someone else was accepted");
    }

    function invariant_alertExactlyWhenOutOfRange() public view {
        assertEq(handler.alertMismatches(), 0, "VitalsAlert emitted when it should not be, or missing");
    }

    /// The contract's view of every grant equals the model's.
    function invariant_grantsMatchModel() public view {
        for (uint256 p; p < 2; ++p) {
            for (uint256 a; a < 3; ++a) {
                address patient_ = handler.patients(p);
                address author = handler.authors(a);
                assertTrue(consent.isGrantActive(patient_, author) == handler._active(patient_, author), "grant state");
            }
        }
    }
}
