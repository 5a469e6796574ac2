/**
 * Compiles contracts/src with the npm `solc` (standard JSON) and writes contracts/generated/:
 *   abis.ts       one `as const` ABI per contract, plus careChainEventsAbi and careChainErrorsAbi
 *   artifacts.ts  creation bytecode per contract, `as const`
 *   abis/<Name>.json  the plain JSON ABIs (for graph-cli)
 * Skips the work when the inputs (sources, compiler, settings, this script) are unchanged.
 *
 * Usage: tsx scripts/compile.ts [--force]
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const contractsDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(contractsDir, "src");
const generatedDir = join(contractsDir, "generated");
const hashFile = join(generatedDir, ".inputs-hash");

/** The deployable contracts, in deployment order. */
export const contractNames = [
  "IdentityRegistry",
  "ConsentManager",
  "RecordRegistry",
  "VitalsMonitor",
] as const;
export type ContractName = (typeof contractNames)[number];

/** Kept in sync with foundry.toml (optimizer, runs, evm_version, via_ir). */
export const compilerSettings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: false,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
} as const;

type AbiParameter = { type: string; name?: string; components?: AbiParameter[]; indexed?: boolean };
type AbiItem = { type: string; name?: string; inputs?: AbiParameter[]; [key: string]: unknown };
type SolcError = { severity: "error" | "warning" | "info"; formattedMessage?: string; message: string };
type SolcOutput = {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { abi: AbiItem[]; evm: { bytecode: { object: string } } }>>;
};

export class CompileError extends Error {
  override name = "CompileError";
}

function listSolidityFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? listSolidityFiles(join(dir, entry.name))
        : entry.name.endsWith(".sol")
          ? [join(dir, entry.name)]
          : [],
    )
    .sort();
}

/** Source unit name for a file under contracts/ ("src/X.sol"), with forward slashes. */
function unitName(file: string): string {
  return relative(contractsDir, file).split(sep).join("/");
}

/** Resolves an import path: files under contracts/, then packages (e.g. @openzeppelin/) from node_modules. */
export function findImport(path: string): { contents: string } | { error: string } {
  const local = join(contractsDir, path);
  if (existsSync(local)) return { contents: readFileSync(local, "utf8") };
  try {
    return { contents: readFileSync(require.resolve(path, { paths: [contractsDir] }), "utf8") };
  } catch {
    return { error: `File not found: ${path} (looked in contracts/ and node_modules)` };
  }
}

function solcVersion(): string {
  return (require("solc") as { version(): string }).version();
}

