// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {ConsentManager} from "../../src/ConsentManager.sol";
import {CareChainTypes} from "../../src/interfaces/ICareChainTypes.sol";
import {IRecordRegistry} from "../../src/interfaces/IRecordRegistry.sol";
import {RecordRegistry} from "../../src/RecordRegistry.sol";
import {IVitalsMonitor} from "../../src/interfaces/IVitalsMonitor.sol";
import {VitalsMonitor} from "../../src/VitalsMonitor.sol";

interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// Random sequences of grant / change / revoke / time jumps / writes / meta-transactions / readings, checked
/// against a plain model of the grants kept here. Counters of broken rules must stay zero.
contract CareChainHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    VmLogs internal constant vmLogs = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct ModelGrant {
        uint8 scopes;
        uint64 expiresAt;
        bool revoked;
    }

    ConsentManager public immutable consent;
    RecordRegistry public immutable records;
    VitalsMonitor public immutable vitals;
    address public immutable hospital;
    address public immutable device; // bound to patients[0]

    address[] public patients;
    address[] public authors; // doctors and an insurer
    uint256[] internal authorKeys;
    mapping(address patient => mapping(address grantee => ModelGrant)) public model;

    uint256 internal _nextId = 1;

    // Broken rules: each must stay zero.
    uint256 public writesWithoutActiveGrant;
    uint256 public refusedWritesWithActiveGrant;
    uint256 public writesAfterRevokeInSameBlock;
    uint256 public replaysAccepted;
    uint256 public forgeriesAccepted;
    uint256 public alertMismatches;
    // Coverage, to see the sequences did something.
    uint256 public successfulWrites;
    uint256 public refusedWrites;
    uint256 public alerts;

    constructor(
        ConsentManager consent_,
        RecordRegistry records_,
        VitalsMonitor vitals_,
        address hospital_,
        address device_,
        address[] memory patients_,
        address[] memory authors_,
        uint256[] memory authorKeys_
    ) {
        consent = consent_;
        records = records_;
        vitals = vitals_;
        hospital = hospital_;
        device = device_;
        patients = patients_;
        authors = authors_;
        authorKeys = authorKeys_;
    }

    function _pick(address[] storage list, uint256 seed) internal view returns (address) {
        return list[seed % list.length];
    }

    function _active(address patient, address grantee) public view returns (bool) {
        ModelGrant storage g = model[patient][grantee];
        return g.scopes != 0 && !g.revoked && (g.expiresAt == 0 || block.timestamp < g.expiresAt);
    }

    function _canWrite(address patient, address author) internal view returns (bool) {
        return _active(patient, author) && model[patient][author].scopes & CareChainTypes.SCOPE_WRITE_RECORDS != 0;
    }

    // ---- actions

    function grant(uint256 patientSeed, uint256 authorSeed, uint8 scopes, uint16 lifetime) external {
        address patient = _pick(patients, patientSeed);
        address author = _pick(authors, authorSeed);
        scopes = uint8(1 + scopes % CareChainTypes.ALL_SCOPES);
        uint64 expiresAt = lifetime % 4 == 0 ? 0 : uint64(block.timestamp + lifetime);
        vm.prank(patient);
        try consent.grantAccess(author, scopes, expiresAt) {
            model[patient][author] = ModelGrant(scopes, expiresAt, false);
        } catch {}
    }

    function change(uint256 patientSeed, uint256 authorSeed, uint8 scopes, uint16 lifetime) external {
        address patient = _pick(patients, patientSeed);
        address author = _pick(authors, authorSeed);
        scopes = uint8(1 + scopes % CareChainTypes.ALL_SCOPES);
        uint64 expiresAt = lifetime % 4 == 0 ? 0 : uint64(block.timestamp + lifetime);
        vm.prank(patient);
        try consent.changeAccess(author, scopes, expiresAt) {
            model[patient][author].scopes = scopes;
            model[patient][author].expiresAt = expiresAt;
        } catch {}
    }

    function revoke(uint256 patientSeed, uint256 authorSeed) external {
        address patient = _pick(patients, patientSeed);
        address author = _pick(authors, authorSeed);
        vm.prank(patient);
        try consent.revokeAccess(author) {
            model[patient][author].revoked = true;
        } catch {}
    }

    function warp(uint16 seconds_) external {
        vm.warp(block.timestamp + seconds_);
    }

    function write(uint256 patientSeed, uint256 authorSeed) external {
        _write(_pick(patients, patientSeed), _pick(authors, authorSeed));
    }

    /// Revokes then writes at once: the write must be refused in the same block.
    function revokeThenWrite(uint256 patientSeed, uint256 authorSeed) external {
        address patient = _pick(patients, patientSeed);
        address author = _pick(authors, authorSeed);
        vm.prank(patient);
        try consent.revokeAccess(author) {
            model[patient][author].revoked = true;
            vm.prank(author);
            try records.addRecord(patient, bytes32(_nextId++), 1, keccak256("c"), "p") {
                writesAfterRevokeInSameBlock++;
            } catch {}
        } catch {}
    }

    function _write(address patient, address author) internal {
        bool allowed = _canWrite(patient, author);
        vm.prank(author);
        try records.addRecord(patient, bytes32(_nextId++), 1, keccak256("c"), "p") {
            successfulWrites++;
            if (!allowed) writesWithoutActiveGrant++;
        } catch {
            refusedWrites++;
            if (allowed) refusedWritesWithActiveGrant++;
        }
    }

    /// A hospital relays an author's signature; then replays it; then relays a forged one.
    function writeBySig(uint256 patientSeed, uint256 authorSeed, bool forge) external {
        address patient = _pick(patients, patientSeed);
        uint256 index = authorSeed % authors.length;
        address author = authors[index];
        IRecordRegistry.RecordAuthorization memory a = IRecordRegistry.RecordAuthorization({
            patient: patient,
            recordId: bytes32(_nextId++),
            recordType: 2,
            contentHash: keccak256("c"),
            storagePointer: "p",
            previousRecordId: bytes32(0),
            author: author,
            nonce: records.nonces(author),
            deadline: block.timestamp + 60
        });
        uint256 key = forge ? authorKeys[(index + 1) % authorKeys.length] : authorKeys[index];
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, records.hashRecordAuthorization(a));
        bytes memory signature = abi.encodePacked(r, s, v);
        bool allowed = _canWrite(patient, author);
        vm.prank(hospital);
        try records.addRecordBySig(a, signature) {
            if (forge) forgeriesAccepted++;
            if (!allowed) writesWithoutActiveGrant++;
            successfulWrites++;
            vm.prank(hospital);
            try records.addRecordBySig(a, signature) {
                replaysAccepted++;
            } catch {}
        } catch {
            refusedWrites++;
            if (allowed && !forge) refusedWritesWithActiveGrant++;
        }
    }

    function setRange(uint16 sMin, uint16 sSpan, uint16 dMin, uint16 dSpan) external {
        sMin = uint16(1 + sMin % 250);
        dMin = uint16(1 + dMin % 150);
        uint16 sMax = uint16(sMin + 1 + sSpan % (300 - sMin));
        uint16 dMax = uint16(dMin + 1 + dSpan % (300 - dMin));
        vm.prank(patients[0]);
        vitals.setVitalsRange(patients[0], sMin, sMax, dMin, dMax);
    }

    function reading(uint16 systolic, uint16 diastolic) external {
        systolic = uint16(2 + systolic % 299);
        diastolic = uint16(1 + diastolic % (systolic - 1));
        (uint16 sMin, uint16 sMax, uint16 dMin, uint16 dMax) = vitals.rangeOf(patients[0]);
        bool expected = sMax != 0 && (systolic < sMin || systolic > sMax || diastolic < dMin || diastolic > dMax);
        vmLogs.recordLogs();
        vm.prank(device);
        vitals.submitReading(uint64(block.timestamp), systolic, diastolic);
        VmLogs.Log[] memory logs = vmLogs.getRecordedLogs();
        bool alerted = logs.length == 2 && logs[1].topics[0] == IVitalsMonitor.VitalsAlert.selector;
        if (alerted) alerts++;
        if (alerted != expected || logs.length > 2) alertMismatches++;
    }
}
