// Test fixture for every workspace (@carechain/contracts/testing): fresh contracts on a given chain (anvil) and
// fresh funded accounts registered in any role, to generate real chain activity. Nothing here relies on the
// state of well-known accounts, so test files can share one anvil.
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { identityRegistryAbi, vitalsMonitorAbi } from "../generated/abis.ts";
import { chainFor } from "./chain.ts";
import { type CareChainClient, createCareChainClient } from "./client/client.ts";
import { organizationKinds } from "./codes.ts";
import { deployCareChain } from "./deploy.ts";
import type { Deployment } from "./deployment.ts";
import { randomBytes32 } from "./ids.ts";

export type ActorRole =
  | "patient"
  | "doctor" // registered, not verified
  | "verifiedDoctor"
  | "hospital"
  | "registrar" // a hospital the admin made a registrar
  | "insurer"
  | "laboratory"
  | "pharmacy"
  | "research"
  | "unregistered"; // funded, not registered (e.g. a device)

export type Actor = {
  role: ActorRole;
  address: Address;
  privateKey: Hex;
  account: Account;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** A CareChain client sending as this actor. */
  client: CareChainClient;
  /** The hashes registered (zero-free random values), for assertions. */
  profileHash: Hex;
  encryptionKey: Hex;
};

export type CareChainFixture = {
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  publicClient: PublicClient<Transport, Chain>;
  testClient: TestClient<"anvil", Transport, Chain>;
  /** The deployer: IdentityRegistry owner, itself unregistered (undefined when its key was not given). */
  admin: Actor | undefined;
  /** A fresh funded account, registered as `role` (and verified / made registrar where the role says so). */
  createActor(role: ActorRole): Promise<Actor>;
  /** `count` actors of one role, registered in parallel. */
  createActors(role: ActorRole, count: number): Promise<Actor[]>;
  /** A fresh funded device account, authorized by `patient`. */
  createDevice(patient: Actor): Promise<Actor>;
  /** A client for any key (e.g. one the test funded itself). */
  clientFor(privateKey: Hex): CareChainClient;
  /** Moves the chain clock forward (evm_increaseTime) and mines a block. Affects everyone on this chain. */
  increaseTime(seconds: number): Promise<void>;
  /** Timestamp of the latest block. */
  now(): Promise<bigint>;
};

const POLLING_MS = 50;
const DEFAULT_BALANCE = parseEther("100");

function organizationKindOf(role: ActorRole): number | undefined {
  switch (role) {
    case "hospital":
    case "registrar":
      return organizationKinds.hospital;
    case "insurer":
      return organizationKinds.insurer;
    case "laboratory":
      return organizationKinds.laboratory;
    case "pharmacy":
      return organizationKinds.pharmacy;
    case "research":
      return organizationKinds.research;
    default:
      return undefined;
  }
}

/** Deploys a fresh set of contracts (from a fresh funded deployer) and returns the fixture around them. */
export async function deployFixture(
  rpcUrl: string,
  options: { deploymentsDir?: string | false } = {},
): Promise<CareChainFixture> {
  const publicClient = createPublicClient({ transport: http(rpcUrl), pollingInterval: POLLING_MS });
  const chainId = await publicClient.getChainId();
  const chain = chainFor(chainId, rpcUrl);
  const testClient = createTestClient({
    mode: "anvil",
    chain,
    transport: http(rpcUrl),
    pollingInterval: POLLING_MS,
  });
  const adminKey = generatePrivateKey();
  await testClient.setBalance({ address: privateKeyToAccount(adminKey).address, value: DEFAULT_BALANCE });
  const deployment = await deployCareChain({
    rpcUrl,
    privateKey: adminKey,
    deploymentsDir: options.deploymentsDir ?? false,
    pollingIntervalMs: POLLING_MS,
  });
  return fixtureFor({ rpcUrl, deployment, adminPrivateKey: adminKey });
}

/**
 * A fixture around an existing deployment. Without the admin's key, "registrar" and "verifiedDoctor" actors
 * cannot be made.
 */
