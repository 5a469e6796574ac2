import { getStack } from "@carechain/stack/testing";
import { createPublicClient, createWalletClient, http, parseEther, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, test } from "vitest";
import { organizationKinds, recordTypes, scopes } from "../codes.ts";
import {
  CareChainClientError,
  ContractRevertedError,
  InsufficientFundsError,
  NoAccountError,
  WrongChainError,
} from "../errors.ts";
import { hashText, randomBytes32 } from "../ids.ts";
import { type Actor, type CareChainFixture, deployFixture } from "../testing.ts";
import { createCareChainClient } from "./client.ts";

let fx: CareChainFixture;
let patient: Actor;
let doctor: Actor;
let hospital: Actor;

beforeAll(async () => {
  fx = await deployFixture(getStack().rpcUrl);
  [patient, doctor, hospital] = await Promise.all([
    fx.createActor("patient"),
    fx.createActor("verifiedDoctor"),
    fx.createActor("hospital"),
  ]);
});

/** The rejection of `promise`, which must be a ContractRevertedError. */
async function reverted(promise: Promise<unknown>): Promise<ContractRevertedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContractRevertedError);
  return error as ContractRevertedError;
}

describe("createCareChainClient", () => {
  test("default: a write returns hash, block number and the decoded events", async () => {
    const expiresAt = (await fx.now()) + 3600n;
    const result = await patient.client.grantAccess({
      grantee: doctor.address,
      scopes: scopes.READ_RECORDS | scopes.WRITE_RECORDS,
      expiresAt,
    });
    expect(result.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.blockNumber).toBeGreaterThan(0n);
    expect(result.events).toHaveLength(1);
    const [event] = result.events;
    expect(event?.eventName).toBe("AccessGranted");
    expect(event?.args).toEqual({ patient: patient.address, grantee: doctor.address, scopes: 3, expiresAt });
    expect(
      await patient.client.read.consentManager.read.hasAccess([patient.address, doctor.address, 2]),
    ).toBe(true);
  });

  test("behavior: identity actions through the client", async () => {
    const admin = fx.admin!;
    const org = await fx.createActor("unregistered");
    const registered = await org.client.registerOrganization({
      kind: organizationKinds.hospital,
      profileHash: randomBytes32(),
      encryptionKey: randomBytes32(),
    });
    expect(registered.events[0]?.eventName).toBe("OrganizationRegistered");
    await admin.client.setRegistrar({ organization: org.address, enabled: true });
    const newDoctor = await fx.createActor("doctor");
    const verified = await org.client.verifyDoctor({ doctor: newDoctor.address });
    expect(verified.events[0]).toMatchObject({
      eventName: "DoctorVerified",
      args: { doctor: newDoctor.address, registrar: org.address },
    });
    const profileHash = randomBytes32();
    await newDoctor.client.updateProfile({ profileHash, encryptionKey: randomBytes32() });
    expect(await newDoctor.client.read.identityRegistry.read.profileHashOf([newDoctor.address])).toBe(
      profileHash,
    );
    await org.client.revokeDoctorVerification({ doctor: newDoctor.address });
    expect(await org.client.read.identityRegistry.read.isVerifiedDoctor([newDoctor.address])).toBe(false);
  });

  test("error: NoAccountError without a wallet account", async () => {
    const readOnly = createCareChainClient({ publicClient: fx.publicClient, deployment: fx.deployment });
    const error = await readOnly
      .registerPatient({ profileHash: randomBytes32(), encryptionKey: randomBytes32() })
      .catch((e) => e);
    expect(error).toBeInstanceOf(NoAccountError);
    expect(error).toBeInstanceOf(CareChainClientError);
    expect(error.retryable).toBe(false);

    const noAccount = createCareChainClient({
      publicClient: fx.publicClient,
      walletClient: createWalletClient({ transport: http(fx.rpcUrl) }),
      deployment: fx.deployment,
    });
    await expect(noAccount.revokeAccess({ grantee: doctor.address })).rejects.toBeInstanceOf(NoAccountError);
  });

  test("error: WrongChainError names the expected and the actual chain", async () => {
    const otherNetwork = { ...fx.deployment, chainId: 11155111 };
    const client = createCareChainClient({
      publicClient: fx.publicClient,
      walletClient: patient.walletClient,
      deployment: otherNetwork,
    });
    const error = await client.grantAccess({ grantee: hospital.address, scopes: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(WrongChainError);
    expect(error).toMatchObject({ expectedChainId: 11155111, actualChainId: fx.chainId, retryable: false });
    expect(error.shortMessage).toContain("chain 11155111");
  });

  test("error: InsufficientFundsError gives what is needed and what is held", async () => {
    const poor = privateKeyToAccount(generatePrivateKey());
    await fx.testClient.setBalance({ address: poor.address, value: 1000n });
    const client = createCareChainClient({
      publicClient: createPublicClient({ transport: http(fx.rpcUrl) }),
      walletClient: createWalletClient({
        account: poor,
        chain: patient.walletClient.chain,
        transport: http(fx.rpcUrl),
      }),
      deployment: fx.deployment,
    });
    const error = await client
      .registerPatient({ profileHash: randomBytes32(), encryptionKey: randomBytes32() })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InsufficientFundsError);
    expect(error.have).toBe(1000n);
    expect(error.need).toBeGreaterThan(1000n);
    expect(error.need).toBeLessThan(parseEther("1"));
    expect(error.account).toBe(poor.address);
  });

  test("error: custom errors are decoded with their arguments and a readable message", async () => {
    const stranger = await fx.createActor("unregistered");
    const notPatient = await reverted(stranger.client.grantAccess({ grantee: doctor.address, scopes: 1 }));
    expect(notPatient.errorName).toBe("NotAPatient");
    expect(notPatient.args).toEqual([stranger.address]);
    expect(notPatient.shortMessage).toBe(`${stranger.address} is not a registered patient.`);
    expect(notPatient.functionName).toBe("grantAccess");
    expect(notPatient.retryable).toBe(false);

    const scopesError = await reverted(patient.client.grantAccess({ grantee: hospital.address, scopes: 9 }));
    expect(scopesError).toMatchObject({ errorName: "InvalidScopes", args: [9] });

    const admin = await reverted(
      patient.client.setRegistrar({ organization: hospital.address, enabled: true }),
    );
    expect(admin).toMatchObject({ errorName: "OwnableUnauthorizedAccount", args: [patient.address] });

    const noWrite = await reverted(
      hospital.client.addRecord({
        patient: patient.address,
        recordType: recordTypes.labResult,
        contentHash: randomBytes32(),
        storagePointer: "0x01",
      }),
    );
    expect(noWrite).toMatchObject({ errorName: "NoWriteAccess", args: [patient.address, hospital.address] });
    expect(noWrite.shortMessage).toContain("no active write grant");
  });

  test("behavior: records, amendments and the meta-transaction path", async () => {
    const fresh = await fx.createActor("patient");
    await fresh.client.grantAccess({ grantee: doctor.address, scopes: scopes.WRITE_RECORDS });
    const original = await doctor.client.addRecord({
      patient: fresh.address,
      recordType: recordTypes.consultationNote,
      contentHash: randomBytes32(),
      storagePointer: "0xdeadbeef",
    });
    expect(original.events[0]).toMatchObject({
      eventName: "RecordAdded",
      args: {
        recordId: original.recordId,
        version: 1,
        previousRecordId: zeroHash,
        rootRecordId: original.recordId,
      },
    });

    // The doctor signs an amendment; the hospital relays it.
    const signed = await doctor.client.signRecordAuthorization({
      patient: fresh.address,
      recordType: recordTypes.consultationNote,
      contentHash: randomBytes32(),
      storagePointer: "0xbeef",
      previousRecordId: original.recordId,
    });
    expect(signed.authorization.nonce).toBe(0n);
    const relayed = await hospital.client.addRecordBySig(signed);
    expect(relayed.events[0]).toMatchObject({
      eventName: "RecordAdded",
      args: {
        recordId: signed.authorization.recordId,
        author: doctor.address,
        submitter: hospital.address,
        version: 2,
        previousRecordId: original.recordId,
        rootRecordId: original.recordId,
      },
    });

    // Replay: the nonce is spent.
    const replay = await reverted(hospital.client.addRecordBySig(signed));
    expect(replay).toMatchObject({ errorName: "InvalidNonce", args: [doctor.address, 1n] });

    // Signed by someone else than the named author.
    const impostor = await fx.createActor("verifiedDoctor");
    const forged = await impostor.client.signRecordAuthorization({
      patient: fresh.address,
      recordType: recordTypes.prescription,
      contentHash: randomBytes32(),
      storagePointer: "0x01",
      nonce: 1n,
    });
    const wrongSigner = await reverted(
      hospital.client.addRecordBySig({
        ...forged,
        authorization: { ...forged.authorization, author: doctor.address },
      }),
    );
    expect(wrongSigner.errorName).toBe("InvalidSignature");

    // An amendment of a superseded version is refused.
    const superseded = await reverted(
      doctor.client.amendRecord({
        previousRecordId: original.recordId,
        contentHash: randomBytes32(),
        storagePointer: "0x02",
      }),
    );
    expect(superseded).toMatchObject({
      errorName: "AlreadySuperseded",
      args: [original.recordId, signed.authorization.recordId],
    });
    const amended = await fresh.client.amendRecord({
      previousRecordId: signed.authorization.recordId,
      contentHash: randomBytes32(),
      storagePointer: "0x03",
    });
    expect(amended.events[0]).toMatchObject({ args: { version: 3, author: fresh.address } });
  });

  test("behavior: emergency access opens read access only and the patient closes it", async () => {
    const fresh = await fx.createActor("patient");
    const opened = await doctor.client.openEmergencyAccess({
      patient: fresh.address,
      reasonHash: hashText("found unconscious"),
      durationSeconds: 3600,
    });
    expect(opened.events[0]?.eventName).toBe("EmergencyAccessOpened");
    const { consentManager } = doctor.client.read;
    expect(await consentManager.read.hasAccess([fresh.address, doctor.address, scopes.READ_RECORDS])).toBe(
      true,
    );
    expect(await consentManager.read.hasAccess([fresh.address, doctor.address, scopes.WRITE_RECORDS])).toBe(
      false,
    );
    await fresh.client.closeEmergencyAccess({ doctor: doctor.address });
    expect(await consentManager.read.hasAccess([fresh.address, doctor.address, scopes.READ_RECORDS])).toBe(
      false,
    );
    const tooLong = await reverted(
      doctor.client.openEmergencyAccess({
        patient: fresh.address,
        reasonHash: hashText("x"),
        durationSeconds: 86_401,
      }),
    );
    expect(tooLong).toMatchObject({ errorName: "BadEmergencyDuration", args: [86_401n] });
  });

  test("behavior: a device's out-of-range readings raise alerts naming the recipients", async () => {
    const fresh = await fx.createActor("patient");
    const device = await fx.createDevice(fresh);
    await fresh.client.grantAccess({
      grantee: doctor.address,
      scopes: scopes.WRITE_RECORDS | scopes.READ_VITALS,
    });
    await doctor.client.setVitalsRange({
      patient: fresh.address,
      systolicMin: 90,
      systolicMax: 140,
      diastolicMin: 60,
      diastolicMax: 90,
    });
    await fresh.client.setAlertRecipients({ recipients: [doctor.address, hospital.address] });
    const now = await fx.now();
    const single = await device.client.submitReading({ measuredAt: now, systolic: 120, diastolic: 80 });
    expect(single.events.map((e) => e.eventName)).toEqual(["VitalsReported"]);
    const batch = await device.client.submitReadings({
      readings: [
        { measuredAt: now - 120n, systolic: 150, diastolic: 85 },
        { measuredAt: now - 60n, systolic: 118, diastolic: 76 },
      ],
    });
    expect(batch.events.map((e) => e.eventName)).toEqual(["VitalsReported", "VitalsAlert", "VitalsReported"]);
    expect(batch.events[1]?.args).toMatchObject({
      systolic: 150,
      recipients: [doctor.address, hospital.address],
    });

    const invalid = await reverted(
      device.client.submitReading({ measuredAt: now, systolic: 80, diastolic: 90 }),
    );
    expect(invalid).toMatchObject({ errorName: "InvalidReading", args: [80, 90] });
    await fresh.client.revokeDevice({ device: device.address });
    const revoked = await reverted(
      device.client.submitReading({ measuredAt: now, systolic: 120, diastolic: 80 }),
    );
    expect(revoked).toMatchObject({ errorName: "UnknownDevice", args: [device.address] });
  });
});
