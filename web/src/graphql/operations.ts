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

export const PatientHomeQuery = graphql(`
  query PatientHome($address: Address!) {
    patient(address: $address) {
      address
      registeredAt
      records(first: 20) {
        edges {
          node {
            id
            type
            author
            version
            addedAt
            contentHash
            document {
              contentHash
              size
            }
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
            id
            type
            author
            version
            addedAt
            contentHash
            document {
              contentHash
              size
            }
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
