/**
 * Chain activity for ingest's tests and benchmark: a fresh CareChain deployment and many events fast.
 * Every actor is a fresh random account funded with anvil_setBalance, so that tests sharing one anvil never
 * compete for nonces; transactions are signed locally with explicit nonce, gas and fees and sent without
 * waiting for each receipt (anvil automines one block per transaction).
 */
import {
  chainFor,
  type Deployment,
  deployCareChain,
  identityRegistryAbi,
  vitalsMonitorAbi,
  watchedContracts,
} from "@carechain/contracts";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  type PrivateKeyAccount,
  type PublicClient,
  toHex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

// Gas limits close to the real use: anvil packs concurrent transactions by gas limit (30 M a block).
const GAS = 500_000n;
const FEE = 50_000_000_000n; // 50 gwei: above anvil's base fee, whatever the test before did

export class TestChain {
  readonly client: PublicClient;
  private chainId = 0;

  constructor(readonly rpcUrl: string) {
    this.client = createPublicClient({
      transport: http(rpcUrl, { batch: { batchSize: 100, wait: 0 }, maxResponseBodySize: false }),
    });
  }

  /** The chain head now (viem's getBlockNumber caches for seconds by default). */
  async head(): Promise<number> {
    return Number(await this.client.getBlockNumber({ cacheTime: 0 }));
  }

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return (await this.client.request({ method, params } as never)) as T;
  }

  /** A new account with 1000 ETH. */
  async fundedAccount(): Promise<PrivateKeyAccount> {
    const account = privateKeyToAccount(generatePrivateKey());
    await this.rpc("anvil_setBalance", [account.address, toHex(10n ** 21n)]);
    return account;
  }

  /**
   * Signs and sends `calls` from `account` with consecutive nonces, all at once; resolves with the hashes
   * once the last one is mined (and throws if any reverted).
   */
  async sendAll(
    account: PrivateKeyAccount,
    calls: { to?: Address; data: Hex; gas?: bigint }[],
  ): Promise<Hex[]> {
    if (calls.length === 0) return [];
    this.chainId ||= await this.client.getChainId();
    const chain = chainFor(this.chainId, this.rpcUrl);
    const wallet = createWalletClient({ account, chain, transport: http(this.rpcUrl) });
    const nonce = await this.client.getTransactionCount({ address: account.address, blockTag: "pending" });
    const signed = await Promise.all(
      calls.map((call, i) =>
        wallet.signTransaction({
          account,
          chain,
          to: call.to ?? null,
          data: call.data,
          nonce: nonce + i,
          gas: call.gas ?? GAS,
          maxFeePerGas: FEE,
          maxPriorityFeePerGas: 1n,
        }),
      ),
    );
    const hashes: Hex[] = [];
    // In order, in chunks: anvil mines each as it arrives, and a nonce gap would only wait in the pool.
    for (let i = 0; i < signed.length; i += 50) {
      const chunk = signed.slice(i, i + 50);
      hashes.push(...(await Promise.all(chunk.map((tx) => this.rpc<Hex>("eth_sendRawTransaction", [tx])))));
    }
    const last = await this.waitMined(hashes[hashes.length - 1]!);
    const receipts = await Promise.all(
      hashes.slice(-Math.min(hashes.length, 20)).map((hash) => this.client.getTransactionReceipt({ hash })),
    );
    if ([...receipts, last].some((receipt) => receipt.status !== "success"))
      throw new Error("a transaction reverted");
    return hashes;
  }

  /**
   * The receipt of `hash`. anvil automines when transactions arrive, packing those that arrive together;
   * what is left in the pool when arrivals stop waits for the next transaction, so mine it explicitly.
   */
  private async waitMined(hash: Hex) {
    for (let attempt = 0; ; attempt++) {
      const receipt = await this.client.getTransactionReceipt({ hash }).catch(() => null);
      if (receipt) return receipt;
      if (attempt > 600) throw new Error(`transaction ${hash} not mined`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { pending } = await this.rpc<{ pending: Hex }>("txpool_status");
      if (attempt % 4 === 3 && BigInt(pending) > 0n) await this.rpc("evm_mine");
    }
  }

  /** Deploys CareChain from a fresh account (deployCareChain); `deploymentsDir` also writes the file there. */
  async deploy(options: { deploymentsDir?: string } = {}): Promise<Deployment> {
    const privateKey = generatePrivateKey();
    await this.rpc("anvil_setBalance", [privateKeyToAccount(privateKey).address, toHex(10n ** 21n)]);
    return deployCareChain({
      rpcUrl: this.rpcUrl,
      privateKey,
      deploymentsDir: options.deploymentsDir ?? false,
      pollingIntervalMs: 50,
    });
  }

  /** Registers `patient` and authorizes `device` for it: two transactions, two events. */
  registerPatientWithDevice(
    deployment: Deployment,
    patient: PrivateKeyAccount,
    device: PrivateKeyAccount,
  ): ReturnType<TestChain["sendAll"]> {
    const { IdentityRegistry, VitalsMonitor } = deployment.contracts;
    return this.sendAll(patient, [
      {
        to: IdentityRegistry.address,
        data: encodeFunctionData({
          abi: identityRegistryAbi,
          functionName: "registerPatient",
          args: [keccak256(patient.address), keccak256(toHex(`key:${patient.address}`))],
        }),
      },
      {
        to: VitalsMonitor.address,
        data: encodeFunctionData({
          abi: vitalsMonitorAbi,
          functionName: "authorizeDevice",
          args: [device.address],
        }),
      },
    ]);
  }

  /**
   * `patients` fresh patients, each with a device that submits `batches` transactions of `perBatch`
   * readings: patients * (2 + batches * perBatch) events (registration, device authorization, readings).
   */
  async generateReadings(
    deployment: Deployment,
    options: { patients: number; batches: number; perBatch: number },
  ): Promise<{ patients: Address[]; events: number }> {
    const VitalsMonitor = deployment.contracts.VitalsMonitor.address;
    const pairs = await Promise.all(
      Array.from({ length: options.patients }, async () => ({
        patient: await this.fundedAccount(),
        device: await this.fundedAccount(),
      })),
    );
    await Promise.all(
      pairs.map(({ patient, device }) => this.registerPatientWithDevice(deployment, patient, device)),
    );
    // In the past, and the last reading too: the contract refuses readings more than 5 minutes ahead.
    const measuredAt = BigInt(Math.floor(Date.now() / 1000) - 3_600 - options.batches * options.perBatch);
    await Promise.all(
      pairs.map(({ device }) =>
        this.sendAll(
          device,
          Array.from({ length: options.batches }, (_, batch) => ({
            to: VitalsMonitor,
            gas: 100_000n + BigInt(options.perBatch) * 6_000n, // ~4,000 a reading

            data: encodeFunctionData({
              abi: vitalsMonitorAbi,
              functionName: "submitReadings",
              args: [
                Array.from({ length: options.perBatch }, (_, i) => ({
                  measuredAt: measuredAt + BigInt(batch * options.perBatch + i),
                  systolic: 110 + (i % 30),
                  diastolic: 70 + (i % 15),
                })),
              ],
            }),
          })),
        ),
      ),
    );
    return {
      patients: pairs.map(({ patient }) => patient.address.toLowerCase() as Address),
      events: options.patients * (2 + options.batches * options.perBatch),
    };
  }

  /** Every log of the deployment, as the chain holds them now. */
  async logs(deployment: Deployment) {
    return this.client.getLogs({
      address: watchedContracts(deployment).addresses,
      fromBlock: BigInt(deployment.startBlock),
      toBlock: "latest",
    });
  }
}
