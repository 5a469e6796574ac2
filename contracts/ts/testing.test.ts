import { getStack } from "@carechain/stack/testing";
import { beforeAll, describe, expect, test } from "vitest";
import { organizationKinds, roles } from "./codes.ts";
import { type CareChainFixture, deployFixture, fixtureFor } from "./testing.ts";

let fx: CareChainFixture;

beforeAll(async () => {
  fx = await deployFixture(getStack().rpcUrl);
});

describe("deployFixture", () => {
  test("default: actors of every role are funded and registered as their role says", async () => {
    const [patient, doctor, verified, hospital, registrar, insurer, lab, device] = await Promise.all([
      fx.createActor("patient"),
      fx.createActor("doctor"),
      fx.createActor("verifiedDoctor"),
      fx.createActor("hospital"),
      fx.createActor("registrar"),
      fx.createActor("insurer"),
      fx.createActor("laboratory"),
      fx.createActor("unregistered"),
    ]);
    const identity = patient!.client.read.identityRegistry.read;
    expect(await identity.roleOf([patient!.address])).toBe(roles.patient);
    expect(await identity.profileHashOf([patient!.address])).toBe(patient!.profileHash);
    expect(await identity.roleOf([doctor!.address])).toBe(roles.doctor);
    expect(await identity.isVerifiedDoctor([doctor!.address])).toBe(false);
    expect(await identity.isVerifiedDoctor([verified!.address])).toBe(true);
    expect(await identity.organizationKindOf([hospital!.address])).toBe(organizationKinds.hospital);
    expect(await identity.isRegistrar([hospital!.address])).toBe(false);
    expect(await identity.isRegistrar([registrar!.address])).toBe(true);
    expect(await identity.organizationKindOf([insurer!.address])).toBe(organizationKinds.insurer);
    expect(await identity.organizationKindOf([lab!.address])).toBe(organizationKinds.laboratory);
    expect(await identity.roleOf([device!.address])).toBe(roles.none);
    expect(await fx.publicClient.getBalance({ address: device!.address })).toBeGreaterThan(0n);
  });

  test("args: createActors registers many accounts at once", async () => {
    const doctors = await fx.createActors("verifiedDoctor", 5);
    expect(new Set(doctors.map((d) => d.address)).size).toBe(5);
    for (const doctor of doctors) {
      expect(
        await fx.publicClient.readContract({
          address: fx.deployment.contracts.IdentityRegistry.address,
          abi: doctor.client.read.identityRegistry.abi,
          functionName: "isVerifiedDoctor",
          args: [doctor.address],
        }),
      ).toBe(true);
    }
  });

  test("behavior: createDevice binds a device to the patient; increaseTime moves the chain clock", async () => {
    const patient = await fx.createActor("patient");
    const device = await fx.createDevice(patient);
    expect(await patient.client.read.vitalsMonitor.read.patientOfDevice([device.address])).toBe(
      patient.address,
    );
    const before = await fx.now();
    await fx.increaseTime(5);
    expect(await fx.now()).toBeGreaterThanOrEqual(before + 5n);
  });

  test("error: without the admin key, verified doctors cannot be made", async () => {
    const other = await fixtureFor({ rpcUrl: fx.rpcUrl, deployment: fx.deployment });
    expect(other.admin).toBeUndefined();
    expect((await other.createActor("patient")).role).toBe("patient");
    await expect(other.createActor("verifiedDoctor")).rejects.toThrow(/admin/);
  });
});
