import "./styles.css";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { WagmiProvider } from "wagmi";
import { App } from "./app.tsx";
import { parseRuntimeConfig } from "./runtime-config.ts";
import { SessionProvider } from "./session.tsx";
import { createWagmiConfig } from "./wallet/wagmi.ts";

const root = createRoot(document.getElementById("root")!);

async function start() {
  let config: ReturnType<typeof parseRuntimeConfig>;
  try {
    config = parseRuntimeConfig(await (await fetch("/config.json", { cache: "no-store" })).json());
  } catch {
    root.render(
      <main>
        <h1>CareChain cannot start</h1>
        <p role="alert">The web server gave no configuration (/config.json). Try again in a moment.</p>
      </main>,
    );
    return;
  }
  const wagmiConfig = createWagmiConfig(config);
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 5_000 } } });
  root.render(
    <StrictMode>
      <WagmiProvider config={wagmiConfig}>
        <QueryClientProvider client={queryClient}>
          <SessionProvider config={config}>
            <App />
          </SessionProvider>
        </QueryClientProvider>
      </WagmiProvider>
    </StrictMode>,
  );
}

void start();
