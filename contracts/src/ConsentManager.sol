// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "./interfaces/ICareChainTypes.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/// @title ConsentManager
/// @notice Patients grant registered accounts scoped, optionally expiring access; verified doctors may open
/// time-limited emergency read access, which the patient can close. Revocation takes effect in the same block:
/// every check reads the current state.
contract ConsentManager is IConsentManager {
    /// Longest emergency ("break-glass") access a doctor can open at once.
    uint64 public constant MAX_EMERGENCY_DURATION = 24 hours;
    /// Scopes an emergency access covers.
    uint8 public constant EMERGENCY_SCOPES = CareChainTypes.SCOPE_READ_RECORDS | CareChainTypes.SCOPE_READ_VITALS;

    struct Grant {
        uint8 scopes;
        uint64 expiresAt; // 0: no expiry
        bool revoked;
    }

    IIdentityRegistry public immutable identity;

    mapping(address patient => mapping(address grantee => Grant)) private _grants;
    mapping(address patient => mapping(address doctor => uint64 until)) private _emergency;

    constructor(IIdentityRegistry identity_) {
        identity = identity_;
    }

    modifier onlyPatient() {
        if (identity.roleOf(msg.sender) != CareChainTypes.ROLE_PATIENT) revert NotAPatient(msg.sender);
        _;
    }

    /// @inheritdoc IConsentManager
    function grantAccess(address grantee, uint8 scopes, uint64 expiresAt) external onlyPatient {
        if (grantee == msg.sender) revert SelfGrant();
        if (identity.roleOf(grantee) == CareChainTypes.ROLE_NONE) revert NotRegistered(grantee);
        _checkTerms(scopes, expiresAt);
        Grant storage grant = _grants[msg.sender][grantee];
        if (_isActive(grant)) revert GrantAlreadyActive(msg.sender, grantee);
        grant.scopes = scopes;
        grant.expiresAt = expiresAt;
        grant.revoked = false;
        emit AccessGranted(msg.sender, grantee, scopes, expiresAt);
    }

    /// @inheritdoc IConsentManager
    function changeAccess(address grantee, uint8 scopes, uint64 expiresAt) external onlyPatient {
        Grant storage grant = _grants[msg.sender][grantee];
        if (!_isActive(grant)) revert NoActiveGrant(msg.sender, grantee);
        _checkTerms(scopes, expiresAt);
        grant.scopes = scopes;
        grant.expiresAt = expiresAt;
        emit AccessChanged(msg.sender, grantee, scopes, expiresAt);
    }

    /// @inheritdoc IConsentManager
    function revokeAccess(address grantee) external onlyPatient {
        Grant storage grant = _grants[msg.sender][grantee];
        if (grant.scopes == 0 || grant.revoked) revert NoGrant(msg.sender, grantee);
        grant.revoked = true;
        emit AccessRevoked(msg.sender, grantee);
    }

    /// @inheritdoc IConsentManager
    /// @dev Opening again while open replaces the expiry (each opening is a separate, audited event).
    function openEmergencyAccess(address patient, bytes32 reasonHash, uint64 duration) external {
        if (!identity.isVerifiedDoctor(msg.sender)) revert NotAVerifiedDoctor(msg.sender);
        if (identity.roleOf(patient) != CareChainTypes.ROLE_PATIENT) revert NotAPatient(patient);
        if (reasonHash == bytes32(0)) revert ZeroHash();
        if (duration == 0 || duration > MAX_EMERGENCY_DURATION) revert BadEmergencyDuration(duration);
        uint64 expiresAt = uint64(block.timestamp) + duration;
        _emergency[patient][msg.sender] = expiresAt;
        emit EmergencyAccessOpened(patient, msg.sender, expiresAt, reasonHash);
    }

    /// @inheritdoc IConsentManager
    function closeEmergencyAccess(address doctor) external onlyPatient {
        if (_emergency[msg.sender][doctor] <= block.timestamp) revert NoEmergencyAccess(msg.sender, doctor);
        delete _emergency[msg.sender][doctor];
        emit EmergencyAccessClosed(msg.sender, doctor);
    }

    /// @inheritdoc IConsentManager
    /// @dev Emergency access also requires the doctor to be verified still.
    function hasAccess(address patient, address actor, uint8 scope) external view returns (bool) {
        if (scope == 0 || scope & ~CareChainTypes.ALL_SCOPES != 0) return false;
        if (actor == patient) return identity.roleOf(patient) == CareChainTypes.ROLE_PATIENT;
        Grant storage grant = _grants[patient][actor];
        if (_isActive(grant) && grant.scopes & scope == scope) return true;
        return scope & ~EMERGENCY_SCOPES == 0 && _emergency[patient][actor] > block.timestamp
            && identity.isVerifiedDoctor(actor);
    }

    /// @notice Whether `grantee` holds an active (not revoked, not expired) grant from `patient`.
    function isGrantActive(address patient, address grantee) external view returns (bool) {
        return _isActive(_grants[patient][grantee]);
    }

    function grantOf(address patient, address grantee)
        external
        view
        returns (uint8 scopes, uint64 expiresAt, bool revoked)
    {
        Grant storage grant = _grants[patient][grantee];
        return (grant.scopes, grant.expiresAt, grant.revoked);
    }

    /// @dev The stored expiry: past values mean the access has lapsed; 0 means never opened or closed.
    function emergencyAccessUntil(address patient, address doctor) external view returns (uint64) {
        return _emergency[patient][doctor];
    }

    function _checkTerms(uint8 scopes, uint64 expiresAt) private view {
        if (scopes == 0 || scopes & ~CareChainTypes.ALL_SCOPES != 0) revert InvalidScopes(scopes);
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert ExpiryInPast(expiresAt);
    }

    function _isActive(Grant storage grant) private view returns (bool) {
        return grant.scopes != 0 && !grant.revoked && (grant.expiresAt == 0 || block.timestamp < grant.expiresAt);
    }
}