function inputsHash(files: string[]): string {
  const hash = createHash("sha256");
  hash.update(solcVersion());
  hash.update(JSON.stringify(compilerSettings));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(
    readFileSync(require.resolve("@openzeppelin/contracts/package.json", { paths: [contractsDir] })),
  );
  for (const file of files) hash.update(unitName(file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

function outputsExist(): boolean {
  return (
    existsSync(join(generatedDir, "abis.ts")) &&
    existsSync(join(generatedDir, "artifacts.ts")) &&
    contractNames.every((name) => existsSync(join(generatedDir, "abis", `${name}.json`)))
  );
}

function signature(item: AbiItem): string {
  const type = (p: AbiParameter): string =>
    p.type.startsWith("tuple") ? `(${(p.components ?? []).map(type).join(",")})${p.type.slice(5)}` : p.type;
  return `${item.name}(${(item.inputs ?? []).map(type).join(",")})`;
}

function lowerFirst(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}

/** Writes through a temporary file so that concurrent readers never see half a file. */
function writeAtomic(file: string, contents: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

export function compile(): {
  abis: Record<ContractName, AbiItem[]>;
  bytecodes: Record<ContractName, string>;
} {
  const files = listSolidityFiles(srcDir);
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(
      files.map((file) => [unitName(file), { content: readFileSync(file, "utf8") }]),
    ),
    settings: compilerSettings,
  };
  const solc = require("solc") as { compile(input: string, options: { import: typeof findImport }): string };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new CompileError(
      `solc ${solcVersion()} failed with ${errors.length} error(s):\n\n${errors.map((e) => e.formattedMessage ?? e.message).join("\n")}`,
    );
  }
  for (const warning of (output.errors ?? []).filter((e) => e.severity === "warning")) {
    console.warn(warning.formattedMessage ?? warning.message);
  }
  const abis = {} as Record<ContractName, AbiItem[]>;
  const bytecodes = {} as Record<ContractName, string>;
  for (const name of contractNames) {
    const compiled = output.contracts?.[`src/${name}.sol`]?.[name];
    if (!compiled) throw new CompileError(`solc produced no output for src/${name}.sol:${name}`);
    abis[name] = compiled.abi;
    bytecodes[name] = `0x${compiled.evm.bytecode.object}`;
  }
  return { abis, bytecodes };
}

function writeGenerated(
  abis: Record<ContractName, AbiItem[]>,
  bytecodes: Record<ContractName, string>,
): void {
  const events = new Map<string, AbiItem>();
  const errors = new Map<string, AbiItem>();
  for (const name of contractNames) {
    for (const item of abis[name]) {
      if (item.type === "event") {
        const existing = events.get(item.name!);
        if (existing && signature(existing) !== signature(item)) {
          throw new CompileError(
            `Event name ${item.name} is used with two signatures: ${signature(existing)}, ${signature(item)}`,
          );
        }
        events.set(item.name!, item);
      } else if (item.type === "error") {
        errors.set(signature(item), item);
      }
    }
  }

  const header = "// Generated by contracts/scripts/compile.ts from contracts/src. Do not edit.\n";
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  let abisTs = `${header}\nexport const contractNames = ${json(contractNames)} as const;\n`;
  for (const name of contractNames)
    abisTs += `\nexport const ${lowerFirst(name)}Abi = ${json(abis[name])} as const;\n`;
  abisTs += `\n/** Every event of the CareChain contracts (names are unique across them). */\nexport const careChainEventsAbi = ${json([...events.values()])} as const;\n`;
  abisTs += `\n/** Every custom error of the CareChain contracts, deduplicated by signature. */\nexport const careChainErrorsAbi = ${json([...errors.values()])} as const;\n`;

  let artifactsTs = `${header}\n/** solc ${solcVersion()}, ${JSON.stringify({ ...compilerSettings, outputSelection: undefined })} */\n`;
  for (const name of contractNames) {
    artifactsTs += `export const ${lowerFirst(name)}Bytecode = "${bytecodes[name]}" as const;\n`;
  }
  artifactsTs += `\nexport const bytecodes = {\n${contractNames.map((n) => `  ${n}: ${lowerFirst(n)}Bytecode,`).join("\n")}\n} as const;\n`;

  for (const name of contractNames)
    writeAtomic(join(generatedDir, "abis", `${name}.json`), `${json(abis[name])}\n`);
  writeAtomic(join(generatedDir, "artifacts.ts"), artifactsTs);
  writeAtomic(join(generatedDir, "abis.ts"), abisTs);
}

function main(): void {
  const { force } = parseArgs({ options: { force: { type: "boolean", default: false } } }).values;
  const files = listSolidityFiles(srcDir);
  const hash = inputsHash(files);
  if (!force && outputsExist() && existsSync(hashFile) && readFileSync(hashFile, "utf8").trim() === hash) {
    console.log("[contracts] sources unchanged: generated/ is up to date");
    return;
  }
  const started = Date.now();
  const { abis, bytecodes } = compile();
  writeGenerated(abis, bytecodes);
  writeAtomic(hashFile, `${hash}\n`);
  console.log(
    `[contracts] compiled ${files.length} files with solc ${solcVersion()} in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${relative(process.cwd(), generatedDir) || "."}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof CompileError ? `[contracts] ${error.message}` : error);
    process.exit(1);
  }
}
