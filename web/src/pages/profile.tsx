// My profile: the profile document named by the chain's profileHash (IdentityRegistry.profileHashOf),
// downloaded, refused unless its bytes have that hash, decrypted in this browser with the key derived from
// the wallet's signature; its owner edits it: a new document encrypted here, stored, then `updateProfile`
// with its hash, whose states show until CareChain shows the new hash.
import { identityRegistryAbi } from "@carechain/contracts/abis";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { Address, Hex } from "viem";
import { usePublicClient, useSignMessage } from "wagmi";
import { Notice } from "../components/notice.tsx";
import { WriteStatus } from "../components/write-status.tsx";
import { MyProfileHashQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { deriveEncryptionKey } from "../wallet/encryption-key.ts";
import { walletMessage } from "../wallet/errors.ts";
import { openProfile, type Profile, profileMessage, sealProfile, storeProfile } from "../wallet/profile.ts";
import { useChainWrite } from "../wallet/write.ts";

type Field = [value: string, set: (value: string) => void];

/** A profile's fields in a form (registering, editing): name, contact, and a doctor's specialty. */
export function ProfileFields({
  name,
  contact,
  specialty,
}: {
  name: Field;
  contact: Field;
  specialty?: Field;
}) {
  return (
    <>
      <label>
        Name
        <input value={name[0]} onChange={(e) => name[1](e.target.value)} autoComplete="name" required />
      </label>
      <label>
        Contact (optional)
        <input value={contact[0]} onChange={(e) => contact[1](e.target.value)} autoComplete="email" />
      </label>
      {specialty ? (
        <label>
          Specialty (optional)
          <input value={specialty[0]} onChange={(e) => specialty[1](e.target.value)} />
        </label>
      ) : null}
    </>
  );
}

type Loaded = { profile: Profile; profileHash: Hex };
type LoadState = { step: "busy"; what: string } | { step: "error"; message: string } | { step: "open" };

export default function ProfilePage({ address, isDoctor }: { address: Address; isDoctor: boolean }) {
  const { config, token } = useSession();
  const publicClient = usePublicClient();
  const { signMessageAsync } = useSignMessage();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [load, setLoad] = useState<LoadState>({
    step: "busy",
    what: "Reading your profile's hash on chain…",
  });
  const [loaded, setLoaded] = useState<Loaded>();
  const [name, setName] = useState("");
  const [contact, setContact] = useState("");
  const [specialty, setSpecialty] = useState("");
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [phase, setPhase] = useState<string>();
  const gateway = { gatewayUrl: config.gatewayUrl, token: token ?? "" };

  const sign = useCallback(
    () => deriveEncryptionKey(address, (message) => signMessageAsync({ message })),
    [address, signMessageAsync],
  );

  const show = (next: Loaded) => {
    setLoaded(next);
    setName(next.profile.name);
    setContact(next.profile.contact);
    setSpecialty(next.profile.specialty ?? "");
    setLoad({ step: "open" });
  };

  // Opened once per account and session; the wallet is asked to sign only when this tab has no key yet.
  useEffect(() => {
    let cancelled = false;
    const step = (state: LoadState) => {
      if (!cancelled) setLoad(state);
    };
    void (async () => {
      if (!publicClient || !token) return;
      let profileHash: Hex;
      try {
        profileHash = await publicClient.readContract({
          address: config.contracts.identityRegistry,
          abi: identityRegistryAbi,
          functionName: "profileHashOf",
          args: [address],
        });
      } catch {
        return step({ step: "error", message: "The chain did not answer: try again in a moment." });
      }
      let secretKey: Uint8Array;
      try {
        step({ step: "busy", what: "Waiting for your wallet: sign to unlock your profile's key." });
        ({ secretKey } = await sign());
      } catch (error) {
        return step({ step: "error", message: walletMessage(error) });
      }
      try {
        step({ step: "busy", what: "Downloading, checking and decrypting your profile in your browser…" });
        const profile = await openProfile(gateway, { owner: address, profileHash, secretKey });
        if (!cancelled) show({ profile, profileHash });
      } catch (error) {
        step({ step: "error", message: profileMessage(error) });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [address, token, publicClient]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    setSaved(undefined);
    write.reset();
    if (!token) return;
    if (name.trim().length < 2) return setFormError("Enter your name (at least 2 characters).");
    let publicKey: Hex;
    try {
      ({ publicKey } = await sign());
    } catch (error) {
      return setFormError(walletMessage(error));
    }
    // The licence and its salt stay as registered: the chain's licenceHash does not change with a profile.
    const { license, licenseSalt } = loaded?.profile ?? {};
    const profile: Profile = {
      name: name.trim(),
      contact: contact.trim(),
      ...(isDoctor && specialty.trim() ? { specialty: specialty.trim() } : {}),
      ...(license ? { license } : {}),
      ...(licenseSalt ? { licenseSalt } : {}),
    };
    setPhase("Encrypting your profile in your browser and storing it…");
    const sealed = await sealProfile(profile, { address, encryptionKey: publicKey });
    // Stored before the transaction: the chain never names a document CareChain does not hold.
    try {
      await storeProfile(gateway, { owner: address, sealed });
    } catch (error) {
      return setFormError(`Your profile was not saved: ${profileMessage(error)}`);
    } finally {
      setPhase(undefined);
    }
    const done = await write.run(
      {
        address: config.contracts.identityRegistry,
        abi: identityRegistryAbi,
        functionName: "updateProfile",
        args: [sealed.contentHash, publicKey],
      },
      async () => {
        const me = (await fetchGateway(MyProfileHashQuery, {})).data?.me;
        const indexed = me?.patient?.profileHash ?? me?.doctor?.profileHash ?? me?.organization?.profileHash;
        return indexed?.toLowerCase() === sealed.contentHash;
      },
    );
    if (!done) return;
    show({ profile, profileHash: sealed.contentHash });
    setSaved("Your profile was saved: encrypted for you, stored by CareChain, its hash on chain.");
  };

  return (
    <section aria-labelledby="profile-title">
      <h1 id="profile-title">My profile</h1>
      <p>
        Your profile is a document encrypted for your key alone: CareChain stores the ciphertext, the chain
        only its hash.
      </p>
      {load.step === "busy" ? <Notice kind="info">{load.what}</Notice> : null}
      {load.step === "error" ? <Notice kind="error">{load.message}</Notice> : null}
      {loaded ? (
        <>
          <dl className="profile" data-profile-hash={loaded.profileHash}>
            <dt>Name</dt>
            <dd data-field="name">{loaded.profile.name}</dd>
            <dt>Contact</dt>
            <dd data-field="contact">{loaded.profile.contact || "none"}</dd>
            {isDoctor ? (
              <>
                <dt>Specialty</dt>
                <dd data-field="specialty">{loaded.profile.specialty || "none"}</dd>
                <dt>Licence number</dt>
                <dd data-field="license">{loaded.profile.license ?? "none"}</dd>
              </>
            ) : null}
          </dl>
          <Notice kind="ok">
            <span data-profile="verified">
              Matches the profile hash on chain, downloaded from CareChain and decrypted in your browser.
            </span>
          </Notice>
        </>
      ) : null}
      {load.step !== "busy" ? (
        <form onSubmit={save} aria-labelledby="edit-profile-title">
          <h2 id="edit-profile-title">Edit my profile</h2>
          <ProfileFields
            name={[name, setName]}
            contact={[contact, setContact]}
            specialty={isDoctor ? [specialty, setSpecialty] : undefined}
          />
          <button
            type="submit"
            disabled={phase !== undefined || !["idle", "error", "indexed", "slow"].includes(write.state.step)}
          >
            Save my profile
          </button>
          {formError ? <Notice kind="error">{formError}</Notice> : null}
          {phase ? <Notice kind="info">{phase}</Notice> : null}
          {saved ? <Notice kind="ok">{saved}</Notice> : null}
          <WriteStatus state={write.state} />
        </form>
      ) : null}
    </section>
  );
}
