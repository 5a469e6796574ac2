// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {CareChainTypes} from "./interfaces/ICareChainTypes.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice One role per address (patient, doctor or organization). Only hashes and an X25519 public key are
/// stored. The owner (network governance, the deployer) chooses which hospitals act as registrars; registrars
/// verify doctors' licenses.
contract IdentityRegistry is IIdentityRegistry, Ownable {
    struct Identity {
        uint8 role;
        uint8 organizationKind;
        bool verified; // doctors: verified by a registrar
        bool registrar; // hospitals: may verify doctors
        bytes32 profileHash;
        bytes32 encryptionKey;
        bytes32 licenseHash; // doctors only
    }

    mapping(address account => Identity) private _identities;

    constructor() Ownable(msg.sender) {}

    modifier onlyRegistrar() {
        if (!_identities[msg.sender].registrar) revert NotARegistrar(msg.sender);
        _;
    }

    /// @inheritdoc IIdentityRegistry
    function registerPatient(bytes32 profileHash, bytes32 encryptionKey) external {
        _register(CareChainTypes.ROLE_PATIENT, profileHash, encryptionKey);
        emit PatientRegistered(msg.sender, profileHash, encryptionKey);
    }

    /// @inheritdoc IIdentityRegistry
    function registerDoctor(bytes32 profileHash, bytes32 encryptionKey, bytes32 licenseHash) external {
        if (licenseHash == bytes32(0)) revert ZeroHash();
        _register(CareChainTypes.ROLE_DOCTOR, profileHash, encryptionKey).licenseHash = licenseHash;
        emit DoctorRegistered(msg.sender, profileHash, encryptionKey, licenseHash);
    }

    /// @inheritdoc IIdentityRegistry
    function registerOrganization(uint8 kind, bytes32 profileHash, bytes32 encryptionKey) external {
        if (kind == 0 || kind > CareChainTypes.MAX_ORG_KIND) revert InvalidOrganizationKind(kind);
        _register(CareChainTypes.ROLE_ORGANIZATION, profileHash, encryptionKey).organizationKind = kind;
        emit OrganizationRegistered(msg.sender, kind, profileHash, encryptionKey);
    }

    /// @inheritdoc IIdentityRegistry
    function updateProfile(bytes32 profileHash, bytes32 encryptionKey) external {
        Identity storage id = _identities[msg.sender];
        if (id.role == CareChainTypes.ROLE_NONE) revert NotRegistered(msg.sender);
        _checkKeys(profileHash, encryptionKey);
        id.profileHash = profileHash;
        id.encryptionKey = encryptionKey;
        emit ProfileUpdated(msg.sender, profileHash, encryptionKey);
    }

    /// @inheritdoc IIdentityRegistry
    function setRegistrar(address organization, bool enabled) external onlyOwner {
        Identity storage id = _identities[organization];
        if (id.role != CareChainTypes.ROLE_ORGANIZATION || id.organizationKind != CareChainTypes.ORG_HOSPITAL) {
            revert NotAHospital(organization);
        }
        id.registrar = enabled;
        emit RegistrarSet(organization, enabled);
    }

    /// @inheritdoc IIdentityRegistry
    function verifyDoctor(address doctor) external onlyRegistrar {
        Identity storage id = _identities[doctor];
        if (id.role != CareChainTypes.ROLE_DOCTOR) revert NotADoctor(doctor);
        if (id.verified) revert AlreadyVerified(doctor);
        id.verified = true;
        emit DoctorVerified(doctor, msg.sender);
    }

    /// @inheritdoc IIdentityRegistry
    function revokeDoctorVerification(address doctor) external onlyRegistrar {
        Identity storage id = _identities[doctor];
        if (id.role != CareChainTypes.ROLE_DOCTOR) revert NotADoctor(doctor);
        if (!id.verified) revert NotVerified(doctor);
        id.verified = false;
        emit DoctorVerificationRevoked(doctor, msg.sender);
    }

    function roleOf(address account) external view returns (uint8) {
        return _identities[account].role;
    }

    function organizationKindOf(address account) external view returns (uint8) {
        return _identities[account].organizationKind;
    }

    function isVerifiedDoctor(address account) external view returns (bool) {
        return _identities[account].verified;
    }

    function isRegistrar(address account) external view returns (bool) {
        return _identities[account].registrar;
    }

    function encryptionKeyOf(address account) external view returns (bytes32) {
        return _identities[account].encryptionKey;
    }

    function profileHashOf(address account) external view returns (bytes32) {
        return _identities[account].profileHash;
    }

    /// @notice The license hash a doctor registered with (zero for other roles).
    function licenseHashOf(address account) external view returns (bytes32) {
        return _identities[account].licenseHash;
    }

    function _register(uint8 role, bytes32 profileHash, bytes32 encryptionKey) private returns (Identity storage id) {
        id = _identities[msg.sender];
        if (id.role != CareChainTypes.ROLE_NONE) revert AlreadyRegistered(msg.sender);
        _checkKeys(profileHash, encryptionKey);
        id.role = role;
        id.profileHash = profileHash;
        id.encryptionKey = encryptionKey;
    }

    function _checkKeys(bytes32 profileHash, bytes32 encryptionKey) private pure {
        if (profileHash == bytes32(0)) revert ZeroHash();
        if (encryptionKey == bytes32(0)) revert ZeroEncryptionKey();
    }
}
