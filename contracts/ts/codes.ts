// Code tables shared with the contracts (src/interfaces/ICareChainTypes.sol): codes, never free text, go on chain.

/** Access scopes, a bit mask: combine with `|`. */
export const scopes = {
  READ_RECORDS: 1,
  WRITE_RECORDS: 2,
  READ_VITALS: 4,
} as const;
export type ScopeName = keyof typeof scopes;
/** Every scope bit. */
export const ALL_SCOPES = 7;

/** Roles an address holds in the IdentityRegistry (one role per address). */
export const roles = {
  none: 0,
  patient: 1,
  doctor: 2,
  organization: 3,
} as const;
export type RoleName = keyof typeof roles;

export const organizationKinds = {
  hospital: 1,
  insurer: 2,
  laboratory: 3,
  pharmacy: 4,
  research: 5,
} as const;
export type OrganizationKindName = keyof typeof organizationKinds;
export type OrganizationKindCode = (typeof organizationKinds)[OrganizationKindName];

export const recordTypes = {
  consultationNote: 1,
  labResult: 2,
  imaging: 3,
  prescription: 4,
  dischargeSummary: 5,
  immunization: 6,
  allergy: 7,
  patientUpload: 8,
} as const;
export type RecordTypeName = keyof typeof recordTypes;
export type RecordTypeCode = (typeof recordTypes)[RecordTypeName];

function invert<const T extends Record<string, number>>(table: T): { [K in keyof T as T[K]]: K } {
  return Object.fromEntries(Object.entries(table).map(([name, code]) => [code, name])) as never;
}

/** Code -> name lookups (`recordTypeNames[2] === "labResult"`). */
export const recordTypeNames = invert(recordTypes);
export const organizationKindNames = invert(organizationKinds);
export const roleNames = invert(roles);

/** Scope names held in a mask (`scopeNames(3)` -> ["READ_RECORDS", "WRITE_RECORDS"]). */
export function scopeNames(mask: number): ScopeName[] {
  return (Object.keys(scopes) as ScopeName[]).filter((name) => (mask & scopes[name]) !== 0);
}

/** Rules the contracts enforce, mirrored for callers that validate before sending. */
export const limits = {
  MAX_POINTER_LENGTH: 512,
  MAX_EMERGENCY_DURATION: 24 * 60 * 60,
  MAX_ALERT_RECIPIENTS: 10,
  MAX_READINGS_PER_BATCH: 100,
  MAX_PRESSURE: 300,
  MAX_READING_CLOCK_SKEW: 5 * 60,
} as const;
