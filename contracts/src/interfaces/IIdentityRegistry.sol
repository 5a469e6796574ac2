// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Who is who: patients, doctors and organizations (hospitals, insurers, ...). Only a profile hash
/// and an X25519 encryption public key (for wrapping record keys) are kept on chain.
interface IIdentityRegistry {
    event PatientRegistered(address indexed patient, bytes32 profileHash, bytes32 encryptionKey);
    event DoctorRegistered(address indexed doctor, bytes32 profileHash, bytes32 encryptionKey, bytes32 licenseHash);
    event OrganizationRegistered(address indexed organization, uint8 kind, bytes32 profileHash, bytes32 encryptionKey);
    event ProfileUpdated(address indexed account, bytes32 profileHash, bytes32 encryptionKey);
    /// The admin (network governance) lets a hospital act as registrar, or stops it.
    event RegistrarSet(address indexed organization, bool enabled);
    event DoctorVerified(address indexed doctor, address indexed registrar);
    event DoctorVerificationRevoked(address indexed doctor, address indexed registrar);

    error AlreadyRegistered(address account);
    error NotRegistered(address account);
    error ZeroHash();
    error ZeroEncryptionKey();
    error InvalidOrganizationKind(uint8 kind);
    error NotAHospital(address account);
    error NotADoctor(address account);
    error NotARegistrar(address account);
    error AlreadyVerified(address doctor);
    error NotVerified(address doctor);

    function registerPatient(bytes32 profileHash, bytes32 encryptionKey) external;
    function registerDoctor(bytes32 profileHash, bytes32 encryptionKey, bytes32 licenseHash) external;
    function registerOrganization(uint8 kind, bytes32 profileHash, bytes32 encryptionKey) external;
    function updateProfile(bytes32 profileHash, bytes32 encryptionKey) external;
    /// Admin only (OpenZeppelin Ownable's OwnableUnauthorizedAccount otherwise); the organization must be a hospital.
    function setRegistrar(address organization, bool enabled) external;
    /// Registrar hospitals only.
    function verifyDoctor(address doctor) external;
    function revokeDoctorVerification(address doctor) external;

    function roleOf(address account) external view returns (uint8);
    function organizationKindOf(address account) external view returns (uint8);
    function isVerifiedDoctor(address account) external view returns (bool);
    function isRegistrar(address account) external view returns (bool);
    function encryptionKeyOf(address account) external view returns (bytes32);
    function profileHashOf(address account) external view returns (bytes32);
}
