// Every operation the pages run, typed by GraphQL Code Generator from the composed supergraph.
import { graphql } from "./generated/gql.ts";

export const MeQuery = graphql(`
  query Me {
    me {
      address
      role
      organizationKind
    }
  }
`);

// The viewer's own profileHash as CareChain indexed it (the My profile page reads the chain's, then waits
// for this one to show an update).
export const MyProfileHashQuery = graphql(`
  query MyProfileHash {
    me {
      address
      patient {
        address
        profileHash
      }
      doctor {
        address
        profileHash
      }
      organization {
        address
        profileHash
      }
    }
  }
`);

// The record fields every record list shows (one fragment: PatientHome and PatientChart spread it). Codegen
// runs with fragmentMasking off, so a query's type holds the fields themselves and components take them
// as they are (RecordFieldsFragment) without unmasking.
export const RecordVersionFragment = graphql(`
  fragment RecordVersion on Record {
    id
    type
    author
    submitter
    version
    addedAt
    contentHash
    previousRecordId
    document {
      contentHash
      size
    }
  }
`);

// A record's latest version and its amendment chain (versions, oldest first).
export const RecordFieldsFragment = graphql(`
  fragment RecordFields on Record {
    ...RecordVersion
    versions {
      ...RecordVersion
    }
  }
`);

export const PatientHomeQuery = graphql(`
  query PatientHome($address: Address!) {
    patient(address: $address) {
      address
      registeredAt
      records(first: 20) {
        edges {
          node {
            ...RecordFields
          }
        }
      }
      grants {
        grantee
        granteeRole
        scopes
        expiresAt
        grantedAt
      }
    }
  }
`);

// Its own query, not part of PatientHome: the audit log grows with every read, so the gateway never
// serves it from its answer cache, and the rest of the home page should still be.
export const PatientAccessLogQuery = graphql(`
  query PatientAccessLog($address: Address!) {
    patient(address: $address) {
      address
      accessLog(first: 20) {
        edges {
          node {
            id
            viewer
            what
            rule
            channel
            at
          }
        }
      }
    }
  }
`);

export const DoctorDirectoryQuery = graphql(`
  query DoctorDirectory {
    doctors(first: 50) {
      edges {
        node {
          address
          verified
        }
      }
    }
  }
`);

export const DoctorHomeQuery = graphql(`
  query DoctorHome($address: Address!) {
    doctor(address: $address) {
      address
      verified
      patients(first: 50) {
        address
      }
    }
  }
`);

export const PatientChartQuery = graphql(`
  query PatientChart($address: Address!) {
    patient(address: $address) {
      address
      registeredAt
      records(first: 20) {
        edges {
          node {
            ...RecordFields
          }
        }
      }
      latestVitals {
        measuredAt
        systolic
        diastolic
      }
      vitalsRange {
        systolicMin
        systolicMax
        diastolicMin
        diastolicMax
      }
      vitals(first: 50) {
        measuredAt
        systolic
        diastolic
      }
    }
  }
`);

export const AlertRaisedSubscription = graphql(`
  subscription AlertRaised($patient: Address) {
    alertRaised(patient: $patient) {
      id
      patient
      systolic
      diastolic
      measuredAt
      finality
      retracted
    }
  }
`);

// The registered X25519 keys a new record's document is wrapped for: the patient's and the author's own.
export const DocumentReadersQuery = graphql(`
  query DocumentReaders($patient: Address!, $author: Address!) {
    patient(address: $patient) {
      address
      encryptionKey
    }
    doctor(address: $author) {
      address
      encryptionKey
    }
  }
`);

export const OrganizationHomeQuery = graphql(`
  query OrganizationHome($address: Address!) {
    organization(address: $address) {
      address
      kind
      registrar
      patients(first: 50) {
        address
      }
    }
  }
`);

// The patient's own controls: open emergency accesses (to close), alert recipients and the range. Apart from
// PatientHome so that polling one write's visibility refetches only what it changes.
export const PatientControlsQuery = graphql(`
  query PatientControls($address: Address!) {
    patient(address: $address) {
      address
      emergencyAccesses {
        doctor {
          address
        }
        openedAt
        expiresAt
      }
      alertRecipients
      devices {
        address
        revokedAt
      }
      vitalsRange {
        systolicMin
        systolicMax
        diastolicMin
        diastolicMax
      }
    }
  }
`);
