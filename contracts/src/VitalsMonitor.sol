// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CareChainTypes} from "./interfaces/ICareChainTypes.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";
import {IVitalsMonitor} from "./interfaces/IVitalsMonitor.sol";

/// @title VitalsMonitor
/// @notice Blood-pressure readings from devices a patient authorized. Readings are not stored: they live in
/// the VitalsReported events. A reading outside the patient's range (when one is set) also emits VitalsAlert
/// naming the patient's alert recipients.
contract VitalsMonitor is IVitalsMonitor {
    uint16 public constant MAX_PRESSURE = 300;
    uint256 public constant MAX_RECIPIENTS = 10;
    uint256 public constant MAX_BATCH = 100;
    /// How far in the future (device clock ahead of the chain) a reading may be dated.
    uint64 public constant MAX_CLOCK_SKEW = 5 minutes;

    struct Range {
        uint16 systolicMin;
        uint16 systolicMax;
        uint16 diastolicMin;
        uint16 diastolicMax;
    }

    IIdentityRegistry public immutable identity;
    IConsentManager public immutable consent;

    mapping(address device => address patient) private _deviceOwner;
    mapping(address patient => Range) private _ranges;
    mapping(address patient => address[]) private _recipients;

    constructor(IIdentityRegistry identity_, IConsentManager consent_) {
        identity = identity_;
        consent = consent_;
    }

    modifier onlyPatient() {
        if (identity.roleOf(msg.sender) != CareChainTypes.ROLE_PATIENT) revert NotAPatient(msg.sender);
        _;
    }

    /// @inheritdoc IVitalsMonitor
    function authorizeDevice(address device) external onlyPatient {
        if (device == address(0)) revert UnknownDevice(device);
        if (_deviceOwner[device] != address(0)) revert DeviceAlreadyAuthorized(device);
        _deviceOwner[device] = msg.sender;
        emit DeviceAuthorized(msg.sender, device);
    }

    /// @inheritdoc IVitalsMonitor
    function revokeDevice(address device) external onlyPatient {
        if (_deviceOwner[device] != msg.sender) revert UnknownDevice(device);
        delete _deviceOwner[device];
        emit DeviceRevoked(msg.sender, device);
    }

    /// @inheritdoc IVitalsMonitor
    /// @dev A doctor (role doctor) needs an active grant holding WRITE_RECORDS.
    function setVitalsRange(
        address patient,
        uint16 systolicMin,
        uint16 systolicMax,
        uint16 diastolicMin,
        uint16 diastolicMax
    ) external {
        if (identity.roleOf(patient) != CareChainTypes.ROLE_PATIENT) revert NotAPatient(patient);
        if (
            msg.sender != patient
                && (
                    identity.roleOf(msg.sender) != CareChainTypes.ROLE_DOCTOR
                        || !consent.hasAccess(patient, msg.sender, CareChainTypes.SCOPE_WRITE_RECORDS)
                )
        ) revert NoWriteAccess(patient, msg.sender);
        if (
            systolicMin == 0 || systolicMin >= systolicMax || systolicMax > MAX_PRESSURE || diastolicMin == 0
                || diastolicMin >= diastolicMax || diastolicMax > MAX_PRESSURE
        ) revert BadRange();
        _ranges[patient] = Range(systolicMin, systolicMax, diastolicMin, diastolicMax);
        emit VitalsRangeSet(patient, msg.sender, systolicMin, systolicMax, diastolicMin, diastolicMax);
    }

    /// @inheritdoc IVitalsMonitor
    /// @dev Replaces the whole list; an empty list clears it.
    function setAlertRecipients(address[] calldata recipients) external onlyPatient {
        if (recipients.length > MAX_RECIPIENTS) revert TooManyRecipients(recipients.length);
        for (uint256 i; i < recipients.length; ++i) {
            if (identity.roleOf(recipients[i]) == CareChainTypes.ROLE_NONE) revert NotRegistered(recipients[i]);
        }
        _recipients[msg.sender] = recipients;
        emit AlertRecipientsSet(msg.sender, recipients);
    }

    /// @inheritdoc IVitalsMonitor
    function submitReading(uint64 measuredAt, uint16 systolic, uint16 diastolic) external {
        address patient = _patientOfSender();
        Range memory range = _ranges[patient];
        if (_report(patient, range, measuredAt, systolic, diastolic)) {
            emit VitalsAlert(patient, msg.sender, measuredAt, systolic, diastolic, _recipients[patient]);
        }
    }

    /// @inheritdoc IVitalsMonitor
    function submitReadings(Reading[] calldata readings) external {
        if (readings.length == 0) revert EmptyBatch();
        if (readings.length > MAX_BATCH) revert BatchTooLarge(readings.length);
        address patient = _patientOfSender();
        Range memory range = _ranges[patient];
        address[] memory recipients;
        bool recipientsLoaded;
        for (uint256 i; i < readings.length; ++i) {
            Reading calldata r = readings[i];
            if (_report(patient, range, r.measuredAt, r.systolic, r.diastolic)) {
                if (!recipientsLoaded) {
                    recipients = _recipients[patient];
                    recipientsLoaded = true;
                }
                emit VitalsAlert(patient, msg.sender, r.measuredAt, r.systolic, r.diastolic, recipients);
            }
        }
    }

    function patientOfDevice(address device) external view returns (address) {
        return _deviceOwner[device];
    }

    function rangeOf(address patient)
        external
        view
        returns (uint16 systolicMin, uint16 systolicMax, uint16 diastolicMin, uint16 diastolicMax)
    {
        Range memory r = _ranges[patient];
        return (r.systolicMin, r.systolicMax, r.diastolicMin, r.diastolicMax);
    }

    function alertRecipientsOf(address patient) external view returns (address[] memory) {
        return _recipients[patient];
    }

    /// @notice Whether a reading lies outside `patient`'s range (false while no range is set). Bounds are in range.
    function isOutOfRange(address patient, uint16 systolic, uint16 diastolic) external view returns (bool) {
        return _outOfRange(_ranges[patient], systolic, diastolic);
    }

    function _patientOfSender() private view returns (address patient) {
        patient = _deviceOwner[msg.sender];
        if (patient == address(0)) revert UnknownDevice(msg.sender);
    }

    /// Validates and reports one reading; returns whether it raises an alert.
    function _report(address patient, Range memory range, uint64 measuredAt, uint16 systolic, uint16 diastolic)
        private
        returns (bool)
    {
        if (diastolic == 0 || diastolic >= systolic || systolic > MAX_PRESSURE) {
            revert InvalidReading(systolic, diastolic);
        }
        if (measuredAt > block.timestamp + MAX_CLOCK_SKEW) revert ReadingInFuture(measuredAt);
        emit VitalsReported(patient, msg.sender, measuredAt, systolic, diastolic);
        return _outOfRange(range, systolic, diastolic);
    }

    function _outOfRange(Range memory range, uint16 systolic, uint16 diastolic) private pure returns (bool) {
        if (range.systolicMax == 0) return false; // no range set
        return systolic < range.systolicMin || systolic > range.systolicMax || diastolic < range.diastolicMin
            || diastolic > range.diastolicMax;
    }
}
