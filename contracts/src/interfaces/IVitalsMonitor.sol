// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Wearables report blood pressure for the patient that authorized them; a reading outside the
/// patient's range raises an alert naming the patient's designated recipients.
interface IVitalsMonitor {
    event DeviceAuthorized(address indexed patient, address indexed device);
    event DeviceRevoked(address indexed patient, address indexed device);
    event VitalsRangeSet(
        address indexed patient,
        address indexed setBy,
        uint16 systolicMin,
        uint16 systolicMax,
        uint16 diastolicMin,
        uint16 diastolicMax
    );
    event AlertRecipientsSet(address indexed patient, address[] recipients);
    event VitalsReported(address indexed patient, address indexed device, uint64 measuredAt, uint16 systolic, uint16 diastolic);
    /// Emitted after VitalsReported for a reading outside the range (bounds inclusive are in range).
    event VitalsAlert(
        address indexed patient,
        address indexed device,
        uint64 measuredAt,
        uint16 systolic,
        uint16 diastolic,
        address[] recipients
    );

    struct Reading {
        uint64 measuredAt;
        uint16 systolic;
        uint16 diastolic;
    }

    error NotAPatient(address account);
    error NotRegistered(address account);
    error DeviceAlreadyAuthorized(address device);
    error UnknownDevice(address device);
    error BadRange();
    error NoWriteAccess(address patient, address account);
    error TooManyRecipients(uint256 count);
    error InvalidReading(uint16 systolic, uint16 diastolic);
    error ReadingInFuture(uint64 measuredAt);
    error EmptyBatch();
    error BatchTooLarge(uint256 size);

    /// Patient only; a device serves one patient.
    function authorizeDevice(address device) external;
    function revokeDevice(address device) external;
    /// The patient, or a doctor with an active write grant. 0 < min < max <= 300 for both.
    function setVitalsRange(address patient, uint16 systolicMin, uint16 systolicMax, uint16 diastolicMin, uint16 diastolicMax)
        external;
    /// Patient only; at most 10 registered accounts.
    function setAlertRecipients(address[] calldata recipients) external;
    /// Authorized devices only. 0 < diastolic < systolic <= 300; measuredAt at most 5 minutes in the future.
    function submitReading(uint64 measuredAt, uint16 systolic, uint16 diastolic) external;
    /// At most 100 readings.
    function submitReadings(Reading[] calldata readings) external;

    function patientOfDevice(address device) external view returns (address);
    function rangeOf(address patient)
        external
        view
        returns (uint16 systolicMin, uint16 systolicMax, uint16 diastolicMin, uint16 diastolicMax);
    function alertRecipientsOf(address patient) external view returns (address[] memory);
}
