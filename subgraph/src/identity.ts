// IdentityRegistry -> Patient, Doctor, Organization, ContractInfo (the admin).
// Mirrors the projector's patients / doctors / organizations tables.
import { log } from "@graphprotocol/graph-ts";
import {
  DoctorRegistered,
  DoctorVerificationRevoked,
  DoctorVerified,
  OrganizationRegistered,
  OwnershipTransferred,
  PatientRegistered,
  ProfileUpdated,
  RegistrarSet,
} from "../generated/IdentityRegistry/IdentityRegistry";
import { ContractInfo, Doctor, Organization, Patient } from "../generated/schema";

export function handlePatientRegistered(event: PatientRegistered): void {
  const patient = new Patient(event.params.patient);
  patient.profileHash = event.params.profileHash;
  patient.encryptionKey = event.params.encryptionKey;
  patient.registeredBlock = event.block.number;
  patient.registeredAt = event.block.timestamp;
  patient.updatedAt = event.block.timestamp;
  patient.save();
}

export function handleDoctorRegistered(event: DoctorRegistered): void {
  const doctor = new Doctor(event.params.doctor);
  doctor.profileHash = event.params.profileHash;
  doctor.encryptionKey = event.params.encryptionKey;
  doctor.licenseHash = event.params.licenseHash;
  doctor.verified = false;
  doctor.verifiedBy = null;
  doctor.verifiedAt = null;
  doctor.registeredBlock = event.block.number;
  doctor.registeredAt = event.block.timestamp;
  doctor.updatedAt = event.block.timestamp;
  doctor.save();
}

export function handleOrganizationRegistered(event: OrganizationRegistered): void {
  const organization = new Organization(event.params.organization);
  organization.kind = event.params.kind;
  organization.profileHash = event.params.profileHash;
  organization.encryptionKey = event.params.encryptionKey;
  organization.isRegistrar = false;
  organization.registeredBlock = event.block.number;
  organization.registeredAt = event.block.timestamp;
  organization.updatedAt = event.block.timestamp;
  organization.save();
}

/** Any role may update its profile; the account is in exactly one of the three entities. */
export function handleProfileUpdated(event: ProfileUpdated): void {
  const id = event.params.account;
  const patient = Patient.load(id);
  if (patient !== null) {
    patient.profileHash = event.params.profileHash;
    patient.encryptionKey = event.params.encryptionKey;
    patient.updatedAt = event.block.timestamp;
    patient.save();
    return;
  }
  const doctor = Doctor.load(id);
  if (doctor !== null) {
    doctor.profileHash = event.params.profileHash;
    doctor.encryptionKey = event.params.encryptionKey;
    doctor.updatedAt = event.block.timestamp;
    doctor.save();
    return;
  }
  const organization = Organization.load(id);
  if (organization !== null) {
    organization.profileHash = event.params.profileHash;
    organization.encryptionKey = event.params.encryptionKey;
    organization.updatedAt = event.block.timestamp;
    organization.save();
    return;
  }
  log.warning("ProfileUpdated for unregistered account {}", [id.toHexString()]);
}

export function handleRegistrarSet(event: RegistrarSet): void {
  const organization = Organization.load(event.params.organization);
  if (organization === null) {
    log.warning("RegistrarSet for unknown organization {}", [event.params.organization.toHexString()]);
    return;
  }
  organization.isRegistrar = event.params.enabled;
  organization.updatedAt = event.block.timestamp;
  organization.save();
}

export function handleDoctorVerified(event: DoctorVerified): void {
  const doctor = Doctor.load(event.params.doctor);
  if (doctor === null) {
    log.warning("DoctorVerified for unknown doctor {}", [event.params.doctor.toHexString()]);
    return;
  }
  doctor.verified = true;
  doctor.verifiedBy = event.params.registrar;
  doctor.verifiedAt = event.block.timestamp;
  doctor.updatedAt = event.block.timestamp;
  doctor.save();
}

/** verifiedBy / verifiedAt describe the current verification, so they are cleared with it. */
export function handleDoctorVerificationRevoked(event: DoctorVerificationRevoked): void {
  const doctor = Doctor.load(event.params.doctor);
  if (doctor === null) {
    log.warning("DoctorVerificationRevoked for unknown doctor {}", [event.params.doctor.toHexString()]);
    return;
  }
  doctor.verified = false;
  doctor.verifiedBy = null;
  doctor.verifiedAt = null;
  doctor.updatedAt = event.block.timestamp;
  doctor.save();
}

/** OpenZeppelin Ownable: emitted by the constructor and on every transfer of the admin role. */
export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  let info = ContractInfo.load(event.address);
  if (info === null) {
    info = new ContractInfo(event.address);
    info.name = "IdentityRegistry";
  }
  info.owner = event.params.newOwner;
  info.ownerUpdatedAt = event.block.timestamp;
  info.save();
}
