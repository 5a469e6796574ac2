// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Codes shared by every CareChain contract. Codes, never free text, travel on chain.
library CareChainTypes {
    /// Roles an address can hold. One address holds one role; a doctor who is also a patient uses two addresses.
    uint8 internal constant ROLE_NONE = 0;
    uint8 internal constant ROLE_PATIENT = 1;
    uint8 internal constant ROLE_DOCTOR = 2;
    uint8 internal constant ROLE_ORGANIZATION = 3;

    /// Organization kinds.
    uint8 internal constant ORG_HOSPITAL = 1;
    uint8 internal constant ORG_INSURER = 2;
    uint8 internal constant ORG_LABORATORY = 3;
    uint8 internal constant ORG_PHARMACY = 4;
    uint8 internal constant ORG_RESEARCH = 5;
    uint8 internal constant MAX_ORG_KIND = 5;

    /// Access scopes, a bit mask.
    uint8 internal constant SCOPE_READ_RECORDS = 1;
    uint8 internal constant SCOPE_WRITE_RECORDS = 2;
    uint8 internal constant SCOPE_READ_VITALS = 4;
    uint8 internal constant ALL_SCOPES = 7;

    /// Record types (see contracts/README.md for the table).
    uint16 internal constant RECORD_CONSULTATION_NOTE = 1;
    uint16 internal constant RECORD_LAB_RESULT = 2;
    uint16 internal constant RECORD_IMAGING = 3;
    uint16 internal constant RECORD_PRESCRIPTION = 4;
    uint16 internal constant RECORD_DISCHARGE_SUMMARY = 5;
    uint16 internal constant RECORD_IMMUNIZATION = 6;
    uint16 internal constant RECORD_ALLERGY = 7;
    uint16 internal constant RECORD_PATIENT_UPLOAD = 8;
    uint16 internal constant MAX_RECORD_TYPE = 8;
}
