import { lazy, type ReactNode, Suspense } from "react";
import { type Address, isAddress } from "viem";
import { useAccount, useDisconnect } from "wagmi";
import { AddressText } from "./components/address.tsx";
import { Notice } from "./components/notice.tsx";
import { MeQuery } from "./graphql/operations.ts";
import { useGatewayQuery } from "./graphql/use-query.ts";
import { ConnectPage, LockedPage } from "./pages/connect.tsx";
import { WrongNetworkPage } from "./pages/network.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { useRoute } from "./router.ts";
import { useSession } from "./session.tsx";

// Pages behind sign-in load on demand: the first page stays small.
const RegisterPage = lazy(() => import("./pages/register.tsx"));
const PatientHome = lazy(() => import("./pages/patient-home.tsx"));
const DoctorHome = lazy(() => import("./pages/doctor-home.tsx"));
const ChartPage = lazy(() => import("./pages/chart.tsx"));
const OrganizationHome = lazy(() => import("./pages/organization-home.tsx"));
const ProfilePage = lazy(() => import("./pages/profile.tsx"));

export function App() {
  const { config, token, signOut } = useSession();
  const account = useAccount();
  const { disconnect } = useDisconnect();
  const leave = () => {
    signOut();
    disconnect();
  };
  let page: ReactNode;
  if (account.status === "connecting" || account.status === "reconnecting") page = <p>Connecting…</p>;
  else if (!account.isConnected) page = <ConnectPage />;
  else if (!account.address) page = <LockedPage onDisconnect={() => disconnect()} />;
  else if (account.chainId !== config.chainId)
    page = <WrongNetworkPage config={config} current={account.chainId} />;
  else if (!token) page = <SignInPage />;
  else page = <SignedIn address={account.address} />;
  return (
    <>
      <header>
        <a href="#/" className="brand">
          CareChain
        </a>
        {account.address ? (
          <span>
            {token ? (
              // White on the header's blue, as the brand link (styles.css's link blue is for the page).
              <a href="#/profile" style={{ color: "#fff" }}>
                My profile
              </a>
            ) : null}{" "}
            <AddressText address={account.address} />{" "}
            <button type="button" onClick={leave}>
              Sign out
            </button>
          </span>
        ) : null}
      </header>
      <main>
        <Suspense fallback={<p>Loading…</p>}>{page}</Suspense>
      </main>
    </>
  );
}

function SignedIn({ address }: { address: Address }) {
  const me = useGatewayQuery(MeQuery, {});
  const route = useRoute();
  const { signOut } = useSession();
  if (me.error) {
    if (me.error.name === "SessionExpiredError") signOut();
    return <Notice kind="error">{me.error.message}</Notice>;
  }
  const role = me.data?.data?.me.role;
  if (!role) return <p>Loading…</p>;
  const chartOf = /^\/patient\/(0x[0-9a-fA-F]{40})$/.exec(route)?.[1];
  if (route === "/profile" && (role === "PATIENT" || role === "DOCTOR" || role === "ORGANIZATION"))
    return <ProfilePage address={address} isDoctor={role === "DOCTOR"} />;
  switch (role) {
    case "NONE":
    case "ANONYMOUS":
      return <RegisterPage onRegistered={() => void me.refetch()} />;
    case "PATIENT":
      return <PatientHome address={address} />;
    case "DOCTOR":
      return chartOf && isAddress(chartOf) ? (
        <ChartPage patient={chartOf} canAddRecords canOpenEmergency />
      ) : (
        <DoctorHome address={address} />
      );
    case "ORGANIZATION":
      return chartOf && isAddress(chartOf) ? (
        <ChartPage patient={chartOf} canAddRecords={false} />
      ) : (
        <OrganizationHome address={address} />
      );
  }
}
