// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ConsentManager} from "../../src/ConsentManager.sol";
import {IdentityRegistry} from "../../src/IdentityRegistry.sol";
import {CareChainTypes} from "../../src/interfaces/ICareChainTypes.sol";
import {RecordRegistry} from "../../src/RecordRegistry.sol";
import {VitalsMonitor} from "../../src/VitalsMonitor.sol";

/// Cheatcodes newer than the Vm interface of forge-std 1.1.2 (forge 1.7 implements them at the same address).
interface VmExtra {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function expectEmit() external;
    function expectEmit(address emitter) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// Deployed contracts, named actors and invariant-target plumbing shared by the CareChain forge tests.
abstract contract CareChainTest is Test {
    VmExtra internal constant vmx = VmExtra(address(uint160(uint256(keccak256("hevm cheat code")))));

    IdentityRegistry internal identity;
    ConsentManager internal consent;
    RecordRegistry internal records;
    VitalsMonitor internal vitals;

    address internal admin = address(this);
    address internal patient;
    address internal doctor; // verified
    address internal unverifiedDoctor;
    address internal hospital; // registrar
    address internal insurer;
    address internal stranger; // not registered
    uint256 internal doctorKey;

    bytes32 internal constant PROFILE = keccak256("profile");
    bytes32 internal constant KEY = keccak256("x25519 key");
    bytes32 internal constant LICENSE = keccak256("license");
    bytes internal constant POINTER = "enc:ipfs://bafy-example";

    address[] private _targets;

    function setUp() public virtual {
        identity = new IdentityRegistry();
        consent = new ConsentManager(identity);
        records = new RecordRegistry(identity, consent);
        vitals = new VitalsMonitor(identity, consent);

        patient = registerPatient("patient");
        (doctor, doctorKey) = accountOf("doctor");
        vm.prank(doctor);
        identity.registerDoctor(PROFILE, KEY, LICENSE);
        unverifiedDoctor = registerDoctor("unverified doctor");
        hospital = registerOrganization("hospital", CareChainTypes.ORG_HOSPITAL);
        insurer = registerOrganization("insurer", CareChainTypes.ORG_INSURER);
        (stranger,) = accountOf("stranger");
        identity.setRegistrar(hospital, true);
        vm.prank(hospital);
        identity.verifyDoctor(doctor);
    }

    function accountOf(string memory name) internal returns (address account, uint256 key) {
        key = uint256(keccak256(bytes(name)));
        account = vm.addr(key);
        vm.label(account, name);
    }

    function registerPatient(string memory name) internal returns (address account) {
        (account,) = accountOf(name);
        vm.prank(account);
        identity.registerPatient(PROFILE, KEY);
    }

    function registerDoctor(string memory name) internal returns (address account) {
        (account,) = accountOf(name);
        vm.prank(account);
        identity.registerDoctor(PROFILE, KEY, LICENSE);
    }

    function registerOrganization(string memory name, uint8 kind) internal returns (address account) {
        (account,) = accountOf(name);
        vm.prank(account);
        identity.registerOrganization(kind, PROFILE, KEY);
    }

    function grant(address from, address to, uint8 scopes, uint64 expiresAt) internal {
        vm.prank(from);
        consent.grantAccess(to, scopes, expiresAt);
    }

    // Invariant-testing targets, read by forge (forge-std 1.1.2 has no StdInvariant).
    function targetContract(address target) internal {
        _targets.push(target);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }
}
