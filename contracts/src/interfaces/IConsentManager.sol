// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A patient's grants of access to other registered accounts, with scopes and an optional expiry,
/// and verified doctors' time-limited emergency ("break-glass") read access.
/// A grant is active while it is not revoked and (expiresAt == 0 or block.timestamp < expiresAt).
interface IConsentManager {
    event AccessGranted(address indexed patient, address indexed grantee, uint8 scopes, uint64 expiresAt);
    /// Full new state of an active grant (scopes and expiry replaced).
    event AccessChanged(address indexed patient, address indexed grantee, uint8 scopes, uint64 expiresAt);
    event AccessRevoked(address indexed patient, address indexed grantee);
    /// Grants read records + read vitals until expiresAt; reasonHash is a hash of the stated reason.
    event EmergencyAccessOpened(address indexed patient, address indexed doctor, uint64 expiresAt, bytes32 reasonHash);
    event EmergencyAccessClosed(address indexed patient, address indexed doctor);

    error NotAPatient(address account);
    error NotRegistered(address account);
    error SelfGrant();
    error InvalidScopes(uint8 scopes);
    error ExpiryInPast(uint64 expiresAt);
    error GrantAlreadyActive(address patient, address grantee);
    error NoActiveGrant(address patient, address grantee);
    error NoGrant(address patient, address grantee);
    error NotAVerifiedDoctor(address account);
    error BadEmergencyDuration(uint64 duration);
    error ZeroHash();
    error NoEmergencyAccess(address patient, address doctor);

    /// Patient only. Reverts GrantAlreadyActive if an active grant exists (use changeAccess).
    function grantAccess(address grantee, uint8 scopes, uint64 expiresAt) external;
    /// Patient only; the grant must be active.
    function changeAccess(address grantee, uint8 scopes, uint64 expiresAt) external;
    /// Patient only; active or expired (not yet revoked) grants. Effective in the same block.
    function revokeAccess(address grantee) external;
    /// Verified doctors only; 0 < duration <= MAX_EMERGENCY_DURATION (24 hours).
    function openEmergencyAccess(address patient, bytes32 reasonHash, uint64 duration) external;
    /// Patient only.
    function closeEmergencyAccess(address doctor) external;

    /// True for the patient themself, for an active grant holding every bit of `scope`, and for read scopes
    /// under open emergency access.
    function hasAccess(address patient, address actor, uint8 scope) external view returns (bool);
    function grantOf(address patient, address grantee)
        external
        view
        returns (uint8 scopes, uint64 expiresAt, bool revoked);
    function emergencyAccessUntil(address patient, address doctor) external view returns (uint64);
}
