import { identityRegistryAbi } from "@carechain/contracts/abis";
import { type FormEvent, useState } from "react";
import { useAccount, useSignMessage } from "wagmi";
import { Notice } from "../components/notice.tsx";
import { WriteStatus } from "../components/write-status.tsx";
import { MeQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { deriveEncryptionKey } from "../wallet/encryption-key.ts";
import { walletMessage } from "../wallet/errors.ts";
import { hashLicense, hashProfile, keepProfileLocally } from "../wallet/profile.ts";
import { useChainWrite } from "../wallet/write.ts";

/** Register as a patient or a doctor: the profile stays off chain, the chain gets its salted hash. */
export default function RegisterPage({ onRegistered }: { onRegistered: () => void }) {
  const { config } = useSession();
  const { address } = useAccount();
  const { signMessageAsync } = useSignMessage();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [role, setRole] = useState<"patient" | "doctor">("patient");
  const [name, setName] = useState("");
  const [contact, setContact] = useState("");
  const [license, setLicense] = useState("");
  const [formError, setFormError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    if (!address) return;
    if (name.trim().length < 2) return setFormError("Enter your name (at least 2 characters).");
    if (role === "doctor" && license.trim().length < 3) return setFormError("Enter your licence number.");
    let publicKey: `0x${string}`;
    try {
      ({ publicKey } = await deriveEncryptionKey((message) => signMessageAsync({ message })));
    } catch (e) {
      return setFormError(walletMessage(e));
    }
    const profile = { name: name.trim(), contact: contact.trim(), ...(role === "doctor" ? { license } : {}) };
    const { hash, salt } = hashProfile(profile);
    keepProfileLocally(address, profile, salt);
    const call =
      role === "patient"
        ? { functionName: "registerPatient", args: [hash, publicKey] }
        : { functionName: "registerDoctor", args: [hash, publicKey, hashLicense(license.trim(), salt)] };
    const done = await write.run(
      { address: config.contracts.identityRegistry, abi: identityRegistryAbi, ...call },
      async () => {
        const answer = await fetchGateway(MeQuery, {});
        return answer.data?.me.role === (role === "patient" ? "PATIENT" : "DOCTOR");
      },
    );
    if (done) onRegistered();
  };

  return (
    <section aria-labelledby="register-title">
      <h1 id="register-title">Register</h1>
      <p>
        This account is not registered yet. Your name and contact stay in this browser: only a salted hash of
        your profile goes on chain.
      </p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>I am</legend>
          <label>
            <input
              type="radio"
              name="role"
              checked={role === "patient"}
              onChange={() => setRole("patient")}
            />{" "}
            a patient
          </label>
          <label>
            <input type="radio" name="role" checked={role === "doctor"} onChange={() => setRole("doctor")} />{" "}
            a doctor
          </label>
        </fieldset>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" required />
        </label>
        <label>
          Contact (optional)
          <input value={contact} onChange={(e) => setContact(e.target.value)} autoComplete="email" />
        </label>
        {role === "doctor" ? (
          <label>
            Licence number
            <input value={license} onChange={(e) => setLicense(e.target.value)} required />
          </label>
        ) : null}
        <button type="submit" disabled={!["idle", "error"].includes(write.state.step)}>
          Register as a {role}
        </button>
      </form>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </section>
  );
}
