import { identityRegistryAbi } from "@carechain/contracts/abis";
import { type OrganizationKindName, organizationKinds } from "@carechain/contracts/codes";
import { type FormEvent, useState } from "react";
import { useAccount, useSignMessage } from "wagmi";
import { Notice } from "../components/notice.tsx";
import { WriteStatus } from "../components/write-status.tsx";
import { MeQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { navigate } from "../router.ts";
import { useSession } from "../session.tsx";
import { deriveEncryptionKey } from "../wallet/encryption-key.ts";
import { walletMessage } from "../wallet/errors.ts";
import { hashLicense, profileMessage, randomSalt, sealProfile, storeProfile } from "../wallet/profile.ts";
import { useChainWrite } from "../wallet/write.ts";
import { ProfileFields } from "./profile.tsx";

type Role = "patient" | "doctor" | "organization";
const roleLabels: Record<Role, string> = {
  patient: "a patient",
  doctor: "a doctor",
  organization: "an organization (a hospital, an insurer…)",
};
const withArticle = (word: string) => `${/^[aeiou]/.test(word) ? "an" : "a"} ${word}`;

/**
 * Register as a patient, a doctor or an organization (a hospital, an insurer…): the profile is encrypted here
 * for this account's key, the chain gets the ciphertext's hash, then the ciphertext is stored (uploads need a
 * registered account, so it follows the registration; the hash is known before).
 */
export default function RegisterPage({ onRegistered }: { onRegistered: () => void }) {
  const { config, token } = useSession();
  const { address } = useAccount();
  const { signMessageAsync } = useSignMessage();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [role, setRole] = useState<Role>("patient");
  const [kind, setKind] = useState<OrganizationKindName>("hospital");
  const [name, setName] = useState("");
  const [contact, setContact] = useState("");
  const [license, setLicense] = useState("");
  const [specialty, setSpecialty] = useState("");
  const [phase, setPhase] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [notStored, setNotStored] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    if (!address || !token) return;
    if (name.trim().length < 2) return setFormError("Enter your name (at least 2 characters).");
    if (role === "doctor" && license.trim().length < 3) return setFormError("Enter your licence number.");
    let publicKey: `0x${string}`;
    try {
      ({ publicKey } = await deriveEncryptionKey(address, (message) => signMessageAsync({ message })));
    } catch (e) {
      return setFormError(walletMessage(e));
    }
    const licenseSalt = randomSalt();
    const profile = {
      name: name.trim(),
      contact: contact.trim(),
      ...(role === "doctor"
        ? {
            license: license.trim(),
            licenseSalt,
            ...(specialty.trim() ? { specialty: specialty.trim() } : {}),
          }
        : {}),
    };
    const sealed = await sealProfile(profile, { address, encryptionKey: publicKey });
    const hash = sealed.contentHash;
    const call =
      role === "patient"
        ? { functionName: "registerPatient", args: [hash, publicKey] }
        : role === "doctor"
          ? {
              functionName: "registerDoctor",
              args: [hash, publicKey, hashLicense(license.trim(), licenseSalt)],
            }
          : { functionName: "registerOrganization", args: [organizationKinds[kind], hash, publicKey] };
    const expectedRole = ({ patient: "PATIENT", doctor: "DOCTOR", organization: "ORGANIZATION" } as const)[
      role
    ];
    const done = await write.run(
      { address: config.contracts.identityRegistry, abi: identityRegistryAbi, ...call },
      async () => {
        const answer = await fetchGateway(MeQuery, {});
        return answer.data?.me.role === expectedRole;
      },
    );
    if (!done) return;
    setPhase("Storing your encrypted profile…");
    try {
      await storeProfile({ gatewayUrl: config.gatewayUrl, token }, { owner: address, sealed });
    } catch (error) {
      // Registered, but the chain names a document CareChain does not hold: My profile saves it again.
      return setNotStored(profileMessage(error));
    } finally {
      setPhase(undefined);
    }
    onRegistered();
  };

  return (
    <section aria-labelledby="register-title">
      <h1 id="register-title">Register</h1>
      <p>
        This account is not registered yet. Your profile is encrypted in this browser for your key alone and
        stored as a document: only the encrypted document's hash goes on chain.
      </p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>I am</legend>
          {(Object.keys(roleLabels) as Role[]).map((value) => (
            <label key={value}>
              <input type="radio" name="role" checked={role === value} onChange={() => setRole(value)} />{" "}
              {roleLabels[value]}
            </label>
          ))}
        </fieldset>
        {role === "organization" ? (
          <label>
            Kind of organization
            <select value={kind} onChange={(e) => setKind(e.target.value as OrganizationKindName)}>
              {(Object.keys(organizationKinds) as OrganizationKindName[]).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <ProfileFields
          name={[name, setName]}
          contact={[contact, setContact]}
          specialty={role === "doctor" ? [specialty, setSpecialty] : undefined}
        />
        {role === "doctor" ? (
          <label>
            Licence number
            <input value={license} onChange={(e) => setLicense(e.target.value)} required />
          </label>
        ) : null}
        <button type="submit" disabled={phase !== undefined || !["idle", "error"].includes(write.state.step)}>
          Register as {withArticle(role === "organization" ? kind : role)}
        </button>
      </form>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      {phase ? <Notice kind="info">{phase}</Notice> : null}
      <WriteStatus state={write.state} />
      {notStored ? (
        <Notice kind="error">
          You are registered, but your profile document was not stored: {notStored} The chain already names
          its hash, so save your profile again in My profile to store it.{" "}
          <button
            type="button"
            onClick={() => {
              navigate("/profile");
              onRegistered();
            }}
          >
            Open My profile
          </button>
        </Notice>
      ) : null}
    </section>
  );
}