export async function fixtureFor(options: {
  rpcUrl: string;
  deployment: Deployment;
  adminPrivateKey?: Hex;
}): Promise<CareChainFixture> {
  const { rpcUrl, deployment } = options;
  const chain = chainFor(deployment.chainId, rpcUrl);
  const transport = http(rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_MS });
  const testClient = createTestClient({ mode: "anvil", chain, transport, pollingInterval: POLLING_MS });
  const identityAddress = deployment.contracts.IdentityRegistry.address;

  const makeActor = (role: ActorRole, privateKey: Hex): Actor => {
    const account = privateKeyToAccount(privateKey);
    const walletClient = createWalletClient({ account, chain, transport, pollingInterval: POLLING_MS });
    return {
      role,
      address: account.address,
      privateKey,
      account,
      walletClient,
      client: createCareChainClient({
        publicClient,
        walletClient,
        deployment,
        pollingIntervalMs: POLLING_MS,
      }),
      profileHash: randomBytes32(),
      encryptionKey: randomBytes32(),
    };
  };

  const confirm = async (hashes: Hex[], what: string) => {
    const receipts = await Promise.all(
      hashes.map((hash) => publicClient.waitForTransactionReceipt({ hash, pollingInterval: POLLING_MS })),
    );
    const failed = receipts.find((r) => r.status !== "success");
    if (failed) throw new Error(`fixture: ${what} reverted (transaction ${failed.transactionHash})`);
  };

  const admin = options.adminPrivateKey ? makeActor("unregistered", options.adminPrivateKey) : undefined;

  // Sends from one account are serialized (nonce read + sends), so concurrent createActor calls that share the
  // admin or the registrar do not reuse nonces; the confirmations still overlap.
  const sendQueues = new Map<Address, Promise<unknown>>();

  /** Sends calls from one actor with consecutive nonces, then waits for them together. */
  const sendFrom = async (
    from: Actor,
    calls: { functionName: string; args: readonly unknown[] }[],
    what: string,
  ) => {
    const previous = sendQueues.get(from.address) ?? Promise.resolve();
    const sending = previous.then(async () => {
      let nonce = await publicClient.getTransactionCount({ address: from.address, blockTag: "pending" });
      const hashes: Hex[] = [];
      for (const call of calls) {
        hashes.push(
          await from.walletClient.writeContract({
            address: identityAddress,
            abi: identityRegistryAbi,
            functionName: call.functionName as "verifyDoctor",
            args: call.args as [Address],
            nonce: nonce++,
          }),
        );
      }
      return hashes;
    });
    sendQueues.set(
      from.address,
      sending.catch(() => undefined),
    );
    await confirm(await sending, what);
  };

  let registrar: Promise<Actor> | undefined;
  const getRegistrar = () => {
    registrar ??= (async () => {
      if (!admin)
        throw new Error("fixture: registrars and verified doctors need the admin's key (adminPrivateKey)");
      const [hospital] = await register("hospital", 1);
      await sendFrom(
        admin,
        [{ functionName: "setRegistrar", args: [hospital!.address, true] }],
        "setRegistrar",
      );
      return { ...hospital!, role: "registrar" as const };
    })();
    return registrar;
  };

  async function register(role: ActorRole, count: number): Promise<Actor[]> {
    const actors = Array.from({ length: count }, () => makeActor(role, generatePrivateKey()));
    await Promise.all(
      actors.map((a) => testClient.setBalance({ address: a.address, value: DEFAULT_BALANCE })),
    );
    if (role === "unregistered") return actors;
    const hashes = await Promise.all(
      actors.map((a) => {
        const base = { address: identityAddress, abi: identityRegistryAbi, nonce: 0 } as const;
        if (role === "patient") {
          return a.walletClient.writeContract({
            ...base,
            functionName: "registerPatient",
            args: [a.profileHash, a.encryptionKey],
          });
        }
        if (role === "doctor" || role === "verifiedDoctor") {
          return a.walletClient.writeContract({
            ...base,
            functionName: "registerDoctor",
            args: [a.profileHash, a.encryptionKey, randomBytes32()],
          });
        }
        return a.walletClient.writeContract({
          ...base,
          functionName: "registerOrganization",
          args: [organizationKindOf(role)!, a.profileHash, a.encryptionKey],
        });
      }),
    );
    await confirm(hashes, `registering ${count} ${role}(s)`);
    return actors;
  }

  async function createActors(role: ActorRole, count: number): Promise<Actor[]> {
    if (count <= 0) return [];
    if (role === "registrar") {
      if (!admin) throw new Error("fixture: registrars need the admin's key (adminPrivateKey)");
      const hospitals = await register("hospital", count);
      await sendFrom(
        admin,
        hospitals.map((h) => ({ functionName: "setRegistrar", args: [h.address, true] })),
        "setRegistrar",
      );
      return hospitals.map((h) => ({ ...h, role }));
    }
    const [actors, verifier] = await Promise.all([
      register(role, count),
      role === "verifiedDoctor" ? getRegistrar() : undefined,
    ]);
    if (verifier) {
      await sendFrom(
        verifier,
        actors.map((d) => ({ functionName: "verifyDoctor", args: [d.address] })),
        "verifyDoctor",
      );
    }
    return actors;
  }

  return {
    rpcUrl,
    chainId: deployment.chainId,
    deployment,
    publicClient,
    testClient,
    admin,
    createActors,
    createActor: async (role) => (await createActors(role, 1))[0]!,
    createDevice: async (patient) => {
      const [device] = await register("unregistered", 1);
      const hash = await patient.walletClient.writeContract({
        address: deployment.contracts.VitalsMonitor.address,
        abi: vitalsMonitorAbi,
        functionName: "authorizeDevice",
        args: [device!.address],
      });
      await confirm([hash], "authorizeDevice");
      return device!;
    },
    clientFor: (privateKey) => makeActor("unregistered", privateKey).client,
    increaseTime: async (seconds) => {
      await testClient.increaseTime({ seconds });
      await testClient.mine({ blocks: 1 });
    },
    now: async () => (await publicClient.getBlock()).timestamp,
  };
}
