// The demo's documents: invented, non-personal texts that the demo encrypts, uploads through the gateway and
// names on chain by their ciphertext's hash (see scenario.ts).
export const demoDocuments = {
  consultation: `Consultation note (CareChain demo)
Reason: routine check-up. Blood pressure 128/82 mmHg, pulse 72/min.
Plan: home blood-pressure monitoring with the connected cuff; review in 3 months.
`,
  consultationAmended: `Consultation note, version 2 (CareChain demo)
Reason: routine check-up. Blood pressure 128/82 mmHg, pulse 72/min.
Plan: home blood-pressure monitoring with the connected cuff; review in 3 months.
Amendment: alert range set to systolic 90-140, diastolic 60-90.
`,
  labResult: `Laboratory result (CareChain demo)
HbA1c 5.4 % (reference < 5.7 %). Fasting glucose 5.1 mmol/L. LDL cholesterol 2.6 mmol/L.
`,
  upload: `Patient upload (CareChain demo)
Vaccination card: tetanus booster 2021, influenza 2025.
`,
  prescription: `Prescription (CareChain demo)
Amlodipine 5 mg, one tablet daily, 90 days.
`,
} as const;

export type DemoDocumentName = keyof typeof demoDocuments;
